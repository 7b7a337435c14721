"""The default target Kubernetes version: the newest stable release, one constant everywhere."""

from __future__ import annotations

from pathlib import Path

import yaml

from kexlint.checks import Settings
from kexlint.config import DEFAULT_KUBE_VERSION, DEFAULT_KUBE_VERSION_RELEASED, parse_kube_version
from kexlint.webhook.manifests import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parent.parent


def test_default_is_kubernetes_1_37_released_august_2026() -> None:
    assert DEFAULT_KUBE_VERSION == "1.37"
    assert DEFAULT_KUBE_VERSION_RELEASED == "2026-08"
    assert Settings().kube_version == parse_kube_version(DEFAULT_KUBE_VERSION)


def test_webhook_default_config_and_chart_follow_the_default() -> None:
    assert yaml.safe_load(DEFAULT_CONFIG)["kube-version"] == DEFAULT_KUBE_VERSION
    text = (ROOT / "webhook" / "chart" / "templates" / "_helpers.tpl").read_text()
    assert f'kube-version: "{DEFAULT_KUBE_VERSION}"' in text


def test_cli_reports_the_default_target(lint_json, tmp_path: Path) -> None:
    manifest = tmp_path / "crd.yaml"
    # storage.k8s.io/v1beta1 VolumeAttributesClass: deprecated 1.34, removed 1.37 — an error only
    # at a target of 1.37 or later, so this fails while the default is older.
    manifest.write_text("apiVersion: storage.k8s.io/v1beta1\nkind: VolumeAttributesClass\n"
                        "metadata:\n  name: gold\ndriverName: x\n")
    code, report = lint_json(str(manifest))
    messages = [f["message"] for f in report["findings"] if f["rule"] == "deprecated-api"]
    assert code == 1 and messages and "(target 1.37)" in messages[0], messages
