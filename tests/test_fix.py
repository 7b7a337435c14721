"""`kexlint fix`: conversions, what must stay byte for byte, CLI behaviour, and read-back of every
fixed manifest by kexlint's own deprecated-api rule and by kubectl's parser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("ruamel.yaml", reason="kexlint fix needs the `fix` extra: pip install -e '.[fix]'")

from kexlint.cli import main  # noqa: E402
from kexlint.fix import Plan, fix_text  # noqa: E402
from kexlint.fix.documents import split_documents  # noqa: E402
from kexlint.registry import rules_by_id  # noqa: E402

KUBECTL = shutil.which("kubectl")


def plan(version: str = "1.36", gateway_api: str | None = None) -> Plan:
    major, minor = map(int, version.split("."))
    release = tuple(map(int, gateway_api.split("."))) if gateway_api else None
    return Plan.from_rule_params(rules_by_id()["deprecated-api"].params["apis"], (major, minor), release)


def fix(text: str, version: str = "1.36") -> str:
    return fix_text(textwrap.dedent(text), plan(version)).text


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# --- Ingress ---------------------------------------------------------------------------------------

INGRESS_OLD = dedent("""\
    # Ingress for the shop, kept by hand
    apiVersion: extensions/v1beta1   # old
    kind: Ingress
    metadata:
      name: shop
      annotations:
        kubernetes.io/ingress.class: "nginx"
    spec:
      backend:
        serviceName: default-http
        servicePort: 80
      tls:
      - hosts: [shop.example.com]
        secretName: shop-tls
      rules:
      - host: shop.example.com
        http:
          paths:
          # the API
          - path: /api
            backend:
              serviceName: api
              servicePort: 8080   # container port
          - path: /web
            backend:
              serviceName: 'web'
              servicePort: http
          - backend:
              serviceName: catchall
              servicePort: "9090"
          - path: /static
            backend:
              resource:
                apiGroup: k8s.example.com
                kind: StorageBucket
                name: static-assets
    """)

INGRESS_NEW = dedent("""\
    # Ingress for the shop, kept by hand
    apiVersion: networking.k8s.io/v1 # old
    kind: Ingress
    metadata:
      name: shop
      annotations:
        kubernetes.io/ingress.class: "nginx"
    spec:
      defaultBackend:
        service:
          name: default-http
          port:
            number: 80
      tls:
      - hosts: [shop.example.com]
        secretName: shop-tls
      rules:
      - host: shop.example.com
        http:
          paths:
          # the API
          - path: /api
            pathType: ImplementationSpecific
            backend:
              service:
                name: api
                port:
                  number: 8080    # container port
          - path: /web
            pathType: ImplementationSpecific
            backend:
              service:
                name: 'web'
                port:
                  name: http
          - pathType: ImplementationSpecific
            backend:
              service:
                name: catchall
                port:
                  number: 9090
          - path: /static
            pathType: ImplementationSpecific
            backend:
              resource:
                apiGroup: k8s.example.com
                kind: StorageBucket
                name: static-assets
    """)


def test_extensions_ingress_all_backend_shapes() -> None:
    # numeric, named and quoted-numeric ports, spec.backend, a path item without `path`, a resource
    # backend; full-line, inline and header comments and quoting stay.
    assert fix(INGRESS_OLD) == INGRESS_NEW


def test_networking_v1beta1_ingress_keeps_four_space_indent_and_flow_style() -> None:
    old = """\
        apiVersion: networking.k8s.io/v1beta1
        kind: Ingress
        metadata:
            name: api
        spec:
            ingressClassName: nginx
            rules:
                - host: api.example.com
                  http:
                      paths:
                          - path: /
                            backend: {serviceName: api, servicePort: 443}
        """
    assert fix(old) == dedent("""\
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
            name: api
        spec:
            ingressClassName: nginx
            rules:
                - host: api.example.com
                  http:
                      paths:
                          - path: /
                            pathType: ImplementationSpecific
                            backend: {service: {name: api, port: {number: 443}}}
        """)


def test_existing_path_type_is_kept() -> None:
    old = """\
        apiVersion: networking.k8s.io/v1beta1
        kind: Ingress
        metadata: {name: a}
        spec:
          rules:
          - http:
              paths:
              - path: /
                pathType: Prefix
                backend: {serviceName: a, servicePort: 80}
        """
    assert "pathType: Prefix\n" in fix(old)
    assert "ImplementationSpecific" not in fix(old)


@pytest.mark.parametrize("backend, why", [
    ("{serviceName: a}", "no servicePort"),
    ("{serviceName: a, servicePort: true}", "neither a port number nor a port name"),
    ("{serviceName: a, servicePort: 80, resource: {kind: X, name: y}}", "mixes"),
])
def test_ingress_that_cannot_be_converted_is_left_alone(backend: str, why: str) -> None:
    old = dedent(f"""\
        apiVersion: extensions/v1beta1
        kind: Ingress
        metadata: {{name: a}}
        spec:
          backend: {{serviceName: ok, servicePort: 80}}
          rules:
          - http:
              paths:
              - backend: {backend}
        """)
    result = fix_text(old, plan())
    assert result.text == old  # all or nothing: spec.backend was fine but is not half-converted
    assert any(why in note for note in result.notes)


# --- workloads -------------------------------------------------------------------------------------

WORKLOADS = [
    ("extensions/v1beta1", "Deployment"), ("extensions/v1beta1", "DaemonSet"), ("extensions/v1beta1", "ReplicaSet"),
    ("apps/v1beta1", "Deployment"), ("apps/v1beta1", "StatefulSet"),
    ("apps/v1beta2", "Deployment"), ("apps/v1beta2", "DaemonSet"), ("apps/v1beta2", "ReplicaSet"),
    ("apps/v1beta2", "StatefulSet"),
]


def workload(api: str, kind: str, selector: bool) -> str:
    text = dedent(f"""\
        apiVersion: {api}
        kind: {kind}
        metadata:
          name: web
        spec:
          replicas: 2
          SELECTOR
          template:
            metadata:
              labels:
                app: web   # the app
                tier: "front"
            spec:
              containers:
                - name: web
                  image: nginx:1.27
                  ports:
                    - containerPort: 80
        """)
    return text.replace("  SELECTOR\n", "  selector:\n    matchLabels: {app: web, tier: front}\n" if selector else "")


@pytest.mark.parametrize("api, kind", WORKLOADS)
def test_workload_without_selector_gets_one_from_template_labels(api: str, kind: str) -> None:
    old = workload(api, kind, selector=False)
    expected = old.replace(f"apiVersion: {api}\n", "apiVersion: apps/v1\n").replace(
        "  template:\n",
        "  selector:\n    matchLabels:\n      app: web\n      tier: \"front\"\n  template:\n")
    assert fix(old) == expected


@pytest.mark.parametrize("api, kind", WORKLOADS)
def test_workload_with_selector_only_changes_api_version(api: str, kind: str) -> None:
    old = workload(api, kind, selector=True)
    assert fix(old) == old.replace(f"apiVersion: {api}\n", "apiVersion: apps/v1\n")


def test_statefulset_apps_v1beta2_with_four_space_sequences_and_tilde_null() -> None:
    old = """\
        apiVersion: apps/v1beta2
        kind: StatefulSet
        metadata:
          name: db
        spec:
          serviceName: db
          template:
            metadata:
              labels: {app: db}
            spec:
              containers:
                - name: db
                  image: postgres:16
                  args: ~
        """
    assert fix(old) == dedent("""\
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
        spec:
          serviceName: db
          selector:
            matchLabels: {app: db}
          template:
            metadata:
              labels: {app: db}
            spec:
              containers:
                - name: db
                  image: postgres:16
                  args: ~
        """)


def test_spacing_of_untouched_lines_is_kept() -> None:
    # ruamel writes `value:   x` as `value: x` and moves comments; lines fix did not change keep theirs.
    old = workload("apps/v1beta2", "Deployment", selector=True).replace(
        "  replicas: 2\n", "  replicas:    2      # two\n").replace("image: nginx:1.27", "image:  nginx:1.27")
    assert fix(old) == old.replace("apps/v1beta2", "apps/v1")


def test_workload_without_selector_or_labels_is_reported_not_changed() -> None:
    old = dedent("""\
        apiVersion: extensions/v1beta1
        kind: Deployment
        metadata: {name: bare}
        spec:
          template:
            spec:
              containers: [{name: a, image: a}]
        """)
    result = fix_text(old, plan())
    assert result.text == old
    assert any("no spec.template.metadata.labels" in note for note in result.notes)


def test_deployment_with_rollback_to_is_not_converted() -> None:
    old = workload("extensions/v1beta1", "Deployment", selector=True).replace(
        "  replicas: 2\n", "  replicas: 2\n  rollbackTo: {revision: 3}\n")
    result = fix_text(old, plan())
    assert result.text == old
    assert any("rollbackTo" in note for note in result.notes)


def test_daemonset_default_update_strategy_change_is_noted() -> None:
    result = fix_text(workload("extensions/v1beta1", "DaemonSet", selector=True), plan())
    assert "apiVersion: apps/v1\n" in result.text
    assert any("OnDelete" in note for note in result.notes)


# --- apiVersion-only conversions -------------------------------------------------------------------

@pytest.mark.parametrize("old_api, kind, new_api", [
    ("extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", "batch/v1"),
    ("policy/v1beta1", "PodDisruptionBudget", "policy/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass", "scheduling.k8s.io/v1"),
])
def test_api_version_swaps(old_api: str, kind: str, new_api: str) -> None:
    old = dedent(f"""\
        apiVersion: "{old_api}"
        kind: {kind}
        metadata:
          name: x  # keep
        spec:
          selector:
            matchLabels: {{app: x}}
        """)
    assert fix(old) == old.replace(f'"{old_api}"', f'"{new_api}"')


HTTPROUTE_OLD = dedent("""\
    # route for the shop
    apiVersion: gateway.networking.k8s.io/v1beta1  # old
    kind: HTTPRoute
    metadata:
      name: shop  # keep
    spec:
      parentRefs:
      - name: gw
      rules:
      - backendRefs:
        - {name: shop, port: 80}  # svc
    """)


@pytest.mark.parametrize("version", ["1.16", "1.37"])  # the Gateway API release decides, not Kubernetes
def test_gateway_api_v1beta1_httproute_becomes_v1(version: str) -> None:
    new = fix(HTTPROUTE_OLD, version)
    assert new == HTTPROUTE_OLD.replace("io/v1beta1  # old", "io/v1       # old")
    assert fix(new, version) == new


@pytest.mark.parametrize("old_api, kind, new_api", [
    ("gateway.networking.k8s.io/v1beta1", "Gateway", "gateway.networking.k8s.io/v1"),
    ("gateway.networking.k8s.io/v1beta1", "GatewayClass", "gateway.networking.k8s.io/v1"),
    ("gateway.networking.k8s.io/v1alpha2", "GRPCRoute", "gateway.networking.k8s.io/v1"),
    ("gateway.networking.k8s.io/v1alpha2", "ReferenceGrant", "gateway.networking.k8s.io/v1"),  # through v1beta1
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant", "gateway.networking.k8s.io/v1"),
])
def test_gateway_api_version_swaps(old_api: str, kind: str, new_api: str) -> None:
    old = f'apiVersion: "{old_api}"\nkind: {kind}\nmetadata: {{name: x}}  # keep\n'
    assert fix(old) == old.replace(f'"{old_api}"', f'"{new_api}"')


TLSROUTE = """\
apiVersion: gateway.networking.k8s.io/{api}  # db
kind: TLSRoute
metadata: {{name: db}}
spec:
  parentRefs: [{{name: public}}]
  hostnames: [db.example.com]
  rules:
  - backendRefs: [{{name: db, port: 5432}}]
