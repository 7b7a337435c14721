"""`kexlint audit`: what runs in the cluster, linted, through the CLI, against the fake apiserver."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
import yaml

from kexlint.cluster import KINDS
from kexlint.cluster.helm import ReleaseError, decode_release, latest_deployed

DATA = Path(__file__).resolve().parent.parent / "data" / "apiserver"
DS, DEPLOY, POD, SECRET = KINDS["DaemonSet"], KINDS["Deployment"], KINDS["Pod"], KINDS["Secret"]


def daemonset(name: str, port: int = 9100) -> dict:
    return {"metadata": {"name": name, "namespace": "monitoring"},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i:1",
                                         "ports": [{"containerPort": port, "hostPort": port}]}]}}}}


def audit(run_cli, fake_api, *argv: str) -> tuple[int, dict, str]:
    code, out, err = run_cli("audit", "--no-config", "--format", "json", "--kubeconfig", str(fake_api.kubeconfig),
                             *argv)
    return code, (json.loads(out) if out else {}), err


def test_audit_reports_by_object_and_owned_pods_through_their_owner(fake_api, run_cli):
    fake_api.put(DS, daemonset("node-exporter"))
    fake_api.put(DS, daemonset("other-exporter"))
    owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-exporter", "controller": True, "uid": "u"}
    fake_api.put(POD, {"metadata": {"name": "node-exporter-x", "namespace": "monitoring", "ownerReferences": [owner]},
                       "spec": daemonset("x")["spec"]["template"]["spec"]})
    code, report, _ = audit(run_cli, fake_api)
    assert code == 1
    findings = report["findings"]
    assert all(f["file"] is None for f in findings)
    conflicts = sorted(f["object"]["name"] for f in findings if f["rule"] == "host-port-conflict")
    assert conflicts == ["node-exporter", "other-exporter"]  # the owned Pod is no third party
    assert not [f for f in findings if f["object"]["name"] == "node-exporter-x"]


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit", "github", "json"])
def test_every_output_format_copes_without_a_file(fake_api, run_cli, fmt):
    fake_api.put(DS, daemonset("node-exporter"))
    code, out, err = run_cli("audit", "--no-config", "--format", fmt, "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1, err
    if fmt == "text":
        where = "DaemonSet monitoring/node-exporter /spec/template/spec/containers/0/ports/0/hostPort"
        assert f"{where}: error host-port" in out
    if fmt == "sarif":
        result = json.loads(out)["runs"][0]["results"][0]
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("DaemonSet monitoring/")


def test_last_applied_configuration_shows_a_deprecated_api(fake_api, run_cli):
    applied = {"apiVersion": "extensions/v1beta1", "kind": "Deployment",
               "metadata": {"name": "old", "namespace": "default"},
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}
    stored = {"metadata": {"name": "old", "namespace": "default", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}},
        "spec": applied["spec"]}
    fake_api.put(DEPLOY, stored)
    code, report, _ = audit(run_cli, fake_api)
    deprecated = [f for f in report["findings"] if f["rule"] == "deprecated-api"]
    assert code == 1 and len(deprecated) == 1
    assert deprecated[0]["object"]["apiVersion"] == "extensions/v1beta1"
    assert deprecated[0]["object"]["name"] == "old"


def test_helm_release_secret_decodes_to_the_recorded_release():
    listing = json.loads((DATA / "helm-release-secret-list.json").read_text())
    assert decode_release(listing["items"][0]) == json.loads((DATA / "helm-release-decoded.json").read_text())
    [release], problems = latest_deployed(listing["items"])
    assert problems == [] and (release.namespace, release.name, release.revision) == ("default", "demo", 1)
    assert "kind: Deployment" in release.manifest


def release_secret(name: str, revision: int, status: str, manifest: str) -> dict:
    body = json.dumps({"name": name, "namespace": "default", "version": revision, "info": {"status": status},
                       "manifest": manifest}).encode()
    data = base64.b64encode(base64.b64encode(gzip.compress(body))).decode()
    return {"metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": "default",
                         "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
            "type": "helm.sh/release.v1", "data": {"release": data}}


def test_only_the_latest_deployed_revision_counts():
    old = yaml.safe_dump({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "a"}})
    new = yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}})
    secrets = [release_secret("app", 1, "superseded", old), release_secret("app", 2, "deployed", new),
               release_secret("app", 3, "failed", old)]
    [release], _ = latest_deployed(secrets)
    assert release.revision == 2 and "apps/v1" in release.manifest
    broken = {**secrets[1], "data": {"release": base64.b64encode(b"not base64!").decode()}}
    with pytest.raises(ReleaseError, match="Secret default/sh.helm.release.v1.app.v2: not a Helm release"):
        decode_release(broken)


def test_helm_releases_are_checked_for_deprecated_apis_only_when_asked(fake_api, run_cli):
    manifest = yaml.safe_dump({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
                               "metadata": {"name": "web", "namespace": "default"}, "spec": {}})
    fake_api.put(SECRET, release_secret("shop", 4, "deployed", "---\n" + manifest))
    code, report, _ = audit(run_cli, fake_api)
    assert not [f for f in report["findings"] if f["rule"] == "deprecated-api"]
    assert "/api/v1/secrets" not in {path for path, _ in fake_api.requests}
    code, report, _ = audit(run_cli, fake_api, "--helm-releases")
    [finding] = [f for f in report["findings"] if f["rule"] == "deprecated-api"]
    # Named by release, at the apiVersion line of its manifest (after the leading ---).
    assert finding["file"] == "helm release default/shop (revision 4)" and finding["line"] == 2
    fake_api.forbidden = {"secrets"}
    code, report, err = audit(run_cli, fake_api, "--helm-releases")
    assert "kexlint: warning: cannot list secrets" in err and report["findings"]


def test_audit_of_a_snapshot_and_an_unreachable_cluster(fake_api, run_cli, tmp_path):
    snapshot = tmp_path / "cluster.yaml"
    items = [{"apiVersion": "apps/v1", "kind": "DaemonSet", **daemonset(n)} for n in ("a", "b")]
    snapshot.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    code, report, _ = audit(run_cli, fake_api, "--from", str(snapshot))
    assert code == 1 and len([f for f in report["findings"] if f["rule"] == "host-port-conflict"]) == 2
    fake_api.stop()
    code, out, err = run_cli("audit", "--no-config", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("kexlint: error: ")
