"""Real manifests of public projects (tests/data/public/, sources and commits in its README)
linted as a user would lint them, with every finding pinned: a new false positive, or a lost true
positive, fails here. Each file is linted on its own (gateway-api examples are separate scenarios;
an ingress-nginx deploy.yaml is one whole install), except the folders of TOGETHER, whose files
are applied together; each Gateway API conformance test is also linted on top of the suite's base
manifests, as the suite applies it. Folders of unrelated examples are never linted as one set:
cross-object rules would compare objects that are never applied together (the kind and contour
installs both bind hostPort 80 and 443).
Why each finding is right: /tmp/notes/public-manifests.md, copied into issue 10's closing note."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kexlint.config import parse_config
from kexlint.engine import Engine
from kexlint.lint import Linter, expand_paths
from kexlint.registry import builtin_rules, rules_by_id

DATA = Path(__file__).resolve().parent / "data" / "public"
# kube-prometheus's node-exporter DaemonSet and Service: `kubectl apply -f manifests/`.
TOGETHER = {"prometheus-operator__kube-prometheus"}
# Files of one guide that are applied one after the other, also linted together (each is also
# linted alone): "<folder> (together)" keys in EXPECTED.
GROUPS = {
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing (together)": [
        f"kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing__{name}.yaml"
        for name in ("0-namespaces", "gateway", "site-route", "store-route")],
}
# The conformance suite applies its base (Gateways, backends) first, then one test's manifests.
BASE = "kubernetes-sigs__gateway-api/conformance__base__manifests.yaml"
ON_BASE = "kubernetes-sigs__gateway-api/conformance__tests__"

# (rule, Kind/name, line); a folder's entries also name the file.
EXPECTED: dict[str, list[tuple]] = {
    "flannel-io__flannel/Documentation__kube-flannel.yml": [
        ("deprecated-api", "ClusterRole/flannel", 50),
        ("deprecated-api", "ClusterRoleBinding/flannel", 79),
        ("deprecated-api", "DaemonSet/kube-flannel-ds-amd64", 134),
        ("deprecated-api", "DaemonSet/kube-flannel-ds-arm", 294),
        ("deprecated-api", "DaemonSet/kube-flannel-ds-arm64", 214),
        ("deprecated-api", "DaemonSet/kube-flannel-ds-ppc64le", 374),
        ("deprecated-api", "DaemonSet/kube-flannel-ds-s390x", 454),
        ("deprecated-api", "PodSecurityPolicy/psp.flannel.unprivileged", 2),
        ("host-network", "DaemonSet/kube-flannel-ds-amd64", 149),
        ("host-network", "DaemonSet/kube-flannel-ds-arm", 309),
        ("host-network", "DaemonSet/kube-flannel-ds-arm64", 229),
        ("host-network", "DaemonSet/kube-flannel-ds-ppc64le", 389),
        ("host-network", "DaemonSet/kube-flannel-ds-s390x", 469),
    ],
    "istio__istio/samples__bookinfo__gateway-api__bookinfo-gateway.yaml": [
        ("gateway-tls", "Gateway/bookinfo-gateway", 10),
    ],
    "istio__istio/samples__bookinfo__gateway-api__bookinfo-httproute.yaml": [
        ("deprecated-api", "HTTPRoute/bookinfo", 1),
    ],
    "kubernetes-sigs__gateway-api/conformance__base__manifests.yaml": [
        ("deprecated-api", "Gateway/all-namespaces", 65),
        ("deprecated-api", "Gateway/backend-namespaces", 80),
        ("deprecated-api", "Gateway/same-namespace", 16),
        ("deprecated-api", "Gateway/same-namespace-with-https-listener", 31),
        ("gateway-allowed-routes", "Gateway/all-namespaces", 78),
        ("gateway-tls", "Gateway/all-namespaces", 75),
        ("gateway-tls", "Gateway/backend-namespaces", 90),
        ("gateway-tls", "Gateway/same-namespace", 26),
    ],
    "kubernetes-sigs__gateway-api/conformance__tests__gateway-http-listener-isolation.yaml": [
        ("deprecated-api", "Gateway/http-listener-isolation", 1),
        ("gateway-allowed-routes", "Gateway/http-listener-isolation", 14),
        ("gateway-allowed-routes", "Gateway/http-listener-isolation", 21),
        ("gateway-allowed-routes", "Gateway/http-listener-isolation", 28),
        ("gateway-allowed-routes", "Gateway/http-listener-isolation", 35),
        ("gateway-tls", "Gateway/http-listener-isolation", 11),
        ("gateway-tls", "Gateway/http-listener-isolation", 17),
        ("gateway-tls", "Gateway/http-listener-isolation", 24),
        ("gateway-tls", "Gateway/http-listener-isolation", 31),
    ],
    "kubernetes-sigs__gateway-api/conformance__tests__gateway-https-and-tls-passthrough-same-port.yaml": [],
    "kubernetes-sigs__gateway-api/conformance__tests__gateway-with-attached-routes.yaml": [
        ("deprecated-api", "Gateway/gateway-with-one-attached-route", 1),
        ("deprecated-api", "Gateway/gateway-with-two-attached-routes", 38),
        ("deprecated-api", "Gateway/gateway-with-two-listeners-and-one-attached-route", 90),
        ("deprecated-api", "HTTPRoute/http-route-1", 23),
        ("deprecated-api", "HTTPRoute/http-route-2", 60),
        ("deprecated-api", "HTTPRoute/http-route-3", 75),
        ("deprecated-api", "HTTPRoute/http-route-4", 125),
        ("gateway-tls", "Gateway/gateway-with-one-attached-route", 11),
        ("gateway-tls", "Gateway/gateway-with-two-attached-routes", 48),
        ("gateway-tls", "Gateway/gateway-with-two-listeners-and-one-attached-route", 113),
    ],
    "kubernetes-sigs__gateway-api/conformance__tests__httproute-listener-hostname-matching.yaml": [
        ("deprecated-api", "Gateway/httproute-listener-hostname-matching", 1),
        ("deprecated-api", "HTTPRoute/backend-v1", 31),
        ("deprecated-api", "HTTPRoute/backend-v2", 46),
        ("deprecated-api", "HTTPRoute/backend-v3", 61),
        ("gateway-tls", "Gateway/httproute-listener-hostname-matching", 11),
        ("gateway-tls", "Gateway/httproute-listener-hostname-matching", 18),
        ("gateway-tls", "Gateway/httproute-listener-hostname-matching", 25),
    ],
    "kubernetes-sigs__gateway-api/conformance__tests__httproute-matching-across-routes.yaml": [
        ("deprecated-api", "HTTPRoute/matching-part1", 1),
        ("deprecated-api", "HTTPRoute/matching-part2", 24),
    ],
    "kubernetes-sigs__gateway-api/conformance__tests__httproute-reference-grant.yaml": [
        ("deprecated-api", "HTTPRoute/reference-grant", 16),
        ("deprecated-api", "ReferenceGrant/reference-grant", 1),
    ],
    "kubernetes-sigs__gateway-api/examples__experimental__destination-port-matching-tcp.yaml": [],
    "kubernetes-sigs__gateway-api/examples__experimental__routability__gateways.yaml": [
        ("deprecated-api", "Gateway/cluster-local-gateway", 27),
        ("deprecated-api", "Gateway/private-gateway", 14),
        ("deprecated-api", "Gateway/public-gateway", 1),
        ("gateway-tls", "Gateway/cluster-local-gateway", 37),
        ("gateway-tls", "Gateway/private-gateway", 24),
        ("gateway-tls", "Gateway/public-gateway", 11),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__basic-grpc.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__basic-http.yaml": [
        ("gateway-tls", "Gateway/my-gateway", 22),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__basic-tcp.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing (together)": [],
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing__0-namespaces.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing__gateway.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing__site-route.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__cross-namespace-routing__store-route.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__default-match-http.yaml": [
        ("gateway-tls", "Gateway/default-match-gw", 16),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__frontend-cert-validation.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__gateway-addresses.yaml": [
        ("gateway-tls", "Gateway/gateway-addresses", 22),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__http-redirect-rewrite__gateway-redirect-http-https.yaml": [
        ("gateway-tls", "Gateway/redirect-gateway", 11),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__http-redirect.yaml": [
        ("gateway-tls", "Gateway/my-filter-gateway", 26),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__http-route-attachment__gateway-namespaces.yaml": [
        ("gateway-tls", "Gateway/prod-gateway", 13),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__http-route-attachment__gateway-strict.yaml": [
        ("gateway-tls", "Gateway/foo-gateway", 13),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__listenerset__listenerset.yaml": [
        ("gateway-tls", "Gateway/parent-gateway", 13),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__multicluster__httproute-referencegrant.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__reference-grant.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__simple-http-https__gateway.yaml": [
        ("gateway-tls", "Gateway/example-gateway", 12),
    ],
    "kubernetes-sigs__gateway-api/examples__standard__simple-http-https__tls-redirect-route.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__tls-cert-cross-namespace.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__tls-routing__gateway.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__tls-routing__tls-route.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__traffic-splitting__simple-split.yaml": [],
    "kubernetes-sigs__gateway-api/examples__standard__wildcard-tls-gateway.yaml": [],
    "kubernetes__ingress-nginx/deploy__static__provider__baremetal__deploy.yaml": [
        ("ingress-nginx-retired", "Deployment/ingress-nginx-controller", 331),
    ],
    "kubernetes__ingress-nginx/deploy__static__provider__cloud__deploy.yaml": [
        ("ingress-nginx-retired", "Deployment/ingress-nginx-controller", 439),
        ("ingress-nginx-retired", "IngressClass/nginx", 610),
        ("load-balancer-source-ranges", "Service/ingress-nginx-controller", 366),
    ],
    "kubernetes__ingress-nginx/deploy__static__provider__kind__deploy.yaml": [
        ("host-port", "Deployment/ingress-nginx-controller", 394),
        ("host-port", "Deployment/ingress-nginx-controller", 398),
        ("ingress-nginx-retired", "Deployment/ingress-nginx-controller", 335),
    ],
    "kubernetes__ingress-nginx/docs__examples__auth__oauth-external-auth__dashboard-ingress.yaml": [
        ("deprecated-api", "Ingress/external-auth-oauth2", 1),
        ("deprecated-api", "Ingress/oauth2-proxy", 21),
        ("ingress-tls", "Ingress/external-auth-oauth2", 9),
    ],
    "kubernetes__ingress-nginx/docs__examples__customization__annotations__canaryexamples.yaml": [
        ("dangling-ingress", "Ingress/canary-exmple-com", 44),
        ("dangling-ingress", "Ingress/canary-exmple-com", 81),
        ("dangling-ingress", "Ingress/canary-exmple-com", 127),
        ("dangling-ingress", "Ingress/canary-exmple-com", 174),
        ("dangling-ingress", "Ingress/canary-exmple-com", 230),
        ("dangling-ingress", "Ingress/prod-exmple-com", 20),
        ("ingress-tls", "Ingress/canary-exmple-com", 34),
        ("ingress-tls", "Ingress/canary-exmple-com", 71),
        ("ingress-tls", "Ingress/canary-exmple-com", 117),
        ("ingress-tls", "Ingress/canary-exmple-com", 164),
        ("ingress-tls", "Ingress/canary-exmple-com", 220),
        ("ingress-tls", "Ingress/canary-whoami", 363),
        ("ingress-tls", "Ingress/prod-exmple-com", 11),
        ("ingress-tls", "Ingress/stable-whoami", 330),
        ("ingress-wildcard-host", "Ingress/canary-whoami", 366),
        ("ingress-wildcard-host", "Ingress/stable-whoami", 333),
    ],
    "kubernetes__ingress-nginx/docs__examples__customization__configuration-snippets__ingress.yaml": [
        ("deprecated-api", "Ingress/nginx-configuration-snippet", 1),
        ("ingress-nginx-snippet", "Ingress/nginx-configuration-snippet", 6),
        ("ingress-tls", "Ingress/nginx-configuration-snippet", 8),
    ],
    "kubernetes__ingress-nginx/docs__examples__customization__external-auth-headers__deploy__echo-service.yaml": [
        ("deprecated-api", "Ingress/public-demo-echo-service", 43),
        ("deprecated-api", "Ingress/secure-demo-echo-service", 61),
        ("ingress-tls", "Ingress/public-demo-echo-service", 51),
        ("ingress-tls", "Ingress/secure-demo-echo-service", 69),
    ],
    "kubernetes__ingress-nginx/docs__examples__multi-tls__multi-tls.yaml": [
        ("deprecated-api", "Ingress/foo-tls", 95),
    ],
    "kubernetes__ingress-nginx/docs__examples__static-ip__static-ip-svc.yaml": [
        ("load-balancer-source-ranges", "Service/nginx-ingress-lb", 11),
    ],
    "kubernetes__website/content__en__examples__service__networking__example-ingress.yaml": [
        ("deprecated-api", "Ingress/example-ingress", 1),
        ("ingress-tls", "Ingress/example-ingress", 7),
    ],
    "kubernetes__website/content__en__examples__service__networking__external-lb.yaml": [],
    "kubernetes__website/content__en__examples__service__networking__ingress-resource-backend.yaml": [
        ("ingress-tls", "Ingress/ingress-resource-backend", 8),
        ("ingress-wildcard-host", "Ingress/ingress-resource-backend", 16),
    ],
    "kubernetes__website/content__en__examples__service__networking__ingress-wildcard-host.yaml": [
        ("ingress-tls", "Ingress/ingress-wildcard-host", 8),
        ("ingress-wildcard-host", "Ingress/ingress-wildcard-host", 26),
    ],
    "kubernetes__website/content__en__examples__service__networking__minimal-ingress.yaml": [
        ("ingress-tls", "Ingress/minimal-ingress", 5),
        ("ingress-wildcard-host", "Ingress/minimal-ingress", 8),
    ],
    "kubernetes__website/content__en__examples__service__networking__name-virtual-host-ingress.yaml": [
        ("ingress-tls", "Ingress/name-virtual-host-ingress", 8),
    ],
    "kubernetes__website/content__en__examples__service__networking__nginx-secure-app.yaml": [],
    "kubernetes__website/content__en__examples__service__networking__tls-example-ingress.yaml": [],
    "metallb__metallb/manifests__metallb.yaml": [
        ("deprecated-api", "DaemonSet/speaker", 161),
        ("deprecated-api", "Deployment/controller", 125),
        ("host-network", "DaemonSet/speaker", 179),
    ],
    "metallb__metallb/manifests__tutorial-2.yaml": [
        ("load-balancer-source-ranges", "Service/nginx", 34),
    ],
    "projectcontour__contour/examples__contour__02-service-envoy.yaml": [
        ("load-balancer-source-ranges", "Service/envoy", 26),
    ],
    "projectcontour__contour/examples__contour__03-envoy.yaml": [
        ("host-port", "DaemonSet/envoy", 65),
        ("host-port", "DaemonSet/envoy", 69),
        ("host-port", "DaemonSet/envoy", 73),
    ],
    "prometheus-operator__kube-prometheus": [
        ("host-network", "DaemonSet/node-exporter", 97, "manifests__nodeExporter-daemonset.yaml"),
    ],
}
# What a conformance test shows only on top of BASE, beyond the findings of each alone. The stored
# base (0084b12) predates the TLSRoute tests' tcp-backend Service, so that backendRef is dangling.
ON_BASE_EXPECTED: dict[str, list[tuple]] = {
    "gateway-http-listener-isolation.yaml": [],
    "gateway-https-and-tls-passthrough-same-port.yaml": [
        ("dangling-route", "TLSRoute/gateway-conformance-tls-passthrough", 70, "test"),
    ],
    "gateway-with-attached-routes.yaml": [],
    "httproute-listener-hostname-matching.yaml": [],
    "httproute-matching-across-routes.yaml": [],
    "httproute-reference-grant.yaml": [],
}


def units() -> list[str]:
    """What is linted alone or as one folder, as EXPECTED's keys."""
    found = []
    for project in sorted(p for p in DATA.iterdir() if p.is_dir()):
        found.extend([project] if project.name in TOGETHER else sorted(project.iterdir()))
    return [str(unit.relative_to(DATA)) for unit in found] + list(GROUPS)


