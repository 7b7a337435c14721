"""Custom resources of rules/data/pod-templates.yaml in the webhook: registered on request, reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from reviews import admission_review

from kexlint.config import ConfigError, parse_config
from kexlint.engine import Engine
from kexlint.registry import builtin_rules, rules_by_id
from kexlint.webhook.admission import Settings, review
from kexlint.webhook.commands import run

IMAGE = "registry.example.com/platform/kexlint:0.1.0"

WORKFLOW: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "build", "namespace": "ci"},
    "spec": {"hostNetwork": True, "templates": [
        {"name": "a", "container": {"image": "a"}}, {"name": "b", "container": {"image": "b"}}]},
}


def _rules(capsys: pytest.CaptureFixture[str], tmp_path: Path, config: str) -> list[dict[str, Any]]:
    path = tmp_path / "kexlint.yaml"
    path.write_text(config)
    assert run(["manifests", "--image", IMAGE, "--config", str(path)]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    config_doc = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    return config_doc["webhooks"][0]["rules"]


def test_custom_kinds_are_registered_only_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = _rules(capsys, tmp_path, "webhook: {mode: warn}\n")
    assert all(rule["apiGroups"][0] not in ("argoproj.io", "ray.io") for rule in plain)
    asked = _rules(capsys, tmp_path, "webhook:\n  custom-kinds: [argoproj.io/Workflow, argoproj.io/CronWorkflow,"
                                     " ray.io/RayCluster]\n")
    extra = [(r["apiGroups"], r["apiVersions"], r["resources"]) for r in asked[len(plain):]]
    assert extra == [(["argoproj.io"], ["*"], ["workflows", "cronworkflows"]),
                     (["ray.io"], ["*"], ["rayclusters"])]


def test_unknown_custom_kind_is_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "kexlint.yaml"
    path.write_text("webhook:\n  custom-kinds: [example.com/Thing]\n")
    assert run(["manifests", "--image", IMAGE, "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "'example.com/Thing' is not in" in err and "argoproj.io/Workflow" in err
    assert len(err.strip().splitlines()) == 1


def test_config_schema_checks_custom_kinds() -> None:
    parse_config({"webhook": {"custom-kinds": ["argoproj.io/Workflow"]}}, "k.yaml", set(rules_by_id()))
    with pytest.raises(ConfigError):
        parse_config({"webhook": {"custom-kinds": "argoproj.io/Workflow"}}, "k.yaml", set(rules_by_id()))


def test_admission_reviews_a_workflow_and_reports_its_host_network_once() -> None:
    config = parse_config({}, "k.yaml", set(rules_by_id()))
    status, answer = review(admission_review("CREATE", WORKFLOW), Engine(builtin_rules(), config),
                            Settings.from_config(config.webhook))
    response = answer["response"]
    assert status == 200 and response["allowed"] is False
    message = response["status"]["message"]
    assert "host-network: /spec/hostNetwork:" in message
    assert "has 1 violation:" in message  # two templates, one field


def test_table_kind_under_another_group_is_not_read_by_the_table() -> None:
    other = {**WORKFLOW, "apiVersion": "example.com/v1"}
    config = parse_config({}, "k.yaml", set(rules_by_id()))
    _, answer = review(admission_review("CREATE", other), Engine(builtin_rules(), config),
                       Settings.from_config(config.webhook))
    assert answer["response"]["allowed"] is True
