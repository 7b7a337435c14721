"""Property-based: whatever a manifest holds at the fields the rules read, linting never raises and
every finding is complete; whatever bytes reach the loader, only Documents and InputErrors come out."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kexlint.config import Config
from kexlint.engine import Engine
from kexlint.lint import Linter
from kexlint.loader import Document, InputError, decode, read_documents
from kexlint.model import K8sObject, object_ref
from kexlint.registry import builtin_rules

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENGINE = Engine(builtin_rules(), Config())

# Scalars JSON and YAML both carry; floats without nan/inf so that the JSON text is valid JSON.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(["TCP", "UDP", "SCTP", "NodePort", "LoadBalancer", "ClusterIP",
                                           "0.0.0.0/0", "::/0", "10.0.0.0/8", "true", "80", ""]),
)
anything = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def field(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes anything at all."""
    return st.one_of(good, good, anything)


ports = st.integers(0, 70000)
port = st.fixed_dictionaries({"containerPort": field(ports)}, optional={
    "hostPort": field(ports), "protocol": field(st.sampled_from(["TCP", "UDP", "SCTP"])),
    "hostIP": field(st.sampled_from(["", "0.0.0.0", "10.0.0.1"]))})
container = st.fixed_dictionaries({"name": field(st.text(max_size=5))}, optional={
    "ports": field(st.lists(field(port), max_size=4))})
pod_spec = st.fixed_dictionaries({"containers": field(st.lists(field(container), max_size=3))}, optional={
    "hostNetwork": field(st.booleans()), "initContainers": field(st.lists(field(container), max_size=2)),
    "extra": anything})
annotations = field(st.dictionaries(st.sampled_from([
    "ignore.kexlint.io/host-network", "ignore.kexlint.io/host-port", "x",
    "service.beta.kubernetes.io/load-balancer-source-ranges",
    "networking.gke.io/load-balancer-type"]), field(st.text(max_size=12)), max_size=3))
metadata = st.fixed_dictionaries({"name": field(st.text(min_size=1, max_size=8))}, optional={
    "namespace": field(st.text(max_size=5)), "annotations": annotations,
    "labels": field(st.dictionaries(st.sampled_from(["app"]), st.sampled_from(["a", "b", "gw", "web"])))})

pods = st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Pod"), "metadata": metadata,
                              "spec": field(pod_spec)})
deployments = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["apps/v1", "extensions/v1beta1"]),
    "kind": st.sampled_from(["Deployment", "DaemonSet", "StatefulSet"]), "metadata": metadata,
    "spec": field(st.fixed_dictionaries({"template": field(st.fixed_dictionaries({"spec": field(pod_spec)}))}))})
service_port = st.fixed_dictionaries({"port": field(ports)}, optional={
    "nodePort": field(st.integers(0, 40000)), "protocol": field(st.sampled_from(["TCP", "UDP"]))})
services = st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Service"), "metadata": metadata,
                                  "spec": field(st.fixed_dictionaries({}, optional={
                                      "type": field(st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer",
                                                                     "ExternalName"])),
                                      "ports": field(st.lists(field(service_port), max_size=3)),
                                      "loadBalancerSourceRanges": field(st.lists(field(st.sampled_from(
                                          ["0.0.0.0/0", "10.0.0.0/8", "::/0", "bad"])), max_size=3)),
                                      "externalIPs": field(st.lists(field(st.text(max_size=10)), max_size=2))}))})
ingresses = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["networking.k8s.io/v1", "extensions/v1beta1"]), "kind": st.just("Ingress"),
    "metadata": metadata, "spec": field(st.fixed_dictionaries({}, optional={
        "tls": field(st.lists(field(st.fixed_dictionaries({"hosts": field(st.lists(st.text(max_size=5)))})),
                              max_size=2)),
        "rules": anything}))})
# Gateway API and the wiring between objects (selectors, backends, parents), for the cross-object rules.
names = st.sampled_from(["a", "b", "gw", "web"])
listener = st.fixed_dictionaries({"name": field(names), "port": field(st.sampled_from([80, 443, 53, 0])),
                                  "protocol": field(st.sampled_from(["HTTP", "HTTPS", "TLS", "TCP", "UDP", "x"]))},
                                 optional={"hostname": field(st.sampled_from(["a.example.com", "*.example.com"])),
                                           "allowedRoutes": anything})
gateways = st.fixed_dictionaries({
    "apiVersion": st.just("gateway.networking.k8s.io/v1"), "kind": st.sampled_from(["Gateway", "ListenerSet"]),
    "metadata": metadata, "spec": field(st.fixed_dictionaries({"listeners": field(st.lists(field(listener),
                                                                                             max_size=3))},
                                                               optional={"parentRef": anything,
                                                                         "allowedListeners": anything}))})
ref = st.fixed_dictionaries({"name": field(names)}, optional={
    "namespace": field(st.text(max_size=3)), "port": field(ports), "sectionName": field(names),
    "kind": field(st.sampled_from(["Gateway", "ListenerSet", "Service"]))})
route_rule = st.fixed_dictionaries({}, optional={"backendRefs": field(st.lists(field(ref), max_size=2)),
                                                 "matches": anything})
