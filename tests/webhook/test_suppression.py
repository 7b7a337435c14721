"""Where an ignore.kexlint.io/<rule> annotation reaches, and who may write one that counts.

Seen: a DaemonSet admitted thanks to an annotation on its own metadata could never create a Pod (Pods
carry only the template's metadata); and any tenant could write `ignore.kexlint.io/host-network` and be
admitted with no warning, no audit annotation and a log line without rules.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys

import pytest
from recorded import ADMIN, recorded, set_object, with_host_port
from serving import ENV, ROOT
from test_admission import check, make_engine

from kexlint.webhook.admission import review_outcome

REASON = "ingress controller takes 80/443 on every node"
TEMPLATE_NOTE = {"ignore.kexlint.io/host-port": REASON}


def annotate(obj: dict, where: str) -> dict:
    obj = copy.deepcopy(obj)
    metadata = obj["metadata"] if where == "object" else obj["spec"]["template"].setdefault("metadata", {})
    metadata.setdefault("annotations", {}).update(TEMPLATE_NOTE)
    return obj


def untrusted(body: dict) -> dict:
    body["request"]["userInfo"] = copy.deepcopy(ADMIN)
    return body


@pytest.mark.parametrize("where", ["object", "template"])
def test_annotation_on_the_daemonset_or_its_template_suppresses_the_daemonset(where):
    body = recorded("review-v1-daemonset-create-by-kubectl-apply")
    daemon_set = annotate(with_host_port(body["request"]["object"], 80), where)
    response = check(set_object(body, daemon_set))
    assert response["allowed"] is True
    assert response["warnings"][0].startswith(f"kexlint host-port (suppressed: annotation: {REASON}): ")


def test_annotation_on_the_template_reaches_the_pods_made_from_it():
    """The Pod the daemon-set controller makes carries the template's annotations, and so is suppressed
    even when nobody trusts that controller."""
    engine, settings_ = make_engine({"webhook": {"trusted-controllers": []}})
    body = recorded("review-v1-pod-by-daemon-set-controller")
    pod = with_host_port(body["request"]["object"], 80)
    bare = check(set_object(body, pod), engine, settings_)
    assert bare["allowed"] is False
    pod["metadata"]["annotations"] = dict(TEMPLATE_NOTE)
    response = check(set_object(body, pod), engine, settings_)
    assert response["allowed"] is True
    assert json.loads(response["auditAnnotations"]["suppressed"]) == {"host-port": f"annotation: {REASON}"}


def test_cronjob_template_annotation_suppresses_the_cronjob(tmp_path):
    body = recorded("review-v1-cronjob-create-by-kubectl-apply")
    cron_job = with_host_port(body["request"]["object"], 80)
    template = cron_job["spec"]["jobTemplate"]["spec"]["template"]
    template.setdefault("metadata", {})["annotations"] = dict(TEMPLATE_NOTE)
    assert check(set_object(body, cron_job))["allowed"] is True
    # And the CLI agrees on the same object.
    path = tmp_path / "cj.json"
    path.write_text(json.dumps(cron_job))
    out = subprocess.run([sys.executable, "-m", "kexlint", "--no-config", "--show-suppressed", str(path)],
                         env=ENV, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 suppressed" in out.stdout


def test_explain_says_to_put_the_annotation_on_the_pod_template():
    out = subprocess.run([sys.executable, "-m", "kexlint", "explain", "host-port"], env=ENV, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    suppress = " ".join(out.stdout.split("Suppress", 1)[1].split())
    assert "pod template" in suppress and "every Pod its controller creates" in suppress


# --- who may suppress (webhook.suppression) -------------------------------------------------------

def host_network_pod(namespace: str = "default", user: dict | None = None) -> dict:
    body = recorded("review-v1-pod-hostnetwork-defaulted-hostport")
    pod = copy.deepcopy(body["request"]["object"])
    pod["metadata"]["namespace"] = namespace
    pod["metadata"]["annotations"] = {"ignore.kexlint.io/host-network": "because"}
    return set_object(body, pod, namespace=namespace, userInfo=user or copy.deepcopy(ADMIN))


def test_suppression_everywhere_is_the_default_and_still_reported():
    response = check(host_network_pod())
    assert response["allowed"] is True
    assert [w.split(":")[0] for w in response["warnings"]] == ["kexlint host-network (suppressed"]
    assert "suppressed: annotation: because" in response["warnings"][0]
    assert json.loads(response["auditAnnotations"]["suppressed"]) == {"host-network": "annotation: because"}


def test_suppression_nowhere_refuses_the_annotation_and_says_why():
    engine, settings_ = make_engine({"webhook": {"suppression": {"annotations": "nowhere"}}})
    response = check(host_network_pod(), engine, settings_)
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert "annotation ignore.kexlint.io/host-network not honoured: annotations do not suppress in this " \
           "cluster (webhook.suppression)" in message
    # No advertising of an annotation that would not work.
    assert "annotate the object" not in message and "platform team" in message
    assert response["auditAnnotations"]["suppression-refused"] == "host-network"


def test_config_exclusions_still_suppress_when_annotations_do_not():
    engine, settings_ = make_engine({"webhook": {"suppression": {"annotations": "nowhere"}},
                                     "exclude": [{"namespace": "default", "rules": ["host-network"],
                                                  "reason": "node agents"}]})
    response = check(host_network_pod(), engine, settings_)
    assert response["allowed"] is True
    assert json.loads(response["auditAnnotations"]["suppressed"]) == {"host-network": "config: node agents"}
    assert "suppression-refused" not in response["auditAnnotations"]


@pytest.mark.parametrize("policy, namespace, user, allowed", [
    ({"namespaces": ["infra-*"]}, "infra-net", ADMIN, True),
    ({"namespaces": ["infra-*"]}, "default", ADMIN, False),
    ({"users": ["admin"]}, "default", ADMIN, True),
    ({"users": ["system:serviceaccount:argocd:*"]}, "default", ADMIN, False),
    ({"users": ["system:serviceaccount:argocd:*"]}, "default",
     {"username": "system:serviceaccount:argocd:argocd-application-controller", "groups": []}, True),
    ({"groups": ["system:masters"]}, "default", ADMIN, True),
    ({"groups": ["platform"]}, "default", ADMIN, False),
    # Every list given must match: the namespace and the requester.
    ({"namespaces": ["infra-*"], "groups": ["system:masters"]}, "infra-net", ADMIN, True),
    ({"namespaces": ["infra-*"], "groups": ["system:masters"]}, "default", ADMIN, False),
    ({"namespaces": ["infra-*"], "users": ["ci"]}, "infra-net", ADMIN, False),
])
def test_listed_namespaces_users_and_groups(policy, namespace, user, allowed):
    engine, settings_ = make_engine({"webhook": {"suppression": policy}})
    response = check(host_network_pod(namespace, copy.deepcopy(user)), engine, settings_)
    assert response["allowed"] is allowed
    if not allowed:
        message = response["status"]["message"]
        assert "not honoured: annotations suppress only" in message
        assert f"not for {user['username']} in namespace {namespace}" in message


def test_refused_and_suppressed_findings_are_in_the_log_record():
    engine, settings_ = make_engine({"webhook": {"suppression": {"namespaces": ["infra-*"]}}})
    refused = review_outcome(host_network_pod(), engine, settings_)
    assert refused.log_record()["suppressionRefused"] == ["host-network"]
    assert refused.log_record()["rules"] == ["host-network"]
    allowed = review_outcome(host_network_pod("infra-net"), engine, settings_)
    record = allowed.log_record()
    assert record["verdict"] == "warn" and record["suppressed"] == {"host-network": "annotation: because"}


def test_suppressed_findings_are_counted_in_the_metrics_and_logged(tmp_path):
    pytest.importorskip("flask")
    from kexlint.webhook.app import LOGGER, create_app

    config = tmp_path / ".kexlint.yaml"
    config.write_text("webhook:\n  suppression:\n    namespaces: [infra-*]\n")
    client = create_app(config).test_client()
    suppressed = 'kexlint_webhook_suppressed_findings_total{rule="host-network",source="annotation"}'
    refused = 'kexlint_webhook_suppressions_refused_total{rule="host-network"}'
    before = scrape(client)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger(LOGGER).addHandler(handler)
    try:
        assert client.post("/validate", json=host_network_pod("infra-net")).json["response"]["allowed"]
        assert not client.post("/validate", json=host_network_pod("default")).json["response"]["allowed"]
    finally:
        logging.getLogger(LOGGER).removeHandler(handler)
    assert records[0].fields["suppressed"] == {"host-network": "annotation: because"}
    assert records[1].fields["suppressionRefused"] == ["host-network"]
    after = scrape(client)
    assert after[suppressed] - before.get(suppressed, 0) == 1
    assert after[refused] - before.get(refused, 0) == 1


def scrape(client) -> dict[str, float]:
    """Series → value from /metrics (the test process shares one registry across apps)."""
    from kexlint.webhook import metrics

    del client  # /metrics is served on its own port; the exposition is the same text
    text = metrics.exposition().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def test_policy_keys_are_validated(tmp_path):
    config = tmp_path / ".kexlint.yaml"
    config.write_text("webhook:\n  suppression:\n    annotations: everywhere\n    namespaces: [a]\n")
    out = subprocess.run([sys.executable, "-m", "kexlint", "-c", str(config), str(tmp_path)], env=ENV,
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert "webhook/suppression/annotations: 'listed' was expected" in out.stderr
