"""Every route into a pod, as a new user tries it: the cases issue 10 saw give findings, from the CLI,
and cross-object rules take context objects (cluster state) as the contract says."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

from kexlint.config import parse_config
from kexlint.engine import Engine, objects_of
from kexlint.lint import Linter
from kexlint.loader import read_documents
from kexlint.registry import builtin_rules, rules_by_id

SEEN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: shop}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: shop, image: "shop:1.0", ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: shop}
spec:
  selector: {app: shopp}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: ["*.example.com"], secretName: wildcard}]
  rules:
  - host: shop.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}]
  - host: "*.example.com"
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: promo, namespace: marketing}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: promo}]
  rules:
  - host: shop.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: promo, port: {number: 80}}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  gatewayClassName: envoy
  listeners: [{name: http, protocol: HTTP, port: 80}]
"""


def kexlint(*args: str, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kexlint", "--no-config", *args], input=stdin,
                          capture_output=True, check=False)


def test_what_the_issue_saw_is_found() -> None:
    proc = kexlint("-f", "json", "--stdin-filename", "seen.yaml", "-", stdin=SEEN.encode())
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found = {(f["rule"], f["line"], f["object"]["name"]) for f in report["findings"]}
    assert ("ingress-conflict", 27, "shop") in found and ("ingress-conflict", 41, "promo") in found
    assert ("ingress-wildcard-host", 28, "shop") in found
    assert ("dangling-ingress", 30, "shop") in found
    assert ("dangling-service", 15, "shop") in found
    assert ("gateway-tls", 48, "public") in found
    conflict = next(f for f in report["findings"] if f["rule"] == "ingress-conflict" and f["line"] == 27)
    assert "Ingress marketing/promo (seen.yaml:41)" in conflict["message"]


def _objects(text: str, source: str = "x.yaml"):
    for doc in read_documents(text, source):
        yield from objects_of(doc)


def _engine() -> Engine:
    return Engine(builtin_rules(), parse_config({}, "-", set(rules_by_id())))


INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: NAME, namespace: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: shop}]
  rules:
  - host: shop.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: NAME, namespace: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80}]
"""


def test_context_objects_count_but_are_never_reported_on() -> None:
    run = _engine().run()
    (linted,) = _objects(INGRESS.replace("NAME", "new"), "new.yaml")
    assert not [f for f in run.lint_object(linted) if f.rule in ("ingress-conflict", "dangling-ingress")]
    for text in (INGRESS.replace("NAME", "old"), SERVICE.replace("NAME", "other")):
        (obj,) = _objects(text)
        run.add_context(obj, where="in the cluster")
    findings = {f.rule: f for f in run.finish()}
    # The cluster's Ingress takes the same host and path; the cluster's Services lack "shop".
    assert findings["ingress-conflict"].object.name == "new"
    assert "Ingress shop/old (in the cluster)" in findings["ingress-conflict"].message
    assert findings["ingress-conflict"].file == "new.yaml" and findings["ingress-conflict"].line == 10
    assert findings["dangling-ingress"].object.name == "new"
    assert all(f.object.name == "new" for f in findings.values())


def test_a_reapplied_manifest_is_no_conflict_with_itself() -> None:
    run = _engine().run()
    (linted,) = _objects(INGRESS.replace("NAME", "shop"))
    (same,) = _objects(INGRESS.replace("NAME", "shop").replace("path: /,", "path: /x,"))
    (service,) = _objects(SERVICE.replace("NAME", "shop"))
    run.lint_object(linted)
    run.add_context(same)
    run.add_context(service)
    assert [f for f in run.finish() if f.rule in ("ingress-conflict", "dangling-ingress")] == []


def test_facts_are_small_and_travel_between_runs() -> None:
    """A worker ships its facts, not its documents, and the parent concludes over both."""
    engine = _engine()
    worker, parent = engine.run(), engine.run()
    (a,) = _objects(INGRESS.replace("NAME", "a"), "a.yaml")
    (b,) = _objects(INGRESS.replace("NAME", "b"), "b.yaml")
    worker.lint_object(a)
    parent.lint_object(b)
    parent.merge_facts(pickle.loads(pickle.dumps(worker.facts)))
    conflicts = [f for f in parent.finish() if f.rule == "ingress-conflict"]
    assert sorted((f.file, f.object.name) for f in conflicts) == [("a.yaml", "a"), ("b.yaml", "b")]


def test_only_what_the_set_shows_is_judged(tmp_path: Path) -> None:
    """A set without the namespace's Services or workloads says nothing about references into it."""
    (tmp_path / "ingress.yaml").write_text(INGRESS.replace("NAME", "shop"))
    linter = Linter(_engine())
    linter.lint_path(str(tmp_path / "ingress.yaml"))
    assert not [f for f in linter.finish().findings if f.rule.startswith("dangling")]


