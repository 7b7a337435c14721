"""Helm charts: rendered with the real helm 4 (tests/k8s_tools.py) when it is on PATH; without it,
named charts are one input error and charts met in a walk have their templates skipped and counted."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.k8s_tools import tool, tools_dir

from .conftest import run_kexlint

CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
VALUES = "hostNetwork: false\nreplicas: 1\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: {{ .Values.hostNetwork }}
      containers:
      - name: web
        image: nginx
"""
# Plain YAML under templates/: a manifest like any other, linted even without helm.
PLAIN_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: plain
spec:
  type: NodePort
  ports:
  - port: 80
    nodePort: 80
"""


def _chart(root: Path, name: str = "web") -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.replace("name: web", f"name: {name}"))
    (chart / "values.yaml").write_text(VALUES)
    (chart / "templates" / "service.yaml").write_text(PLAIN_SERVICE)
    (chart / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    return chart


def _with_helm() -> dict[str, str]:
    return {"PATH": f"{tools_dir()}{os.pathsep}{os.environ['PATH']}"}


def _without_helm(tmp_path: Path) -> dict[str, str]:
    # Only python's own folder: no helm (nor kubectl) anywhere on PATH.
    bin_dir = tmp_path / "nohelm-bin"
    bin_dir.mkdir(exist_ok=True)
    return {"PATH": str(bin_dir)}


def test_values_that_switch_host_network_on_are_found(tmp_path: Path) -> None:
    _chart(tmp_path)
    clean = run_kexlint("--no-config", "-f", "json", "web", cwd=tmp_path, env=_with_helm())
    rules = {f["rule"] for f in json.loads(clean.stdout)["findings"]}
    assert "host-network" not in rules, clean.stdout + clean.stderr
    assert "node-port-range" in rules  # the plain template is rendered too

    (tmp_path / "on.yaml").write_text("hostNetwork: true\n")
    for extra in (["--helm-values", "on.yaml"], ["--helm-set", "hostNetwork=true"]):
        done = run_kexlint("--no-config", *extra, "web", cwd=tmp_path, env=_with_helm())
        assert done.returncode == 1, done.stdout + done.stderr
        line = next(x for x in done.stdout.splitlines() if " host-network " in x)
        # The rendered stream's line, and the template with the line inside its rendered output.
        assert line.startswith("web (helm):")
        assert line.endswith("(Deployment release-name-web) [template web/templates/deployment.yaml, line 11]")
        assert "1 object" not in done.stdout and "from 1 file" in done.stdout


def test_template_is_named_in_json_sarif_and_github(tmp_path: Path) -> None:
    _chart(tmp_path)
    args = ("--no-config", "--helm-set", "hostNetwork=true", "web")
    data = json.loads(run_kexlint("-f", "json", *args, cwd=tmp_path, env=_with_helm()).stdout)
    finding = next(f for f in data["findings"] if f["rule"] == "host-network")
    assert finding["file"] == "web (helm)"
    assert finding["template"] == {"name": "web/templates/deployment.yaml", "line": 11}

    sarif = json.loads(run_kexlint("-f", "sarif", *args, cwd=tmp_path, env=_with_helm()).stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "host-network")
    assert result["properties"]["template"] == "web/templates/deployment.yaml"
    assert result["properties"]["templateLine"] == 11
    assert "template web/templates/deployment.yaml, line 11" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert location == "web/Chart.yaml"

    github = run_kexlint("-f", "github", *args, cwd=tmp_path, env=_with_helm()).stdout
    annotation = next(x for x in github.splitlines() if "host-network" in x)
    assert annotation.startswith("::error file=web/Chart.yaml,title=kexlint host-network::")
    assert "(template web/templates/deployment.yaml, line 11)" in annotation


def test_a_template_syntax_error_is_one_line_naming_the_chart(tmp_path: Path) -> None:
    chart = _chart(tmp_path, "broken")
    (chart / "templates" / "deployment.yaml").write_text(DEPLOYMENT.replace("{{ .Release.Name }}", "{{ .Release.Name"))
    done = run_kexlint("--no-config", "broken", cwd=tmp_path, env=_with_helm())
    assert done.returncode == 2
    first = done.stdout.splitlines()[0]
    assert first.startswith("broken (helm): error input `helm template broken` failed: ")
    assert "broken/templates/deployment.yaml" in first
    assert "Traceback" not in done.stderr


def test_a_packaged_chart_tgz_is_rendered(tmp_path: Path) -> None:
    _chart(tmp_path)
    subprocess.run([tool("helm"), "package", "web", "-d", "dist"], cwd=tmp_path, check=True,
                   capture_output=True)
    (package,) = (tmp_path / "dist").glob("*.tgz")
    done = run_kexlint("--no-config", "--helm-set", "hostNetwork=true", f"dist/{package.name}", cwd=tmp_path,
                       env=_with_helm())
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"dist/{package.name} (helm):" in done.stdout
    assert "[template web/templates/deployment.yaml, line 11]" in done.stdout


def test_a_chart_in_a_walked_directory_is_rendered_with_helm(tmp_path: Path) -> None:
    _chart(tmp_path / "charts")
    done = run_kexlint("--no-config", "--helm-set", "hostNetwork=true", ".", cwd=tmp_path, env=_with_helm())
    assert "charts/web (helm):" in done.stdout and " host-network " in done.stdout
    assert "skipped" not in done.stdout


def test_named_chart_without_helm_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _chart(tmp_path)
    done = run_kexlint("--no-config", "web", cwd=tmp_path, env=_without_helm(tmp_path))
    assert done.returncode == 2
    assert done.stdout.splitlines()[0] == (
        "web: error input Helm chart web skipped: rendering it needs helm on PATH, which was not found; "
        "install helm, or render it yourself: helm template web | kexlint -")
    assert done.stderr == ""


def test_chart_met_in_a_walk_without_helm_skips_only_templates_and_says_so(tmp_path: Path) -> None:
    # Issue 11: a Chart.yaml used to hide every file under templates/, plain YAML too.
    _chart(tmp_path / "charts")
    done = run_kexlint("--no-config", ".", cwd=tmp_path, env=_without_helm(tmp_path))
    assert done.returncode == 1, done.stdout  # the plain template's nodePort 80, not an input error
    assert "./charts/web/templates/service.yaml:9:5: error node-port-range" in done.stdout
    lines = done.stdout.splitlines()
    assert "skipped 1 file: Helm template (contains `{{`): lint the rendered chart, `kexlint CHART_DIR` " \
           "with helm on PATH" in lines
    # Chart.yaml and values.yaml are read (and hold no object); the Go template is not.
    assert lines[-1].endswith("in 1 object from 3 files, 1 file skipped")


def test_a_named_template_is_not_skipped_silently(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    done = run_kexlint("--no-config", "-f", "json", str(chart / "templates" / "deployment.yaml"),
                       cwd=tmp_path, env=_without_helm(tmp_path))
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["errors"] == []
    assert data["summary"]["skipped"] == 1
    assert data["skipped"][0]["file"].endswith("templates/deployment.yaml")
    assert "Helm template" in data["skipped"][0]["reason"]


def test_helm_missing_message_names_the_pipe(tmp_path: Path) -> None:
    # The message's advice works: helm template CHART | kexlint - lints the same chart.
    _chart(tmp_path)
    rendered = subprocess.run([tool("helm"), "template", "web", "--set", "hostNetwork=true"], cwd=tmp_path,
                              check=True, capture_output=True, text=True).stdout
    done = run_kexlint("--no-config", "-", stdin=rendered, cwd=tmp_path)
    assert done.returncode == 1 and " host-network " in done.stdout


def test_a_chart_beside_plain_files_with_jobs_2_gives_the_jobs_1_output(tmp_path: Path) -> None:
    # The rendered chart is linted in a worker like any file; its nodePort 80 conflicts with files'
    # Services that other workers read, and the findings still name the template.
    from kexlint.parallel import MIN_BYTES_ENV, TRACE_ENV

    _chart(tmp_path)
    for i in range(6):
        (tmp_path / f"svc-{i}.yaml").write_text(PLAIN_SERVICE.replace("name: plain", f"name: svc-{i}"))
    env = {**_with_helm(), MIN_BYTES_ENV: "0", TRACE_ENV: "1"}
    args = ("--no-config", "-f", "json", "--helm-set", "hostNetwork=true", ".")
    one = run_kexlint("--jobs", "1", *args, cwd=tmp_path, env=env)
    two = run_kexlint("--jobs", "2", *args, cwd=tmp_path, env=env)
    assert "pool of 2 workers" in two.stderr and "pool" not in one.stderr
    assert one.stdout == two.stdout and one.returncode == two.returncode == 1
    findings = json.loads(two.stdout)["findings"]
    assert any(f["rule"] == "host-network" and f["template"]["name"] == "web/templates/deployment.yaml"
               for f in findings)
    conflicts = [f for f in findings if f["rule"] == "node-port-conflict"]
    assert {f["file"] for f in conflicts} >= {"./web (helm)", "./svc-0.yaml"}, conflicts
