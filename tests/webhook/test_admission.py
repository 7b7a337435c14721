"""admission.review as a pure function: every verdict asserted on the AdmissionReview it returns."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reviews import admission_review, deployment, pod, service

from kexlint.checks import invalid_spec
from kexlint.config import parse_config
from kexlint.engine import Engine
from kexlint.registry import builtin_rules, rules_by_id
from kexlint.webhook.admission import MAX_WARNING_CHARS, MAX_WARNINGS, Settings, handle, review

# Keys of auditAnnotations get the webhook's name as prefix; what remains must be a qualified name.
AUDIT_KEY = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def make_engine(data: dict | None = None) -> tuple[Engine, Settings]:
    config = parse_config(data or {}, "test.kexlint.yaml", set(rules_by_id()))
    return Engine(builtin_rules(), config), Settings.from_config(config.webhook)


ENGINE, SETTINGS = make_engine()


def check(body: dict, engine: Engine = ENGINE, settings_: Settings = SETTINGS) -> dict:
    status, answer = review(body, engine, settings_)
    assert status == 200
    assert answer["apiVersion"] == body["apiVersion"]
    assert answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == body["request"]["uid"]
    for key in response.get("auditAnnotations", {}):
        assert AUDIT_KEY.match(key), key
    for warning in response.get("warnings", []):
        assert len(warning) <= MAX_WARNING_CHARS and "\n" not in warning
    json.dumps(answer)  # the HTTP layer must be able to send it as is
    return response


def test_clean_pod_is_allowed_without_warnings():
    response = check(admission_review("CREATE", pod()))
    assert response == {"uid": response["uid"], "allowed": True}


def test_violation_is_denied_with_403_and_each_finding_listed():
    obj = pod(host_network=True)
    obj["spec"]["containers"][0]["ports"][0]["hostPort"] = 9090  # ≠ containerPort: also invalid-spec
    response = check(admission_review("CREATE", obj))
    assert response["allowed"] is False
    status = response["status"]
    assert status["code"] == 403 and status["reason"] == "Forbidden"
    assert "Pod default/web" in status["message"]
    assert "host-network: /spec/hostNetwork: hostNetwork: true puts the pod" in status["message"]
    assert "host-port: /spec/containers/0/ports/0/hostPort: hostPort 9090 publishes" in status["message"]
    assert response["auditAnnotations"] == {"findings": "host-network,host-port,invalid-spec",
                                            "denied-rules": "host-network,host-port,invalid-spec"}


def test_findings_below_the_deny_level_are_warnings():
    response = check(admission_review("CREATE", service(type_="LoadBalancer")))
    assert response["allowed"] is True and "status" not in response
    [warning] = response["warnings"]
    assert warning.startswith("kexlint load-balancer-source-ranges: /spec")
    assert response["auditAnnotations"] == {"findings": "load-balancer-source-ranges"}


def test_deny_level_from_config_denies_warnings_too():
    engine, settings_ = make_engine({"webhook": {"deny-level": "warning"}})
    response = check(admission_review("CREATE", service(type_="LoadBalancer")), engine, settings_)
    assert response["allowed"] is False
    assert "load-balancer-source-ranges:" in response["status"]["message"]


def test_denied_and_warned_findings_together():
    svc = service(type_="LoadBalancer", external_ips=["203.0.113.10"])
    response = check(admission_review("CREATE", svc))
    assert response["allowed"] is False
    assert "external-ips: /spec/externalIPs" in response["status"]["message"]
    assert "load-balancer-source-ranges" not in response["status"]["message"]
    assert any("load-balancer-source-ranges" in w for w in response["warnings"])


def test_long_warnings_are_truncated_to_256_characters():
    engine, settings_ = make_engine({"webhook": {"mode": "warn"}})
    obj = pod()
    obj["spec"]["containers"][0]["ports"][0]["protocol"] = "X" * 600
    response = check(admission_review("CREATE", obj), engine, settings_)
    [warning] = response["warnings"]
    assert len(warning) == MAX_WARNING_CHARS and warning.endswith("…")
    assert warning.startswith("kexlint invalid-spec: /spec/containers/0/ports/0/protocol: protocol must be")


def test_many_warnings_are_capped():
    engine, settings_ = make_engine({"webhook": {"mode": "warn"}})
    obj = pod(host_port=1)
    obj["spec"]["containers"] = [{"name": f"c{i}", "image": "x", "ports": [{"containerPort": 80, "hostPort": 100 + i}]}
                                 for i in range(30)]
    response = check(admission_review("CREATE", obj), engine, settings_)
    assert len(response["warnings"]) == MAX_WARNINGS
    assert response["warnings"][-1].startswith("kexlint: 11 more findings")


def test_update_keeps_pre_existing_violations_as_warnings():
    old = pod(host_network=True)
    new = pod(host_network=True, labels={"team": "a"})  # an unrelated edit: a label
    response = check(admission_review("UPDATE", new, old))
    assert response["allowed"] is True
    assert response["warnings"] == [
        "kexlint host-network (pre-existing, not denied): /spec/hostNetwork: hostNetwork: true puts the pod on "
        "the node's network stack: every port it opens is open on the node"]


def test_update_denies_only_new_violations():
    old = pod(host_port=8080)
    new = pod(host_port=8080, host_network=True)
    response = check(admission_review("UPDATE", new, old))
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert "host-network:" in message and "host-port:" not in message
    assert response["auditAnnotations"]["denied-rules"] == "host-network"


def test_scaling_an_existing_workload_is_never_blocked():
    old = deployment(host_port=8080, replicas=2)
    old["spec"]["template"]["spec"]["hostPID"] = True
    old["spec"]["template"]["spec"]["containers"][0]["ports"].append({"containerPort": 9090, "hostPort": 9090})
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    response = check(admission_review("UPDATE", new, old))
    assert response["allowed"] is True
    assert len(response["warnings"]) == 2


def test_update_matches_findings_by_container_name_not_index():
    old = pod(host_port=8080)
    new = pod(host_port=8080)
    # A sidecar inserted in front moves the old container from index 0 to 1.
    new["spec"]["containers"].insert(0, {"name": "proxy", "image": "envoy"})
    response = check(admission_review("UPDATE", new, old))
    assert response["allowed"] is True
    assert response["warnings"][0].startswith("kexlint host-port (pre-existing, not denied): "
                                              "/spec/containers/1/ports/0/hostPort")


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
def test_delete_and_connect_are_allowed_unchecked(operation):
    body = admission_review(operation, None, pod(host_network=True))
    response = check(body)
    assert response == {"uid": body["request"]["uid"], "allowed": True}


def test_v1beta1_is_answered_in_v1beta1():
    body = admission_review("CREATE", pod(host_network=True), api_version="admission.k8s.io/v1beta1")
    response = check(body)
    assert response["allowed"] is False and response["status"]["code"] == 403


def test_dry_run_does_not_change_the_verdict():
    wet = check(admission_review("CREATE", pod(host_network=True), uid="same"))
    dry = check(admission_review("CREATE", pod(host_network=True), dry_run=True, uid="same"))
    assert dry == wet


def test_generate_name_pod_without_namespace_takes_both_from_the_request():
    obj = pod(name=None, namespace=None, generate_name="web-", host_network=True)
    body = admission_review("CREATE", obj, namespace="team-a")
    assert body["request"]["name"] == "" and "namespace" not in obj["metadata"]
    response = check(body)
    assert response["allowed"] is False
    assert response["status"]["message"].startswith("kexlint: Pod team-a/web- has 1 violation")
    assert body["request"]["object"] == obj  # the request is not modified


def test_config_exclusion_by_namespace_uses_the_request_namespace():
    engine, settings_ = make_engine({"exclude": [{"namespace": "kube-*", "rules": ["host-network"],
                                                  "reason": "node agents"}]})
    obj = pod(name=None, namespace=None, generate_name="cni-", host_network=True)
    assert check(admission_review("CREATE", obj, namespace="kube-network"), engine, settings_)["allowed"]
    assert not check(admission_review("CREATE", obj, namespace="apps"), engine, settings_)["allowed"]


def test_suppression_annotation_allows_and_is_still_reported():
    obj = pod(host_network=True, annotations={"ignore.kexlint.io/host-network": "CNI plugin"})
    response = check(admission_review("CREATE", obj))
    assert response["allowed"] is True and "status" not in response
    assert response["warnings"] == [
        "kexlint host-network (suppressed: annotation: CNI plugin): /spec/hostNetwork: hostNetwork: true puts "
        "the pod on the node's network stack: every port it opens is open on the node"]
    assert response["auditAnnotations"] == {"suppressed": '{"host-network":"annotation: CNI plugin"}'}


def test_blank_suppression_reason_does_not_suppress():
    obj = pod(host_network=True, annotations={"ignore.kexlint.io/host-network": "  "})
    assert check(admission_review("CREATE", obj))["allowed"] is False


def test_warn_mode_never_denies():
    engine, settings_ = make_engine({"webhook": {"mode": "warn"}})
    obj = pod(host_port=8080)
    obj["spec"]["hostPID"] = True
    response = check(admission_review("CREATE", service(type_="LoadBalancer", external_ips=["203.0.113.1"])),
                     engine, settings_)
    assert response["allowed"] is True and "status" not in response
    assert [w.split(":")[0] for w in response["warnings"]] == ["kexlint external-ips",
                                                               "kexlint load-balancer-source-ranges"]
    assert "denied-rules" not in response["auditAnnotations"]


@pytest.mark.parametrize("sub_resource", ["status", "scale", "ephemeralcontainers"])
def test_subresources_are_allowed_unchecked(sub_resource):
    body = admission_review("UPDATE", pod(host_network=True), pod(), sub_resource=sub_resource)
    assert check(body) == {"uid": body["request"]["uid"], "allowed": True}


def test_kinds_without_exposure_are_not_reviewed():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"},
                  "data": {"hostNetwork": "true"}}
    body = admission_review("CREATE", config_map)
    assert check(body) == {"uid": body["request"]["uid"], "allowed": True}


def test_custom_workload_with_a_pod_template_is_reviewed():
    rollout = deployment(host_network=True)
    rollout["apiVersion"], rollout["kind"] = "argoproj.io/v1alpha1", "Rollout"
    body = admission_review("CREATE", rollout, kind="Deployment")
    body["request"]["kind"] = {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout"}
    response = check(body)
    assert response["allowed"] is False
    assert "/spec/template/spec/hostNetwork" in response["status"]["message"]


def test_object_without_apiversion_takes_it_from_the_request_kind():
    obj = deployment(host_network=True)
    del obj["apiVersion"]
    response = check(admission_review("CREATE", obj))
    assert response["allowed"] is False


@pytest.mark.parametrize("failure_mode, allowed", [("allow", True), ("deny", False)])
def test_rule_crash_is_answered_per_failure_mode(monkeypatch, failure_mode, allowed):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(invalid_spec, "check", boom)
    engine, settings_ = make_engine({"webhook": {"failure-mode": failure_mode}})
    response = check(admission_review("CREATE", pod()), engine, settings_)
    assert response["allowed"] is allowed
    text = "kexlint could not check this object: rule invalid-spec failed (ZeroDivisionError)"
    if allowed:
        assert response["warnings"] == [f"{text}; allowed by failure-mode allow"]
    else:
        assert response["status"] == {"code": 500, "reason": "InternalError",
                                      "message": f"{text}; denied by failure-mode deny"}


def test_default_failure_mode_allows(monkeypatch):
    monkeypatch.setattr(invalid_spec, "check", lambda *a: 1 / 0)
    assert check(admission_review("CREATE", pod()))["allowed"] is True


BAD_BODIES = [
    ([], "not a JSON object"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}, "expected kind AdmissionReview"),
    ({"apiVersion": "admission.k8s.io/v2", "kind": "AdmissionReview", "request": {"uid": "x"}},
     "unsupported apiVersion"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "has no request"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}},
     "has no uid"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "", "operation": "CREATE"}},
     "has no uid"),
]


@pytest.mark.parametrize("body, error", BAD_BODIES)
def test_bad_reviews_are_400_with_a_json_error(body, error):
    status, answer = review(body, ENGINE, SETTINGS)
    assert status == 400 and answer["code"] == 400
    assert error in answer["error"]


@pytest.mark.parametrize("raw, status, error", [
    (b"{not json", 400, "not JSON"),
    (b"\xff\xfe\x00garbage", 400, "not JSON"),
    (b"", 400, "not JSON"),
    (b" " * (SETTINGS.max_request_bytes + 1), 413, "over the limit"),
])
def test_handle_refuses_unparsable_and_oversized_bodies(raw, status, error):
    outcome = handle(raw, ENGINE, SETTINGS)
    assert outcome.status == status and error in outcome.body["error"]


def test_handle_accepts_a_real_review():
    body = admission_review("CREATE", pod(host_network=True))
    outcome = handle(json.dumps(body).encode(), ENGINE, SETTINGS)
    assert outcome.status == 200 and outcome.verdict == "deny"
    assert outcome.log_record()["rules"] == ["host-network"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(obj=json_values, operation=st.sampled_from(["CREATE", "UPDATE", "DELETE"]), kind=st.sampled_from(
    ["Pod", "Service", "Deployment", "Ingress", "CronJob"]))
def test_any_object_gets_an_answer_never_an_exception(obj, operation, kind):
    body = admission_review("CREATE", pod(), kind=kind)
    body["request"]["operation"] = operation
    body["request"]["object"] = obj
    body["request"]["oldObject"] = obj if operation != "CREATE" else None
    status, answer = review(body, ENGINE, SETTINGS)
    assert status == 200 and isinstance(answer["response"]["allowed"], bool)
