"""SARIF output: valid for the OASIS schema and for Microsoft's SARIF Multitool, and carrying what
GitHub code scanning uses (rule help and helpUri, levels, regions, stable partialFingerprints)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from .conftest import ROOT, SCHEMAS, run_kexlint

HOST_NETWORK_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: influxdb
  namespace: tsdb
spec:
  hostNetwork: true
  containers:
  - name: influxdb
    image: influxdb
    ports:
    - containerPort: 8086
      hostPort: 8086
"""

NODE_PORT_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: legacy
  annotations:
    ignore.kexlint.io/node-port-range: "old cluster with a widened range"
spec:
  type: NodePort
  selector: {app: legacy}
  ports:
  - port: 80
    nodePort: 80
"""

# Multitool notes (best-practice hints, level "note") that we accept, and why:
ACCEPTED_NOTES = {
    "SARIF2002": "message ids with arguments instead of text: plain text is what GitHub shows",
    "SARIF2003": "versionControlProvenance: upload-sarif adds the commit and ref itself",
    "SARIF2006": "URIs should be reachable: the validator is offline here (schema and docs links)",
    "SARIF2009": "conventional rule ids (ABC1234): ours are the readable ids users suppress by",
    "SARIF2010": "code snippets: the reporter has no file text; GitHub shows the file itself",
    "SARIF2011": "context regions: as for snippets",
    "SARIF2016": "file URIs should be relative: only for absolute paths given on the command line",
}


def _validator_command() -> list[str]:
    """The Multitool binary for this platform, as its npm wrapper resolves it (without the wrapper's
    `shell: true`, which would split our `Sarif;Gh` arguments at the semicolon)."""
    node = shutil.which("node")
    if node is None or shutil.which("npx") is None:
        pytest.skip("node/npx not found: the SARIF Multitool validator is an npm package (run `npm ci`)")
    def locate() -> subprocess.CompletedProcess:
        return subprocess.run([node, "-e", "console.log(require('@microsoft/sarif-multitool'))"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    found = locate()
    npm = shutil.which("npm")
    if found.returncode != 0 and npm is not None:
        # The README's one-line test command installs only Python packages: fetch the pinned
        # validator here (package-lock.json) rather than fail on a machine that has node.
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True, timeout=600)
        found = locate()
    if found.returncode != 0:
        pytest.fail("node is here but @microsoft/sarif-multitool could not be installed: run `npm ci` in the "
                    f"repository root\n{found.stderr}")
    return [found.stdout.strip()]


@pytest.fixture(scope="module")
def multitool() -> list[str]:
    return _validator_command()


@pytest.fixture(scope="module")
def sarif_schema() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text("utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _sarif(*args: str, cwd: Path, stdin: str | None = None) -> dict[str, Any]:
    done = run_kexlint("-f", "sarif", "--no-config", *args, cwd=cwd, stdin=stdin)
    assert done.returncode in (0, 1, 2), done.stderr
    return json.loads(done.stdout)


def _logs(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """SARIF logs covering every shape of result: findings, suppressed ones, input errors,
    absolute paths, stdin and a kustomize rendering."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pod.yaml").write_text(HOST_NETWORK_POD)
    (tmp_path / "deploy" / "svc.yaml").write_text(NODE_PORT_SERVICE)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    logs = {
        "relative": _sarif("--show-suppressed", "deploy", "broken", cwd=tmp_path),
        "absolute": _sarif(str(tmp_path / "deploy" / "pod.yaml"), cwd=tmp_path),
        "stdin": _sarif("--stdin-filename", "rendered/all.yaml", "-", cwd=tmp_path, stdin=HOST_NETWORK_POD),
        "clean": _sarif("-", cwd=tmp_path, stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
    }
    if shutil.which("kubectl"):
        (tmp_path / "base").mkdir()
        (tmp_path / "base" / "pod.yaml").write_text(HOST_NETWORK_POD)
        (tmp_path / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
        logs["kustomize"] = _sarif("base", cwd=tmp_path)
    return logs


def test_multitool_reports_no_errors_or_warnings(tmp_path: Path, multitool: list[str]) -> None:
    for name, log in _logs(tmp_path).items():
        path = tmp_path / f"{name}.sarif"
        path.write_text(json.dumps(log, indent=2))
        out = tmp_path / f"{name}.validation.sarif"
        done = subprocess.run([*multitool, "validate", str(path), "--rule-kind", "Sarif;Gh",
                               "--level", "Error;Warning;Note", "--output", str(out), "--log", "ForceOverwrite"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
        results = json.loads(out.read_text("utf-8-sig"))["runs"][0]["results"]
        serious = [r for r in results if r.get("level", "warning") in ("error", "warning")]
        assert not serious, f"{name}: {json.dumps(serious, indent=1)}"
        unexplained = {r["ruleId"] for r in results} - set(ACCEPTED_NOTES)
        assert not unexplained, f"{name}: new Multitool notes {unexplained}; fix or explain them"


def test_valid_against_the_oasis_schema(tmp_path: Path, sarif_schema: jsonschema.Draft4Validator) -> None:
    for name, log in _logs(tmp_path).items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in sarif_schema.iter_errors(log)]
        assert not errors, f"{name}: {errors[:5]}"


def test_carries_what_github_code_scanning_reads(tmp_path: Path) -> None:
    log = _logs(tmp_path)["relative"]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"].endswith(f"docs/rules/{rule['id']}.md")
        # helpUri names a document that is checked in.
        assert (ROOT / "docs" / "rules" / f"{rule['id']}.md").is_file()
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        # GitHub's security severity: a number in a string, high for rules that default to error.
        severity = float(rule["properties"]["security-severity"])
        level = rule["defaultConfiguration"]["level"]
        assert severity >= 7.0 if level == "error" else 0.0 < severity < 7.0
    by_rule = {r["ruleId"]: r for r in run["results"]}
    host_network = by_rule["host-network"]
    assert host_network["level"] == "error"
    assert rules[host_network["ruleIndex"]]["id"] == "host-network"
    location = host_network["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "deploy/pod.yaml"
    assert location["region"] == {"startLine": 7, "startColumn": 3}
    assert host_network["partialFingerprints"]["kexlintFinding/v1"]
    # Suppressed findings (--show-suppressed) are results with a suppression, which GitHub honours.
    assert by_rule["node-port-range"]["suppressions"][0]["kind"] == "inSource"
    # Unparsable input is a tool notification, not a result.
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes and notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken/bad.yaml"
    assert run["invocations"][0]["executionSuccessful"] is False


def test_absolute_paths_are_file_uris_and_stdin_uses_its_name(tmp_path: Path) -> None:
    logs = _logs(tmp_path)
    uri = logs["absolute"]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (tmp_path / "deploy" / "pod.yaml").as_uri()
    uri = logs["stdin"]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "rendered/all.yaml"
    assert logs["clean"]["runs"][0]["results"] == []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_results_point_at_the_kustomization_file(tmp_path: Path) -> None:
    result = next(r for r in _logs(tmp_path)["kustomize"]["runs"][0]["results"] if r["ruleId"] == "host-network")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "base/kustomization.yaml"
    assert location["region"] == {"startLine": 1}
    assert result["properties"]["renderedFrom"] == "base (kustomize)"
    assert f"line {result['properties']['renderedLine']} of the rendered output" in result["message"]["text"]


def _fingerprints(log: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {r["partialFingerprints"]["kexlintFinding/v1"]: (r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in log["runs"][0]["results"]}


def test_fingerprints_survive_edits_that_shift_lines(tmp_path: Path) -> None:
    # Two host ports (without hostNetwork: under it a hostPort equal to its containerPort is part of
    # the host-network finding).
    pod = HOST_NETWORK_POD.replace("  hostNetwork: true\n", "").replace(
        "      hostPort: 8086\n", "      hostPort: 8086\n    - containerPort: 8088\n      hostPort: 8088\n")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(pod)
    before = _fingerprints(_sarif("app.yaml", cwd=tmp_path))
    # Unrelated edits above the finding: a comment, another object, reformatted metadata.
    manifest.write_text("# owned by team tsdb\n\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n---\n"
                        + pod.replace("  name: influxdb\n", "  name: influxdb\n  labels: {a: b}\n"))
    after = _fingerprints(_sarif("app.yaml", cwd=tmp_path))
    assert set(before) == set(after) and len(before) == 2
    for key, (rule, line) in before.items():
        assert after[key][0] == rule and after[key][1] == line + 7  # the same result, moved down
    # …while a different object or field gets a different fingerprint.
    manifest.write_text(pod.replace("name: influxdb\n  namespace", "name: grafana\n  namespace"))
    assert not set(_fingerprints(_sarif("app.yaml", cwd=tmp_path))) & set(before)
