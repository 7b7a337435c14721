"""What users see from `kexlint`: output formats, exit codes, config, suppression, stdin."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"

HOST_NETWORK_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: influxdb
spec:
  hostNetwork: true
  containers:
  - name: influxdb
    image: influxdb
"""


def kexlint(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real command in a subprocess, as a shell or CI would run it."""
    return subprocess.run([sys.executable, "-m", "kexlint", *args], input=stdin, capture_output=True,
                          cwd=cwd or ROOT, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_examples_text_output_and_exit_code() -> None:
    proc = kexlint("--no-config", "examples/")
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert "examples/influxdb-hostnetwork.yaml:7:3: error host-network hostNetwork: true" in out
    assert "(Pod influxdb)" in out
    assert "examples/influxdb-hostport.yaml:12:7: error host-port hostPort 8086" in out
    assert "examples/influxdb-ingress.yaml:2:1: error deprecated-api extensions/v1beta1 Ingress" in out
    assert "  fix: " in out
    assert out.rstrip().endswith("3 errors, 2 warnings, 0 suppressed in 13 objects from 10 files")
    assert "\033[" not in out  # no colour when not a TTY
    assert proc.stderr == b""


def test_clean_examples_exit_zero() -> None:
    proc = kexlint("--no-config", "examples/clean")
    assert proc.returncode == 0, proc.stdout
    assert b"0 errors, 0 warnings" in proc.stdout


def test_json_shape(lint_json) -> None:
    code, data = lint_json(str(EXAMPLES / "influxdb-hostnetwork.yaml"))
    assert code == 1
    assert set(data) == {"version", "findings", "errors", "summary"}
    finding = data["findings"][0]
    assert finding == {
        "rule": "host-network", "level": "error",
        "message": finding["message"], "fix": finding["fix"],
        "file": str(EXAMPLES / "influxdb-hostnetwork.yaml"), "line": 7, "column": 3,
        "pointer": "/spec/hostNetwork",
        "object": {"apiVersion": "v1", "kind": "Pod", "namespace": None, "name": "influxdb"},
    }
    assert data["summary"]["errors"] == 1 and data["summary"]["objects"] == 1


def test_fail_on_and_warning_exit(lint_json, run_cli) -> None:
    path = str(EXAMPLES / "influxdb-loadbalancer.yaml")
    assert run_cli("--no-config", path)[0] == 0  # a warning only
    assert run_cli("--no-config", "--fail-on", "warning", path)[0] == 1
    assert run_cli("--no-config", "--fail-on", "never", str(EXAMPLES))[0] == 0


def test_stdin_helm_stream_with_filename() -> None:
    helm = ("---\n# Source: chart/templates/pod.yaml\n" + HOST_NETWORK_POD +
            "---\n# Source: chart/templates/empty.yaml\n---\n").encode()
    proc = kexlint("--no-config", "--stdin-filename", "chart.yaml", "-", stdin=helm)
    assert proc.returncode == 1
    assert b"chart.yaml:8:3: error host-network" in proc.stdout


def test_stdin_json() -> None:
    doc = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                      "spec": {"hostNetwork": True, "containers": []}}, indent=1).encode()
    proc = kexlint("--no-config", "--format", "json", "-", stdin=doc)
    data = json.loads(proc.stdout)
    assert [f["rule"] for f in data["findings"]] == ["host-network"]
    assert data["findings"][0]["file"] == "<stdin>"
    assert data["findings"][0]["line"] == 8


def test_config_discovery_levels_and_exclusions(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pod.yaml").write_text(HOST_NETWORK_POD)
    (tmp_path / ".kexlint.yaml").write_text(
        "rules:\n  host-network: warning\n"
        "exclude:\n  - {kind: Service, reason: services are reviewed elsewhere}\n")
    proc = kexlint("pod.yaml", cwd=tmp_path / "sub")  # config found in a parent folder
    assert proc.returncode == 0
    assert b"warning host-network" in proc.stdout
    (tmp_path / ".kexlint.yaml").write_text("rules:\n  host-network: off\n")
    proc = kexlint("pod.yaml", cwd=tmp_path / "sub")
    assert b"0 errors, 0 warnings" in proc.stdout


def test_exclusion_by_path_and_name_counts_as_suppressed(tmp_path: Path, run_cli) -> None:
    (tmp_path / "pod.yaml").write_text(HOST_NETWORK_POD)
    config = tmp_path / "k.yaml"
    config.write_text("exclude:\n  - name: influx*\n    rules: [host-network]\n    reason: legacy pod\n")
    code, out, _ = run_cli("--config", str(config), "--show-suppressed", str(tmp_path / "pod.yaml"))
    assert code == 0
    assert "[suppressed: config: legacy pod]" in out
    assert "0 errors, 0 warnings, 1 suppressed" in out


@pytest.mark.parametrize("content, message", [
    ("rules:\n  no-such-rule: off\n", "rules/no-such-rule: unknown rule"),
    ("fail-on: sometimes\n", 'fail-on: "sometimes" is not allowed; use one of: error, warning, info, never'),
    # A oneOf: which values would do, not jsonschema's "is not valid under any of the given schemas".
    ("rules:\n  ingress-tls: eror\n", 'rules/ingress-tls: "eror" is not allowed; use one of: off, error, '
                                    "warning, info, false, a mapping with level, enabled, params"),
    ("node-port-range: 40000-30000\n", "node-port-range: '40000-30000' is not a port range"),
    ("kube-version: 1.30\n", "kube-version: 1.3 is not of type 'string'"),
    ("exclude:\n  - kind: Pod\n", "exclude/0: 'reason' is a required property"),
    ("rules: [\n", "invalid YAML"),
])
def test_bad_config_is_exit_2_with_path(tmp_path: Path, run_cli, content: str, message: str) -> None:
    config = tmp_path / ".kexlint.yaml"
    config.write_text(content)
    code, out, err = run_cli("--config", str(config), str(EXAMPLES))
    assert code == 2
    assert err.startswith(f"kexlint: error: {config}")
    assert message in err
    assert "Traceback" not in err


def test_suppression_annotation_needs_a_reason(tmp_path: Path, lint_json) -> None:
    pod = HOST_NETWORK_POD.replace("  name: influxdb\n", "  name: influxdb\n  annotations:\n"
                                   "    ignore.kexlint.io/host-network: \"{reason}\"\n")
    (tmp_path / "a.yaml").write_text(pod.format(reason="CNI plugin"))
    (tmp_path / "b.yaml").write_text(pod.format(reason=" "))
    code, data = lint_json("--show-suppressed", str(tmp_path))
    found = [(f["file"].rsplit("/", 1)[1], f["rule"], f["level"]) for f in data["findings"]]
    # The empty reason does not suppress, and says so (info finding of the suppression rule).
    assert found == [("b.yaml", "suppression", "info"), ("b.yaml", "host-network", "error")]
    assert data["suppressed"][0]["suppressed"] == "annotation: CNI plugin"
    assert data["summary"]["suppressed"] == 1


def test_kube_version_and_node_port_range_flags(tmp_path: Path, lint_json) -> None:
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
                                       "  type: NodePort\n  ports: [{port: 80, nodePort: 8080}]\n")
    assert lint_json(str(tmp_path))[1]["summary"]["errors"] == 1
    assert lint_json("--node-port-range", "8000+100", str(tmp_path))[1]["summary"]["errors"] == 0
    ingress = EXAMPLES / "influxdb-ingress.yaml"
    levels = {f["rule"]: f["level"] for f in lint_json("--kube-version", "1.20", str(ingress))[1]["findings"]}
    assert levels["deprecated-api"] == "warning"


def test_rules_and_explain(run_cli) -> None:
    code, out, _ = run_cli("rules")
    assert code == 0
    ids = [line.split()[0] for line in out.strip().split("\n")]
    assert ids == sorted(ids) and "host-network" in ids and len(ids) == len(list(RULES.glob("*.yaml")))
    code, out, _ = run_cli("explain", "host-port")
    assert code == 0
    for section in ("What it does", "Why it matters", "How to fix", "Example", "Use instead", "Suppress"):
        assert section in out
    code, _, err = run_cli("explain", "nope")
    assert code == 2 and "no rule 'nope'" in err


def test_usage_errors(run_cli) -> None:
    assert run_cli()[0] == 2
    code, out, _ = run_cli("--no-config", "does-not-exist.yaml", str(EXAMPLES / "influxdb-hostport.yaml"))
    assert code == 2  # unreadable input wins, but the other file is still linted
    # The path, not a position in a file that does not exist.
    assert "does-not-exist.yaml: error input no such file or directory" in out.splitlines()
    assert "host-port" in out
    with pytest.raises(SystemExit) as exit_info:
        from kexlint.cli import main
        main(["--format", "xml", "x"])
    assert exit_info.value.code == 2


def test_output_file(tmp_path: Path, run_cli) -> None:
    target = tmp_path / "report.sarif"
    code, out, _ = run_cli("--no-config", "-f", "sarif", "-o", str(target), str(EXAMPLES))
    assert code == 1 and out == ""
    sarif = json.loads(target.read_text())
    assert sarif["version"] == "2.1.0"


def test_lint_path_does_not_import_webhook_dependencies() -> None:
    code = ("import sys, io; from kexlint.cli import main; sys.stdout = io.StringIO(); "
            f"main(['--no-config', {str(EXAMPLES)!r}]); "
            "bad = [m for m in ('flask', 'cryptography', 'gunicorn', 'werkzeug', 'ruamel') if m in sys.modules]; "
            "sys.__stdout__.write(repr(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout == "[]", proc.stderr


def test_stdin_in_process(monkeypatch, run_cli) -> None:
    class FakeStdin:
        buffer = io.BytesIO(HOST_NETWORK_POD.encode())

    monkeypatch.setattr("sys.stdin", FakeStdin)
    code, out, _ = run_cli("--no-config", "-")
    assert code == 1 and "<stdin>:6:3: error host-network" in out


def test_helm_chart_templates_are_skipped(tmp_path: Path, lint_json) -> None:
    """Chart templates are Go templates, not manifests: pre-commit hands them over (by name) and
    directories contain them, but only `helm template`'s output is linted."""
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("hostNetwork: true\n")
    template = chart / "templates" / "pod.yaml"
    template.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n"
                        "spec:\n  hostNetwork: {{ .Values.hostNetwork }}\n  containers: []\n")
    # A folder called templates without a Chart.yaml above it is just a folder.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "pod.yaml").write_text(HOST_NETWORK_POD)
    code, data = lint_json(str(tmp_path))
    assert data["errors"] == []
    assert [f["file"] for f in data["findings"]] == [str(tmp_path / "templates" / "pod.yaml")]
    code, data = lint_json(str(template))
    assert code == 0 and data["errors"] == [] and data["summary"]["files"] == 0


def test_path_exclusions_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "pod.yaml").write_text(HOST_NETWORK_POD)
    (tmp_path / ".kexlint.yaml").write_text("exclude:\n  - path: 'legacy/**'\n    reason: being replaced\n")
    for cwd, target in ((tmp_path, "legacy/pod.yaml"), (tmp_path / "legacy", "pod.yaml"),
                        (tmp_path, str(tmp_path / "legacy" / "pod.yaml"))):
        proc = kexlint("--show-suppressed", target, cwd=cwd)
        assert proc.returncode == 0, (cwd, target, proc.stdout)
        assert b"[suppressed: config: being replaced]" in proc.stdout
