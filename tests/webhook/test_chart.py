"""The Helm chart in webhook/chart (issue 8), with the real helm 4 (tests/k8s_tools.py).

One source of truth: the chart's default render is the objects `kexlint webhook manifests --image`
prints (less the Namespace, which Helm's release namespace replaces), apart from the certificate
the chart generates, and that certificate really serves: the real server runs with it and a client
verifies it against the caBundle the chart put in the webhook configuration.
"""

from __future__ import annotations

import base64
import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_tools import tool

from kexlint.webhook import manifests

CHART = Path(__file__).resolve().parents[2] / "webhook" / "chart"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
IMAGE = "registry.example.com/platform/kexlint:0.1.0"


def _helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([tool("helm"), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _template(*args: str, namespace: str = "kexlint") -> list[dict[str, Any]]:
    out = _helm("template", "kexlint", str(CHART), "--namespace", namespace, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


def _identity(doc: dict[str, Any]) -> tuple[str, str, str]:
    return doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in docs}


def _without_certificates(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(docs)
    for doc in out:
        if doc["kind"] == "Secret":
            doc["data"] = {}
        if doc["kind"] == "ValidatingWebhookConfiguration":
            for hook in doc["webhooks"]:
                hook["clientConfig"].pop("caBundle", None)
    return sorted(out, key=_identity)


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_helm_lint(values: Path) -> None:
    done = _helm("lint", "--strict", str(CHART), "-f", str(values))
    assert "0 chart(s) failed" in done.stdout


def test_default_render_is_the_manifests_command_output() -> None:
    chart = _template("--set", f"image={IMAGE}")
    ours = [doc.obj for doc in manifests.build_documents(manifests.ManifestOptions(IMAGE))]
    # Helm installs into the release namespace (helm install --create-namespace); it cannot own it.
    ours = [doc for doc in ours if doc["kind"] != "Namespace"]
    assert _without_certificates(chart) == _without_certificates(ours)


def test_cluster_state_render_is_the_manifests_command_output() -> None:
    """clusterState: watch renders the RBAC, token, flag and resources of `manifests --cluster-state watch`."""
    chart = _template("--set", f"image={IMAGE}", "--set", "clusterState=watch")
    ours = [doc.obj for doc in manifests.build_documents(manifests.ManifestOptions(IMAGE, cluster_state=True))]
    ours = [doc for doc in ours if doc["kind"] != "Namespace"]
    assert {"ClusterRole", "ClusterRoleBinding"} <= {doc["kind"] for doc in chart}
    assert _without_certificates(chart) == _without_certificates(ours)


def test_without_an_image_the_render_fails_with_a_message() -> None:
    done = _helm("template", "kexlint", str(CHART), check=False)
    assert done.returncode != 0 and "set image" in done.stderr and "webhook/Dockerfile" in done.stderr


def test_values_are_validated() -> None:
    for bad in ("failurePolicy=Sometimes", "mode=loud", "replicas=0"):
        done = _helm("template", "kexlint", str(CHART), "--set", f"image={IMAGE}", "--set", bad, check=False)
        assert done.returncode != 0, bad
        assert bad.split("=")[0] in done.stderr, done.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_render_passes_kexlint_itself(values: Path, tmp_path: Path) -> None:
    """The webhook's own objects must not trip the policy it enforces, at every level."""
    rendered = tmp_path / "chart.yaml"
    rendered.write_text(_helm("template", "kexlint", str(CHART), "-n", "kexlint", "-f", str(values)).stdout)
    from kexlint.cli import main

    assert main(["--no-config", "--fail-on", "info", str(rendered)]) == 0


def test_values_reach_the_objects() -> None:
    kinds = _by_kind(_template("-f", str(CHART / "ci" / "warn-ignore-values.yaml")))
    hook = kinds["ValidatingWebhookConfiguration"]["webhooks"][0]
    assert hook["failurePolicy"] == "Ignore"
    # Always excluded first; a namespace listed twice is listed once.
    assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["kube-system", "kexlint", "monitoring"]
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    (container,) = deployment["template"]["spec"]["containers"]
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    config = yaml.safe_load(kinds["ConfigMap"]["data"][".kexlint.yaml"])
    assert config["webhook"]["mode"] == "warn"


def test_existing_secret_and_own_config() -> None:
    from kexlint.config import parse_config
    from kexlint.registry import rules_by_id

    kinds = _by_kind(_template("-f", str(CHART / "ci" / "existing-secret-values.yaml")))
    assert "Secret" not in kinds and "PodDisruptionBudget" not in kinds
    volumes = {v["name"]: v for v in kinds["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "kexlint-webhook-cert"
    vwc = kinds["ValidatingWebhookConfiguration"]
    assert vwc["metadata"]["annotations"] == {"cert-manager.io/inject-ca-from": "kexlint/kexlint-webhook"}
    assert "caBundle" not in vwc["webhooks"][0]["clientConfig"]  # cainjector fills it in
    assert {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"} in kinds["Service"]["spec"]["ports"]
    text = kinds["ConfigMap"]["data"][".kexlint.yaml"]
    config = parse_config(yaml.safe_load(text), "chart config", set(rules_by_id()))
    assert config.webhook["deny-level"] == "warning"


def test_generated_certificate_serves_and_verifies_against_the_ca_bundle(tmp_path: Path) -> None:
    """TLS generated at install (genCA/genSignedCert) works with the real server and a verifying client."""
    pytest.importorskip("gunicorn")
    from reviews import admission_review, pod
    from serving import start_server

    kinds = _by_kind(_template("--set", f"image={IMAGE}", namespace="policy"))
    data = kinds["Secret"]["data"]
    for name in ("tls.crt", "tls.key", "ca.crt"):
        (tmp_path / name).write_bytes(base64.b64decode(data[name]))
    ca_bundle = base64.b64decode(kinds["ValidatingWebhookConfiguration"]["webhooks"][0]["clientConfig"]["caBundle"])
    (tmp_path / "bundle.crt").write_bytes(ca_bundle)
    server = start_server(tmp_path, tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "bundle.crt", workers=1,
                          server_name="kexlint-webhook.policy.svc")
    try:
        assert server.review(admission_review("CREATE", pod("web")))["allowed"] is True
    finally:
        assert server.stop() == 0


def test_client_ca_in_chart_and_manifests_alike(tmp_path: Path) -> None:
    """Mutual TLS: the same ConfigMap key and server argument from the chart value and the command option."""
    from kexlint.webhook.commands import run

    pem = tmp_path / "client-ca.crt"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")
    chart = _template("--set", f"image={IMAGE}", "--set-file", f"tls.clientCA={pem}")
    ours = [doc.obj for doc in manifests.build_documents(manifests.ManifestOptions(IMAGE, client_ca=pem.read_text()))]
    ours = [doc for doc in ours if doc["kind"] != "Namespace"]
    assert _without_certificates(chart) == _without_certificates(ours)
    kinds = _by_kind(chart)
    assert kinds["ConfigMap"]["data"]["client-ca.crt"] == pem.read_text()
    (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][-2:] == ["--client-ca", "/config/client-ca.crt"]
    assert run(["manifests", "--image", IMAGE, "--client-ca", str(tmp_path / "tls.key-not-pem")]) == 1
    (tmp_path / "bad.pem").write_text("not a certificate")
    assert run(["manifests", "--image", IMAGE, "--client-ca", str(tmp_path / "bad.pem")]) == 2


CUSTOM_KINDS_CONFIG = ("webhook:\n  mode: enforce\n  custom-kinds: [ray.io/RayCluster, argoproj.io/Workflow,"
                       " argoproj.io/CronWorkflow, argoproj.io/Workflow]\n")


def test_chart_copy_of_the_custom_kinds_table_is_current() -> None:
    from kexlint.tools.chart_kinds import CHART_TABLE, chart_table

    assert CHART_TABLE.read_text(encoding="utf-8") == chart_table(), "run: python -m kexlint.tools.chart_kinds"


def test_custom_kinds_of_the_config_are_registered_as_by_the_manifests_command(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"config": CUSTOM_KINDS_CONFIG}))
    chart = _template("--set", f"image={IMAGE}", "-f", str(values))
    ours = [doc.obj for doc in manifests.build_documents(
        manifests.ManifestOptions(IMAGE, config_text=CUSTOM_KINDS_CONFIG))]
    ours = [doc for doc in ours if doc["kind"] != "Namespace"]
    rules = _by_kind(chart)["ValidatingWebhookConfiguration"]["webhooks"][0]["rules"]
    assert {"operations": ["CREATE", "UPDATE"], "apiGroups": ["argoproj.io"], "apiVersions": ["*"],
            "resources": ["workflows", "cronworkflows"], "scope": "*"} in rules
    assert _without_certificates(chart) == _without_certificates(ours)


def test_an_unknown_custom_kind_fails_the_render(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"config": "webhook:\n  custom-kinds: [example.com/Thing]\n"}))
    done = _helm("template", "kexlint", str(CHART), "--set", f"image={IMAGE}", "-f", str(values), check=False)
    assert done.returncode != 0 and "example.com/Thing is not a kind kexlint knows" in done.stderr