def test_objects_without_namespace_share_one_only_within_their_file(tmp_path: Path) -> None:
    """kubectl -n decides where a namespace-less manifest lands: two files need not share one."""
    ingress = INGRESS.replace("NAME", "web").replace("  namespace: shop\n", "").replace(", namespace: shop}", "}")
    service = SERVICE.replace("NAME", "other").replace(", namespace: shop}", "}")
    (tmp_path / "apart").mkdir()
    (tmp_path / "apart" / "ingress.yaml").write_text(ingress)
    (tmp_path / "apart" / "service.yaml").write_text(service)
    (tmp_path / "together.yaml").write_text(ingress + "---\n" + service)
    for path, expected in (("apart", 0), ("together.yaml", 1)):
        linter = Linter(_engine())
        linter.lint_path(str(tmp_path / path))
        found = [f for f in linter.finish().findings if f.rule == "dangling-ingress"]
        assert len(found) == expected, (path, found)


def test_a_bad_allow_list_is_an_input_error_naming_the_param(tmp_path: Path) -> None:
    config = tmp_path / ".kexlint.yaml"
    config.write_text("rules:\n  external-ips:\n    params:\n      allowed-cidrs: [10.0.0.0/33]\n")
    manifest = tmp_path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: vip}\nspec:\n"
                        "  ports: [{port: 80}]\n  externalIPs: [192.0.2.1]\n")
    proc = subprocess.run([sys.executable, "-m", "kexlint", "-c", str(config), str(manifest)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "param allowed-cidrs: '10.0.0.0/33' is not a CIDR" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_crashing_conclusion_is_one_line_and_the_others_still_conclude(monkeypatch, tmp_path: Path) -> None:
    """A bug in one cross-object rule must not hide the other rules' findings nor print a traceback."""
    from kexlint.checks import route_conflict

    def broken(groups, params, settings):
        raise KeyError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(route_conflict, "conclude", broken)
    (tmp_path / "x.yaml").write_text(INGRESS.replace("NAME", "a") + "---\n" + INGRESS.replace("NAME", "b"))
    linter = Linter(_engine())
    linter.lint_path(str(tmp_path / "x.yaml"))
    result = linter.finish()
    assert [p.message for p in result.problems] == [
        "rule route-conflict failed on the linted set: KeyError: 'boom'"]
    assert sum(f.rule == "ingress-conflict" for f in result.findings) == 2


def test_host_and_path_matching_as_the_specs_define_them() -> None:
    from kexlint.checks.gateway_listener_conflict import Listener, clash
    from kexlint.checks.routing import ingress_host_covers, normalize_prefix

    # Ingress: a wildcard is exactly one DNS label; names compare case-insensitively.
    assert ingress_host_covers("*.foo.com", "bar.foo.com")
    assert not ingress_host_covers("*.foo.com", "baz.bar.foo.com")
    assert not ingress_host_covers("*.foo.com", "foo.com")
    assert ingress_host_covers("Shop.Example.com", "shop.example.com")
    assert not ingress_host_covers("a.foo.com", "*.foo.com")
    # Prefix matching is per path element, a trailing slash ignored.
    assert normalize_prefix("/foo/") == normalize_prefix("/foo") == "/foo"
    assert normalize_prefix("/") == normalize_prefix("//") == "/"
    assert normalize_prefix("/foo") != normalize_prefix("/foobar")
    # Gateway listeners: distinct by port and hostname (HTTP/HTTPS/TLS) or by port (TCP/UDP).
    https = Listener("a", 443, "HTTPS", "a.example.com")
    assert clash(https, Listener("b", 443, "HTTPS", "a.example.com"))
    assert not clash(https, Listener("b", 443, "HTTPS", "b.example.com"))
    assert not clash(https, Listener("b", 443, "TLS", "b.example.com"))
    assert clash(https, Listener("b", 443, "TCP", ""))
    assert clash(Listener("a", 80, "HTTP", ""), Listener("b", 80, "HTTPS", "x.example.com"))
    assert not clash(Listener("a", 53, "UDP", ""), Listener("b", 53, "TCP", ""))
