"""What the apiserver writes into an object by itself must not change the verdict.

Seen: a hostNetwork Pod with containerPorts was denied for host-port in the webhook (the apiserver
defaults hostPort to containerPort on Pods) while the CLI found nothing once host-network was
suppressed; `kubectl create service nodeport x --tcp=80:8080 --dry-run=server` was denied for
node-port-range (the placeholder nodePort 32769) while the same command without dry-run succeeded.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from recorded import recorded, set_object
from serving import ENV, ROOT
from test_admission import check, make_engine

SUPPRESSED = {"ignore.kexlint.io/host-network": "node exporter reads the node's interfaces"}


def lint(tmp_path, obj: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "object.json"
    path.write_text(json.dumps(obj))
    return subprocess.run([sys.executable, "-m", "kexlint", "--no-config", "--show-suppressed", "-f", "json",
                           str(path)], env=ENV, cwd=ROOT, capture_output=True, text=True)


def test_defaulted_host_ports_under_host_network_are_one_host_network_finding():
    body = recorded("review-v1-pod-hostnetwork-defaulted-hostport")
    ports = body["request"]["object"]["spec"]["containers"][0]["ports"]
    assert [(p["hostPort"], p["containerPort"]) for p in ports] == [(9100, 9100), (9101, 9101)]
    response = check(body)
    assert response["allowed"] is False
    assert response["auditAnnotations"]["findings"] == "host-network"


@pytest.mark.parametrize("name", ["review-v1-pod-hostnetwork-defaulted-hostport",
                                  "review-v1-deployment-hostnetwork-template-not-defaulted"])
def test_webhook_and_cli_agree_once_host_network_is_suppressed(tmp_path, name):
    """The Pod (defaulted) and its Deployment (not defaulted): allowed by both, found clean by the CLI."""
    body = recorded(name)
    obj = copy.deepcopy(body["request"]["object"])
    obj["metadata"]["annotations"] = dict(SUPPRESSED)
    response = check(set_object(body, obj))
    assert response["allowed"] is True, response
    assert json.loads(response["auditAnnotations"]["suppressed"]) == {
        "host-network": f"annotation: {SUPPRESSED['ignore.kexlint.io/host-network']}"}
    out = lint(tmp_path, obj)
    assert out.returncode == 0, out.stdout
    report = json.loads(out.stdout)
    assert report["findings"] == []
    assert [f["rule"] for f in report["suppressed"]] == ["host-network"]


def test_explicit_host_port_other_than_container_port_is_still_a_host_port():
    body = recorded("review-v1-pod-hostnetwork-defaulted-hostport")
    obj = copy.deepcopy(body["request"]["object"])
    obj["metadata"]["annotations"] = dict(SUPPRESSED)
    obj["spec"]["containers"][0]["ports"][0]["hostPort"] = 9200
    response = check(set_object(body, obj))
    assert response["allowed"] is False
    assert "host-port: /spec/containers/0/ports/0/hostPort: hostPort 9200" in response["status"]["message"]


# --- server-side dry-run -------------------------------------------------------------------------

DRY_RUNS = ["review-v1-service-nodeport-dry-run", "review-v1-service-nodeport-2ports-dry-run",
            "review-v1beta1-service-nodeport-dry-run"]


@pytest.mark.parametrize("name", DRY_RUNS)
def test_dry_run_placeholders_get_the_verdict_of_the_real_request(name):
    body = recorded(name)
    request = body["request"]
    assert request["dryRun"] is True
    node_ports = [p["nodePort"] for p in request["object"]["spec"]["ports"]]
    assert node_ports == [32769 + i for i in range(len(node_ports))]  # outside 30000-32767
    assert request["object"]["spec"]["clusterIP"] == "10.0.0.0"
    dry = check(body)
    assert dry == {"uid": request["uid"], "allowed": True}
    # The real request, as recorded, gets an allocated port: also allowed without a word.
    real = recorded("review-v1-service-nodeport")
    assert check(real) == {"uid": real["request"]["uid"], "allowed": True}


@pytest.mark.parametrize("name", DRY_RUNS)
def test_a_written_out_of_range_node_port_is_denied_in_dry_run_too(name):
    body = recorded(name)
    service = copy.deepcopy(body["request"]["object"])
    service["spec"]["ports"][0]["nodePort"] = 8080
    # managedFields: kubectl-create now owns the nodePort of that port, as when a user writes it.
    [entry] = service["metadata"]["managedFields"]
    key = next(k for k in entry["fieldsV1"]["f:spec"]["f:ports"] if k.startswith("k:"))
    assert json.loads(key[2:]) == {"port": service["spec"]["ports"][0]["port"], "protocol": "TCP"}
    entry["fieldsV1"]["f:spec"]["f:ports"][key]["f:nodePort"] = {}
    response = check(set_object(body, service))
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert "nodePort 8080 is outside the service node port range" in message
    assert "32769" not in message and "32770" not in message


def test_a_written_placeholder_value_is_denied_like_any_out_of_range_port():
    body = recorded("review-v1-service-nodeport-dry-run")
    service = copy.deepcopy(body["request"]["object"])
    ports = service["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:ports"]
    ports['k:{"port":80,"protocol":"TCP"}']["f:nodePort"] = {}
    assert check(set_object(body, service))["allowed"] is False


def test_without_managed_fields_only_the_placeholder_values_are_taken_for_placeholders():
    body = recorded("review-v1-service-nodeport-2ports-dry-run")
    service = copy.deepcopy(body["request"]["object"])
    del service["metadata"]["managedFields"]
    assert check(set_object(body, service))["allowed"] is True
    service["spec"]["ports"][1]["nodePort"] = 8443
    response = check(set_object(body, service))
    assert response["allowed"] is False and "nodePort 8443" in response["status"]["message"]


def test_placeholders_are_dropped_only_on_dry_run():
    body = recorded("review-v1-service-nodeport-dry-run")
    body["request"]["dryRun"] = False
    response = check(body)
    assert response["allowed"] is False and "nodePort 32769" in response["status"]["message"]


def test_dry_run_with_a_node_port_range_that_holds_the_placeholders():
    # A cluster whose range covers 32769 would allocate it for real; the verdict stays allowed.
    engine, settings_ = make_engine({"node-port-range": "30000-40000"})
    assert check(recorded("review-v1-service-nodeport-dry-run"), engine, settings_)["allowed"] is True