routes = st.fixed_dictionaries({
    "apiVersion": st.just("gateway.networking.k8s.io/v1"),
    "kind": st.sampled_from(["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "ReferenceGrant"]),
    "metadata": metadata, "spec": field(st.fixed_dictionaries({}, optional={
        "parentRefs": field(st.lists(field(ref), max_size=2)), "hostnames": anything,
        "rules": field(st.lists(field(route_rule), max_size=2)), "from": anything, "to": anything}))})
wired_services = st.fixed_dictionaries({
    "apiVersion": st.just("v1"), "kind": st.just("Service"), "metadata": metadata,
    "spec": field(st.fixed_dictionaries({"selector": field(st.dictionaries(st.sampled_from(["app"]), names)),
                                         "ports": field(st.lists(field(st.fixed_dictionaries(
                                             {"port": field(ports)}, optional={"targetPort": field(
                                                 st.one_of(ports, names))})), max_size=2))}))})
objects = st.one_of(pods, deployments, services, ingresses, gateways, routes, wired_services)


def _check_findings(findings: list[Any], from_file: bool) -> None:
    for finding in findings:
        assert finding.rule and finding.level and finding.message and finding.fix
        if from_file:
            assert finding.line >= 1 and finding.column >= 1, finding


@SETTINGS
@given(st.lists(objects, min_size=1, max_size=3), st.booleans())
def test_generated_manifests_lint_cleanly(manifests: list[dict[str, Any]], as_json: bool) -> None:
    linter = Linter(ENGINE)
    if as_json:
        for index, manifest in enumerate(manifests):
            linter.lint_text(json.dumps(manifest, indent=1), f"m{index}.json")
    else:
        linter.lint_text(yaml.safe_dump_all(manifests), "m.yaml")
    result = linter.finish()
    assert result.problems == [], result.problems
    _check_findings(result.findings, from_file=True)


@SETTINGS
@given(objects)
def test_generated_objects_through_the_engine(value: dict[str, Any]) -> None:
    findings = ENGINE.check_object(K8sObject(value, object_ref(value)))
    _check_findings(findings, from_file=False)


yaml_fragments = st.lists(st.sampled_from([
    "a: ", "- ", "&x ", "*x ", "<<: ", "{", "}", "[", "]", ", ", ": ", "? ", "!!int ", "!!python/name:os.x ",
    "!foo ", "'", '"', "|\n", "---\n", "...\n", "\n", "  ", "\t", "#", "%YAML 1.1\n", "hostNetwork: true\n",
    "apiVersion: v1\nkind: Pod\n", "0x1F", "1e3", ".nan", "~", "yes", "\x00", "\ufeff", "é",
]), max_size=30).map("".join)


def _documents_only(text: str, source: str) -> None:
    for item in read_documents(text, source):
        assert isinstance(item, (Document, InputError)), item
        if isinstance(item, Document):
            item.locate(("spec", 0, "a"))


@SETTINGS
@given(st.one_of(yaml_fragments, st.text(max_size=200)), st.sampled_from(["f.yaml", "f.json"]))
def test_loader_text_never_raises(text: str, source: str) -> None:
    _documents_only(text, source)


@SETTINGS
@given(st.binary(max_size=300))
def test_loader_bytes_never_raise(data: bytes) -> None:
    try:
        text = decode(data)
    except InputError:
        return
    _documents_only(text, "f.yaml")
    _documents_only(text, "f.json")


# --- the admission webhook -----------------------------------------------------------------------

admission_requests = st.fixed_dictionaries({
    "uid": st.text(min_size=1, max_size=8),
    "operation": st.sampled_from(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
    "kind": st.one_of(st.sampled_from([{"group": "", "version": "v1", "kind": "Pod"},
                                       {"group": "", "version": "v1", "kind": "Service"},
                                       {"group": "apps", "version": "v1", "kind": "Deployment"},
                                       {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"}]),
                      anything),
    "object": st.one_of(objects, anything),
}, optional={"oldObject": st.one_of(objects, anything), "name": anything, "namespace": anything,
             "dryRun": anything, "subResource": anything})


@SETTINGS
@given(admission_requests, st.sampled_from(["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]),
       st.sampled_from(["enforce", "warn"]), st.sampled_from(["allow", "deny"]))
def test_webhook_always_answers_a_well_formed_review(request: dict[str, Any], api_version: str, mode: str,
                                                      failure_mode: str) -> None:
    from kexlint.webhook.admission import Settings, handle, review

    body = {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}
    settings_ = Settings(mode=mode, failure_mode=failure_mode)
    for status, answer in (review(body, ENGINE, settings_),
                           (lambda o: (o.status, o.body))(handle(json.dumps(body).encode(), ENGINE, settings_))):
        assert status == 200, answer
        assert answer["apiVersion"] == api_version and answer["kind"] == "AdmissionReview"
        response = answer["response"]
        assert response["uid"] == request["uid"]
        assert isinstance(response["allowed"], bool)
        assert all(isinstance(w, str) and w for w in response.get("warnings", []))
        if not response["allowed"]:
            assert isinstance(response["status"]["message"], str) and response["status"]["code"] in (403, 500)
        json.dumps(answer)  # serialisable as the HTTP body


def test_webhook_deep_json_body_is_a_bad_request() -> None:
    from kexlint.webhook.admission import Settings, handle

    outcome = handle(b'{"request": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ENGINE, Settings())
    assert outcome.status == 400 and "nested too deeply" in outcome.body["error"]


def test_webhook_deep_identity_fields_and_object_are_answered() -> None:
    from kexlint.webhook.admission import Settings, review

    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": deep}]}]}}
    for extra in ({"name": deep}, {"namespace": deep}, {"kind": {"group": "", "version": "v1", "kind": deep}}):
        request = {"uid": "u", "operation": "CREATE", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                   "object": pod, **extra}
        status, answer = review({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                 "request": request}, ENGINE, Settings())
        assert status == 200 and answer["response"]["uid"] == "u"
        if extra.get("kind") is None:
            # The object itself is too deep to check: said so, under failure-mode allow.
            assert "nests too deeply to be checked" in answer["response"]["warnings"][0]