def lint(*keys: str) -> Counter:
    """Findings as `kexlint --no-config PATH...` gives them; in a folder or group each finding also
    names its file, and of BASE and a test, "base" or "test"."""
    group = GROUPS.get(keys[0])
    paths = [DATA / key for key in (group or keys)]
    linter = Linter(Engine(builtin_rules(), parse_config({}, "-", set(rules_by_id()))))
    for item in expand_paths([str(path) for path in paths]):
        assert isinstance(item, str), item  # no input problem, nothing skipped
        linter.lint_path(item)
    result = linter.finish()
    assert not result.problems, result.problems

    def label(finding) -> list[str]:
        if group or paths[0].is_dir():
            return [Path(finding.file).name]
        if len(paths) > 1:
            return ["base" if Path(finding.file) == DATA / BASE else "test"]
        return []

    return Counter((f.rule, f"{f.object.kind}/{f.object.name}", f.line, *label(f)) for f in result.findings)


def test_every_unit_is_pinned() -> None:
    assert sorted(units()) == sorted(EXPECTED)
    assert sorted(ON_BASE_EXPECTED) == sorted(k[len(ON_BASE):] for k in EXPECTED if k.startswith(ON_BASE))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_findings(key: str) -> None:
    assert lint(key) == Counter(EXPECTED[key])


@pytest.mark.parametrize("test", sorted(ON_BASE_EXPECTED))
def test_conformance_test_on_base(test: str) -> None:
    """The base's own findings, the test's own findings, and what the two show together."""
    alone = Counter((*finding, "base") for finding in EXPECTED[BASE])
    alone += Counter((*finding, "test") for finding in EXPECTED[ON_BASE + test])
    assert lint(BASE, ON_BASE + test) == alone + Counter(ON_BASE_EXPECTED[test])


def test_readme_names_every_file() -> None:
    """The README is the provenance of the copies: repository, path and commit of each."""
    readme = (DATA / "README.md").read_text()
    listed = {f"{repo.replace('/', '__')}/{path.replace('/', '__')}"
              for repo, path in re.findall(r"^\| (\S+) \| [^|]+ \| `([^`]+)` \| `[0-9a-f]{40}` \|$", readme, re.M)}
    saved = {str(p.relative_to(DATA)) for p in DATA.glob("*/*")}
    assert listed == saved