"""


@pytest.mark.parametrize("api", ["v1alpha2", "v1alpha3"])
def test_tlsroute_moves_to_v1_at_the_default_gateway_api_release(api: str) -> None:
    old = TLSROUTE.format(api=api)
    result = fix_text(old, plan())
    assert result.text == old.replace(f"io/{api}  # db", "io/v1" + " " * (len(api) - 2) + "  # db")
    assert result.converted == [f"TLSRoute/db gateway.networking.k8s.io/{api} -> gateway.networking.k8s.io/v1"]


@pytest.mark.parametrize("kind, api, release", [
    ("TLSRoute", "v1alpha2", "1.4"), ("TLSRoute", "v1alpha3", "1.4"), ("ReferenceGrant", "v1beta1", "1.4"),
    ("TCPRoute", "v1alpha2", "1.5"),
])
def test_gateway_api_v1_is_not_assumed_before_the_release_that_serves_it(kind: str, api: str, release: str) -> None:
    # Gateway API v1.4 CRDs serve no TLSRoute or ReferenceGrant v1 (v1.5), v1.5 no TCPRoute v1 (v1.6).
    old = TLSROUTE.format(api=api).replace("TLSRoute", kind)
    result = fix_text(old, plan(gateway_api=release))
    assert result.text == old and result.converted == []


def test_referencegrant_v1alpha2_stops_at_v1beta1_before_gateway_api_v1_5() -> None:
    old = "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: ReferenceGrant\nmetadata: {name: g}\n"
    assert fix_text(old, plan(gateway_api="1.4")).text == old.replace("v1alpha2", "v1beta1")


@pytest.mark.parametrize("edit, reason", [
    (lambda t: t.replace("  hostnames: [db.example.com]\n", ""), "requires spec.hostnames"),
    (lambda t: t + "  - backendRefs: [{name: db-2, port: 5432}]\n", "exactly one rule and spec.rules has 2"),
    (lambda t: t.replace("  - backendRefs: [{name: db, port: 5432}]\n", "  - name: only\n"),
     "requires spec.rules[0].backendRefs"),
])
def test_tlsroute_v1alpha2_that_v1_would_reject_is_reported_not_guessed(edit, reason: str) -> None:
    # v1 requires SNI hostnames and takes one rule; v1alpha2 took none and up to 16.
    old = edit(TLSROUTE.format(api="v1alpha2"))
    result = fix_text(old, plan())
    assert result.text == old and result.converted == []
    assert any(reason in note and note.startswith("line 1: ") for note in result.notes), result.notes


def test_tcproute_moves_to_v1_with_one_rule_only() -> None:
    one = TLSROUTE.format(api="v1alpha2").replace("TLSRoute", "TCPRoute").replace("  hostnames: [db.example.com]\n", "")
    assert fix_text(one, plan()).text == one.replace("io/v1alpha2  # db", "io/v1        # db")
    two = one + "  - backendRefs: [{name: db-2, port: 5433}]\n"
    result = fix_text(two, plan())
    assert result.text == two and any("exactly one rule" in note for note in result.notes)


@pytest.mark.parametrize("api, kind", [("gateway.networking.k8s.io/v1alpha2", "UDPRoute"),
                                       ("gateway.networking.x-k8s.io/v1alpha1", "XListenerSet")])
def test_gateway_api_moves_without_a_conversion_are_reported(api: str, kind: str) -> None:
    old = f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n"
    result = fix_text(old, plan())
    assert result.text == old
    assert any("no conversion" in note for note in result.notes)


def test_fix_takes_the_gateway_api_release_from_the_cli_and_the_config(tmp_path: Path, capsys) -> None:
    path = tmp_path / "route.yaml"
    path.write_text(TLSROUTE.format(api="v1alpha3"))
    (tmp_path / "old.yaml").write_text('gateway-api-version: "1.4"\n')
    assert run_fix("--config", str(tmp_path / "old.yaml"), "--diff", str(path)) == 0
    assert run_fix("--config", str(tmp_path / "old.yaml"), "--gateway-api-version", "v1.5.1", "--diff", str(path)) == 1
    assert "+apiVersion: gateway.networking.k8s.io/v1" in capsys.readouterr().out


def test_gateway_api_diff_exits_1_and_fixed_file_diffs_clean(tmp_path: Path, capsys) -> None:
    path = tmp_path / "route.yaml"
    path.write_text(HTTPROUTE_OLD)
    assert run_fix("--diff", str(path)) == 1
    out = capsys.readouterr().out
    assert path.read_text() == HTTPROUTE_OLD
    assert "+apiVersion: gateway.networking.k8s.io/v1       # old\n" in out
    assert run_fix(str(path)) == 0
    assert run_fix("--diff", str(path)) == 0
    assert capsys.readouterr().out == ""


def test_pdb_with_empty_selector_is_not_converted() -> None:
    # {} selects nothing in policy/v1beta1 and every pod of the namespace in policy/v1.
    old = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec:\n  selector: {}\n"
    result = fix_text(old, plan())
    assert result.text == old
    assert any("every pod" in note for note in result.notes)


def test_api_without_conversion_is_reported() -> None:
    old = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n"
    result = fix_text(old, plan())
    assert result.text == old
    assert any("no conversion" in note for note in result.notes)


def test_kube_version_decides_what_is_converted() -> None:
    ingress = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: a}\nspec: {}\n"
    cron = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n"
    # 1.16: the old Ingress is deprecated but networking.k8s.io/v1 is not served yet.
    result = fix_text(ingress, plan("1.16"))
    assert result.text == ingress and "served only from Kubernetes 1.19" in result.notes[0]
    assert fix(ingress, "1.19").startswith("apiVersion: networking.k8s.io/v1\n")
    # 1.20: batch/v1beta1 CronJob is not deprecated yet, so lint does not flag it and fix leaves it.
    assert fix_text(cron, plan("1.20")) .text == cron
    assert fix(cron, "1.21").startswith("apiVersion: batch/v1\n")


def test_items_of_a_list_are_converted() -> None:
    old = dedent("""\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: batch/v1beta1
          kind: CronJob
          metadata: {name: c}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: m}
        """)
    assert fix(old) == old.replace("batch/v1beta1", "batch/v1")


# --- streams: what must stay byte for byte ---------------------------------------------------------

HELM = dedent("""\
    ---
    # Source: shop/templates/service.yaml
    apiVersion: v1
    kind: Service
    metadata:
      name: shop
      labels: {app: shop, tier: "front"}
    spec:
      ports:
        - port: 80
          targetPort: 'http'
      selector:
        app: shop
    ---
    # Source: shop/templates/ingress.yaml
    apiVersion: extensions/v1beta1
    kind: Ingress
    metadata:
      name: shop
    spec:
      rules:
      - http:
          paths:
          - path: /
            backend:
              serviceName: shop   # the Service above
              servicePort: 80
    ...
    ---
    # Source: shop/templates/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: shop
    data:
      mode: 0644
      nothing: ~
      script: |
        echo hi
        # not a comment
    """)


def test_multi_document_only_changed_documents_are_rewritten() -> None:
    new = fix(HELM)
    old_docs, new_docs = split_documents(HELM), split_documents(new)
    assert len(old_docs) == len(new_docs) == 3
    assert old_docs[0].text == new_docs[0].text
    assert old_docs[2].text == new_docs[2].text
    assert new_docs[1].prefix == "---\n# Source: shop/templates/ingress.yaml\n"
    assert new_docs[1].suffix == "...\n"
    assert "name: shop        # the Service above\n" in new_docs[1].body
    assert "apiVersion: networking.k8s.io/v1\n" in new_docs[1].body


def test_split_documents_keeps_every_character() -> None:
    for text in (HELM, INGRESS_OLD, "", "a: 1", "--- |\n  text\n...\n# c\nb: 2\n", "x: 1\n---\n---\n"):
        assert "".join(chunk.text for chunk in split_documents(text)) == text


def test_no_final_newline_and_crlf_are_kept() -> None:
    old = "apiVersion: batch/v1beta1\r\nkind: CronJob\r\nmetadata:\r\n  name: c\r\n---\r\nkind: X"
    assert fix_text(old, plan()).text == old.replace("batch/v1beta1", "batch/v1")
    old = "kind: X\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c"
    assert fix_text(old, plan()).text == old.replace("batch/v1beta1", "batch/v1")


def test_content_on_the_marker_line_is_left_alone() -> None:
    old = "--- !!map\napiVersion: batch/v1beta1\nkind: CronJob\n"
    result = fix_text(old, plan())
    assert result.text == old and result.converted == []
    assert "content on the `---` line" in result.notes[0]


@pytest.mark.parametrize("text", [
    INGRESS_NEW,  # already current
    "# not Kubernetes\nservers:\n  - host: a   # x\n    port: 80\nflags: {a: yes}\n",
    "apiVersion: extensions/v1beta1  \nkind: NotAThing\n",  # an API version lint does not flag for this kind
    "",
])
def test_nothing_to_change_means_identical_text(text: str) -> None:
    assert fix_text(text, plan()).text == text


# --- the command -----------------------------------------------------------------------------------

def run_fix(*args: str) -> int:
    return main(["fix", "--no-config", *args])


def test_files_are_rewritten_and_untouched_files_are_not_written(tmp_path: Path, capsys) -> None:
    changed = tmp_path / "ingress.yaml"
    changed.write_text(INGRESS_OLD)
    current = tmp_path / "sub" / "current.yml"
    current.parent.mkdir()
    current.write_text(INGRESS_NEW)
    os.utime(current, (1_000_000, 1_000_000))
    assert run_fix(str(tmp_path)) == 0
    assert changed.read_text() == INGRESS_NEW
    assert current.read_text() == INGRESS_NEW and current.stat().st_mtime == 1_000_000  # not rewritten
    err = capsys.readouterr().err
    assert f"fixed {changed}: Ingress/shop extensions/v1beta1 -> networking.k8s.io/v1\n" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_diff_prints_and_does_not_write(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ingress.yaml"
    path.write_text(INGRESS_OLD)
    assert run_fix("--diff", str(path)) == 1
    out = capsys.readouterr().out
    assert path.read_text() == INGRESS_OLD
    assert out.startswith(f"--- a/{path}\n+++ b/{path}\n@@ ")
    assert "-apiVersion: extensions/v1beta1   # old\n+apiVersion: networking.k8s.io/v1 # old\n" in out
    assert run_fix(str(path)) == 0
    assert run_fix("--diff", str(path)) == 0
    assert capsys.readouterr().out == ""


def test_diff_of_file_without_final_newline_applies_with_patch(tmp_path: Path, capsys) -> None:
    if not shutil.which("patch"):
        pytest.skip("patch(1) is not installed")
    path = tmp_path / "c.yaml"
    path.write_text("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c")
    assert run_fix("--diff", str(path)) == 1
    diff = capsys.readouterr().out
    assert "\\ No newline at end of file\n" in diff
    subprocess.run(["patch", "-s", str(path)], input=diff, text=True, check=True)
    assert path.read_text() == "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c"


def test_unparsable_file_is_an_error_and_others_are_still_fixed(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "a-bad.yaml"
    bad.write_text("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: [unclosed\n")
    good = tmp_path / "b-good.yaml"
    good.write_text("apiVersion: batch/v1beta1\nkind: CronJob\n")
    assert run_fix(str(tmp_path), str(tmp_path / "missing.yaml")) == 2
    err = capsys.readouterr().err
    assert f"kexlint fix: {bad}:4:1: invalid YAML" in err
    assert f"kexlint fix: {tmp_path / 'missing.yaml'}: no such file or directory" in err
    assert bad.read_text().startswith("apiVersion: batch/v1beta1\n")
    assert good.read_text() == "apiVersion: batch/v1\nkind: CronJob\n"


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kexlint", "fix", "--no-config", *args],
                          input=stdin, capture_output=True, check=False)


def test_stdin_to_stdout() -> None:
    done = cli("-", stdin=INGRESS_OLD.encode())
    assert (done.returncode, done.stdout) == (0, INGRESS_NEW.encode())
    assert b"fixed <stdin>" in done.stderr
    unchanged = cli("-", stdin=b"a: 1\n")
    assert (unchanged.returncode, unchanged.stdout, unchanged.stderr) == (0, b"a: 1\n", b"")
    diff = cli("--diff", "-", stdin=INGRESS_OLD.encode())
    assert diff.returncode == 1 and diff.stdout.startswith(b"--- a/<stdin>\n")
    bad = cli("-", stdin=b"apiVersion: batch/v1beta1\nkind: [\n")
    assert bad.returncode == 2 and b"<stdin>:" in bad.stderr


def test_kube_version_option(tmp_path: Path) -> None:
    path = tmp_path / "i.yaml"
    path.write_text(INGRESS_OLD)
    assert run_fix("--kube-version", "1.18", str(path)) == 0
    assert path.read_text() == INGRESS_OLD


# --- read-back: every fixture fixed once is fixed for good, lints clean and parses in kubectl ------

FIXED_FIXTURES = {
    "ingress": INGRESS_OLD,
    "helm": HELM,
    **{f"{api.replace('/', '-')}-{kind}-{sel}": workload(api, kind, sel == "selector")
       for api, kind in WORKLOADS for sel in ("selector", "noselector")},
    # `name: n` would be the boolean false to kubectl (YAML 1.1), as this test once found out.
    "networkpolicy": "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
                     "spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    "cronjob": "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n",
    "pdb": "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
           "spec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n",
}


@pytest.fixture(params=sorted(FIXED_FIXTURES))
def fixed_file(request, tmp_path: Path) -> Path:
    path = tmp_path / f"{request.param}.yaml"
    path.write_text(FIXED_FIXTURES[request.param])
    assert run_fix(str(path)) == 0
    return path


def test_fixing_twice_is_fixing_once(fixed_file: Path) -> None:
    once = fixed_file.read_bytes()
    assert fix_text(once.decode(), plan()).text == once.decode()
    assert run_fix("--diff", str(fixed_file)) == 0


def test_fixed_file_lints_clean_for_deprecated_api(fixed_file: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    main(["--no-config", "--format", "json", "-o", str(report), str(fixed_file)])
    findings = json.loads(report.read_text())["findings"]
    assert [f["message"] for f in findings if f["rule"] == "deprecated-api"] == []


def test_fixed_file_reads_back_in_kubectl(fixed_file: Path, tmp_path: Path) -> None:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH: cannot check that kubectl reads the fixed manifest")
    # --local never contacts a server; an empty kubeconfig makes sure no real cluster is touched.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    done = subprocess.run([KUBECTL, "label", "--local", "-f", str(fixed_file), "kexlint=fixed", "-o", "yaml"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "kexlint: fixed" in done.stdout
    assert "v1beta" not in done.stdout


def test_one_entry_mappings_in_flow_lists_keep_their_braces() -> None:
    old = HTTPROUTE_OLD.replace("parentRefs:\n  - name: gw\n", "parentRefs: [{name: gw}]\n")
    assert "[{name: gw}]" in old
    new = fix(old, "1.37")
    assert new == old.replace("io/v1beta1  # old", "io/v1       # old")
