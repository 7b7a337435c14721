"""The webhook reviews Gateway API kinds and IngressClasses with the same rules as the CLI."""

from __future__ import annotations

from reviews import admission_review

from kexlint.config import parse_config
from kexlint.engine import Engine
from kexlint.registry import builtin_rules, rules_by_id
from kexlint.webhook.admission import Settings, review_outcome

GATEWAY = {
    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
    "metadata": {"name": "public", "namespace": "infra"},
    "spec": {"gatewayClassName": "envoy", "listeners": [
        {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "raw", "protocol": "TCP", "port": 80},
    ]},
}
INGRESS_CLASS = {
    "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
    "spec": {"controller": "k8s.io/ingress-nginx"},
}


def _review(obj: dict, namespace: str):
    engine = Engine(builtin_rules(), parse_config({}, "-", set(rules_by_id())))
    return review_outcome(admission_review("CREATE", obj, namespace=namespace), engine, Settings())


def test_a_gateway_is_reviewed_and_denied_for_its_listener_conflict() -> None:
    outcome = _review(GATEWAY, "infra")
    response = outcome.body["response"]
    assert response["allowed"] is False and response["status"]["code"] == 403
    assert "gateway-listener-conflict: /spec/listeners/1:" in response["status"]["message"]
    warnings = "\n".join(response.get("warnings", []))
    assert "gateway-tls" in warnings and "gateway-allowed-routes" in warnings


def test_a_cluster_scoped_ingress_class_is_reviewed() -> None:
    outcome = _review(INGRESS_CLASS, "")
    response = outcome.body["response"]
    assert response["allowed"] is True
    assert any("ingress-nginx-retired" in w for w in response["warnings"])
