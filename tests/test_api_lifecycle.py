"""The deprecated-api table: generated from the apiserver's lifecycle data, complete by construction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kexlint.checks import Settings
from kexlint.checks.deprecated_api import check
from kexlint.config import parse_kube_version
from kexlint.findings import ObjectRef
from kexlint.model import K8sObject, Target
from kexlint.tools import lifecycle

ROOT = Path(__file__).resolve().parent.parent
TABLE = yaml.safe_load((ROOT / "rules" / "deprecated-api.yaml").read_text())["params"]["apis"]
TARGET = (1, 37)


def hits(api_version: str, kind: str, target: tuple[int, int] = TARGET, gateway_api: tuple[int, int] | None = None
         ) -> list:
    obj = K8sObject({"apiVersion": api_version, "kind": kind}, ObjectRef(api_version, kind, None, "x"))
    settings = Settings(kube_version=target)
    if gateway_api:
        settings = Settings(kube_version=target, gateway_api_version=gateway_api)
    return list(check(Target(obj, (), obj.value), {"apis": TABLE}, settings))


def test_every_kind_has_a_replacement_or_a_note() -> None:
    missing = [f"{e['apiVersion']} {e['kind']}" for e in TABLE if not e.get("replacement") and not e.get("notes")]
    assert not missing


def test_table_is_what_the_generator_writes() -> None:
    current = (ROOT / "rules" / "deprecated-api.yaml").read_text()
    assert lifecycle.generate(TABLE) == TABLE, "stale: run python -m kexlint.tools.lifecycle"
    assert "extracted" in current and "k8s.io/api prerelease-lifecycle" in current


def test_every_lifecycle_entry_is_in_the_table() -> None:
    listed = {(e["apiVersion"], e["kind"]) for e in TABLE}
    for key, tags in lifecycle.lifecycle().items():
        if "deprecated" in tags or "removed" in tags:
            assert key in listed, key


@pytest.mark.parametrize("entry", TABLE, ids=lambda e: f"{e['apiVersion']}-{e['kind']}")
def test_flagged_at_target(entry: dict) -> None:
    found = hits(entry["apiVersion"], entry["kind"])
    removed = entry.get("removed") and parse_kube_version(entry["removed"]) <= TARGET
    introduced = entry.get("introduced") and parse_kube_version(entry["introduced"]) > TARGET
    if entry.get("project"):  # its own releases, checked in test_gateway_api_*
        assert [h.level for h in found] == ["error" if entry.get("removed") else "warning"]
    elif removed:
        assert [h.level for h in found] == ["error"] and "no longer served" in found[0].message
    elif introduced:
        assert not found
    elif entry.get("stage") == "alpha":
        assert [h.level for h in found] == ["warning"] and "not served unless enabled" in found[0].message
    elif entry.get("deprecated") and parse_kube_version(entry["deprecated"]) <= TARGET:
        assert [h.level for h in found] == ["warning"] and "deprecated" in found[0].message
    else:
        assert not found


@pytest.mark.parametrize(("api_version", "kind", "level"), [
    ("rbac.authorization.k8s.io/v1alpha1", "Role", "error"),
    ("scheduling.k8s.io/v1alpha1", "PriorityClass", "error"),
    ("admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicy", "error"),
    ("resource.k8s.io/v1alpha3", "ResourceClaim", "error"),
    ("storage.k8s.io/v1alpha1", "VolumeAttributesClass", "error"),
    ("storagemigration.k8s.io/v1alpha1", "StorageVersionMigration", "error"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding", "error"),
    ("authentication.k8s.io/v1beta1", "SelfSubjectReview", "error"),
    ("resource.k8s.io/v1beta1", "ResourceClaim", "warning"),
    ("resource.k8s.io/v1beta2", "DeviceClass", "warning"),
    ("storage.k8s.io/v1beta1", "VolumeAttributesClass", "error"),
    ("networking.k8s.io/v1beta1", "ServiceCIDR", "error"),
    ("coordination.k8s.io/v1beta1", "LeaseCandidate", "warning"),
    ("admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicy", "warning"),
])
def test_issue_11_cases(api_version: str, kind: str, level: str) -> None:
    assert [h.level for h in hits(api_version, kind)] == [level]


def test_regenerating_leaves_the_rule_file_unchanged(tmp_path: Path) -> None:
    before = (ROOT / "rules" / "deprecated-api.yaml").read_text()
    proc = subprocess.run([sys.executable, "-m", "kexlint.tools.lifecycle"], cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == 0
    assert (ROOT / "rules" / "deprecated-api.yaml").read_text() == before


GATEWAY = "gateway.networking.k8s.io"


@pytest.mark.parametrize(("api_version", "kind", "level", "release", "replacement"), [
    (f"{GATEWAY}/v1beta1", "HTTPRoute", "warning", "v1.0", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1beta1", "Gateway", "warning", "v1.0", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1beta1", "GatewayClass", "warning", "v1.0", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "GRPCRoute", "error", "v1.2", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "ReferenceGrant", "error", "v1.2", f"{GATEWAY}/v1beta1"),
    (f"{GATEWAY}/v1beta1", "ReferenceGrant", "warning", "v1.5", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "TLSRoute", "warning", "v1.5", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha3", "TLSRoute", "warning", "v1.5", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "TCPRoute", "warning", "v1.6", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "UDPRoute", "warning", "v1.6", f"{GATEWAY}/v1"),
    ("gateway.networking.x-k8s.io/v1alpha1", "XListenerSet", "error", "v1.5", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "Gateway", "error", "v0.8", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "GatewayClass", "error", "v0.8", f"{GATEWAY}/v1"),
    (f"{GATEWAY}/v1alpha2", "HTTPRoute", "error", "v0.8", f"{GATEWAY}/v1"),
])
def test_gateway_api_versions_name_the_gateway_api_release(
        api_version: str, kind: str, level: str, release: str, replacement: str) -> None:
    # Old and new Kubernetes targets alike: a Gateway API release, not --kube-version, decides.
    for target in ((1, 16), TARGET):
        found = hits(api_version, kind, target)
        assert [h.level for h in found] == [level]
        assert f"since Gateway API {release} (target Gateway API v1.6" in found[0].message  # the default
        assert f"; use {replacement}." in found[0].message
        assert "Kubernetes" not in found[0].message and "not served unless enabled" not in found[0].message


@pytest.mark.parametrize(("api_version", "kind"), [
    (f"{GATEWAY}/v1", "HTTPRoute"), (f"{GATEWAY}/v1", "GRPCRoute"), (f"{GATEWAY}/v1", "TLSRoute"),
    (f"{GATEWAY}/v1", "TCPRoute"), (f"{GATEWAY}/v1", "ListenerSet"), (f"{GATEWAY}/v1", "ReferenceGrant"),
])
def test_served_gateway_api_versions_are_not_flagged(api_version: str, kind: str) -> None:
    assert not hits(api_version, kind)


@pytest.mark.parametrize(("api_version", "kind", "superseded_from"), [
    (f"{GATEWAY}/v1alpha3", "TLSRoute", (1, 5)), (f"{GATEWAY}/v1alpha2", "TLSRoute", (1, 5)),
    (f"{GATEWAY}/v1beta1", "ReferenceGrant", (1, 5)), (f"{GATEWAY}/v1alpha2", "TCPRoute", (1, 6)),
])
def test_gateway_api_versions_are_superseded_only_from_the_release_with_v1(
        api_version: str, kind: str, superseded_from: tuple[int, int]) -> None:
    # Before that release there is no v1 to move to: the old version is the one to use.
    earlier = (superseded_from[0], superseded_from[1] - 1)
    assert not hits(api_version, kind, gateway_api=earlier)
    [hit] = hits(api_version, kind, gateway_api=superseded_from)
    shown = ".".join(map(str, superseded_from))
    assert hit.level == "warning" and f"(target Gateway API v{shown})" in hit.message


def test_a_gateway_api_version_newer_than_the_target_release_is_not_judged() -> None:
    # TLSRoute v1alpha3 came with Gateway API v1.4: a v1.3 target does not define it.
    assert not hits(f"{GATEWAY}/v1alpha3", "TLSRoute", gateway_api=(1, 3))


def test_a_gateway_api_version_the_target_release_dropped_is_an_error() -> None:
    assert not hits(f"{GATEWAY}/v1alpha2", "GRPCRoute", gateway_api=(1, 0))
    assert [h.level for h in hits(f"{GATEWAY}/v1alpha2", "GRPCRoute", gateway_api=(1, 1))] == ["warning"]
    assert [h.level for h in hits(f"{GATEWAY}/v1alpha2", "GRPCRoute", gateway_api=(1, 2))] == ["error"]


def test_gateway_api_entries_survive_regeneration() -> None:
    gateway = [e for e in TABLE if e.get("project")]
    assert len(gateway) == 14 and all(e["project"] == "Gateway API" for e in gateway)
    assert all(e["apiVersion"].split("/")[0] in (GATEWAY, "gateway.networking.x-k8s.io") for e in gateway)
    assert [e for e in lifecycle.generate(TABLE) if e.get("project")] == gateway


def test_the_gateway_api_release_comes_from_the_cli_or_the_config(tmp_path: Path, capsys) -> None:
    from kexlint.cli import main

    route = tmp_path / "route.yaml"
    route.write_text(f"apiVersion: {GATEWAY}/v1alpha3\nkind: TLSRoute\nmetadata: {{name: db}}\n")
    config = tmp_path / ".kexlint.yaml"
    config.write_text('gateway-api-version: "1.4"\n')
    assert main(["--config", str(config), "--fail-on", "warning", str(route)]) == 0
    assert main(["--no-config", "--fail-on", "warning", str(route)]) == 1  # default: the newest release
    assert main(["--config", str(config), "--gateway-api-version", "v1.5.1", "--fail-on", "warning", str(route)]) == 1
    capsys.readouterr()
    config.write_text('gateway-api-version: "latest"\n')
    assert main(["--config", str(config), str(route)]) == 2
    assert "gateway-api-version: 'latest' is not a Gateway API release" in capsys.readouterr().err
    assert main(["--no-config", "--gateway-api-version", "x", str(route)]) == 2
