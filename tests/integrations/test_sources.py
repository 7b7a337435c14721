"""Rendered sources: kustomization directories (kubectl kustomize), and pipes into `kexlint -`
(helm template, with --stdin-filename)."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from kexlint.loader import InputError
from kexlint.sources import kustomization_file, render_kustomize

from .conftest import run_kexlint

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  hostNetwork: true
  containers:
  - name: web
    image: nginx
"""

# What `helm template` prints: documents introduced by `---` and a `# Source:` comment.
HELM_OUTPUT = """\
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: release-web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    nodePort: 80
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
      - name: web
        image: nginx
"""


def _overlay(root: Path, name: str = "kustomization.yaml") -> Path:
    (root / "base").mkdir(parents=True)
    (root / "base" / "pod.yaml").write_text(POD)
    (root / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    prod = root / "overlays" / "prod"
    prod.mkdir(parents=True)
    (prod / name).write_text("resources: [../../base]\nnamespace: prod\nnamePrefix: prod-\n")
    # A file beside the kustomization that it does not include: not what the cluster gets.
    (prod / "unused-patch.yaml").write_text(POD.replace("name: web\nspec", "name: unused\nspec"))
    return prod


@needs_kubectl
@pytest.mark.parametrize("name", ["kustomization.yaml", "kustomization.yml", "Kustomization"])
def test_kustomization_directory_is_rendered_not_walked(tmp_path: Path, name: str) -> None:
    _overlay(tmp_path, name)
    done = run_kexlint("--no-config", "overlays/prod", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    # The rendered object (namespace and prefix applied), named as the rendered source.
    assert first.startswith("overlays/prod (kustomize):")
    assert "error host-network" in first and "(Pod prod/prod-web)" in first
    assert "unused" not in done.stdout
    assert "1 object from 1 file" in done.stdout


@needs_kubectl
def test_a_parent_directory_is_still_walked_file_by_file(tmp_path: Path) -> None:
    # Only a directory given as a PATH is rendered; below a walked directory files are files.
    _overlay(tmp_path)
    done = run_kexlint("--no-config", ".", cwd=tmp_path)
    assert "(kustomize)" not in done.stdout
    assert "base/pod.yaml:6:3" in done.stdout and "overlays/prod/unused-patch.yaml:6:3" in done.stdout


def test_missing_kubectl_is_one_clear_line(tmp_path: Path) -> None:
    _overlay(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    done = run_kexlint("--no-config", "overlays/prod", cwd=tmp_path, env={"PATH": str(bin_dir)})
    assert done.returncode == 2
    assert done.stdout.splitlines()[0] == (
        "overlays/prod (kustomize): error input overlays/prod is a kustomization; rendering it needs "
        "kubectl on PATH (`kubectl kustomize`), which was not found")


@needs_kubectl
def test_a_failing_build_names_the_directory(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    done = run_kexlint("--no-config", "broken", cwd=tmp_path)
    assert done.returncode == 2
    line = done.stdout.splitlines()[0]
    assert line.startswith("broken (kustomize): error input `kubectl kustomize broken` failed: ")
    assert "missing.yaml" in line


def _fake_kubectl(folder: Path, script: str) -> None:
    folder.mkdir()
    path = folder / "kubectl"
    path.write_text(f"#!{sys.executable}\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_render_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_kubectl(tmp_path / "bin", "import time; time.sleep(30)")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ.get("PATH", ""))
    prod = _overlay(tmp_path)
    with pytest.raises(InputError, match=r"did not finish within 0.5 s"):
        render_kustomize(str(prod), max_bytes=1 << 20, timeout=0.5)


def test_render_output_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_kubectl(tmp_path / "bin", "import sys; sys.stdout.write('#' * 5000)")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ.get("PATH", ""))
    prod = _overlay(tmp_path)
    assert kustomization_file(str(prod)) == str(prod / "kustomization.yaml")
    with pytest.raises(InputError, match="over the 0 MiB limit"):
        render_kustomize(str(prod), max_bytes=1000)


def test_helm_template_pipe_with_stdin_filename(tmp_path: Path) -> None:
    done = run_kexlint("--no-config", "--stdin-filename", "charts/web (helm template)", "-", stdin=HELM_OUTPUT,
                       cwd=tmp_path)
    assert done.returncode == 1
    stream = HELM_OUTPUT.splitlines()
    found = [line for line in done.stdout.splitlines() if line.startswith("charts/web (helm template):")]
    assert [line.split(": ")[1].split()[1] for line in found] == ["node-port-range", "host-network"]
    # Each line:column is a position in the piped stream.
    for line in found:
        row, column = (int(n) for n in line.split(" (helm template):")[1].split(":")[:2])
        field = "nodePort: 80" if "node-port-range" in line else "hostNetwork: true"
        assert stream[row - 1][column - 1:].startswith(field), (line, stream[row - 1])
    assert "2 objects from 1 file" in done.stdout


def test_stdin_filename_is_what_config_exclusions_match(tmp_path: Path) -> None:
    (tmp_path / ".kexlint.yaml").write_text(
        "exclude:\n- path: rendered/**\n  rules: [host-network]\n  reason: node agents chart\n")
    excluded = run_kexlint("--stdin-filename", "rendered/agents.yaml", "-", stdin=POD, cwd=tmp_path)
    assert excluded.returncode == 0, excluded.stdout
    other = run_kexlint("--stdin-filename", "apps/web.yaml", "-", stdin=POD, cwd=tmp_path)
    assert other.returncode == 1 and other.stdout.startswith("apps/web.yaml:6:3: error host-network")


def test_stdin_without_a_name_and_strict_about_non_objects(tmp_path: Path) -> None:
    # A pipe is meant to be manifests: a non-object document there is reported, not skipped.
    done = run_kexlint("--no-config", "-", stdin=POD + "---\n- just\n- a list\n", cwd=tmp_path)
    assert done.returncode == 2
    assert "<stdin>:6:3: error host-network" in done.stdout
    assert "<stdin>:11:1: error input document 2 is a list, not a Kubernetes object" in done.stdout
