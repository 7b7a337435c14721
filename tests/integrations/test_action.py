"""The GitHub Action (action.yml): valid against the published action metadata schema (shipped by
PyPI check-jsonschema as vendor.github-actions), and its lint script does what the inputs say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import ROOT

ACTION = ROOT / "action.yml"


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_action_metadata_is_valid() -> None:
    done = _check(ACTION)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_catches_a_broken_action(tmp_path: Path) -> None:
    # So that the test above can fail: a composite step without `shell` is invalid.
    action = yaml.safe_load(ACTION.read_text())
    del action["runs"]["steps"][1]["shell"]
    broken = tmp_path / "action.yml"
    broken.write_text(yaml.safe_dump(action))
    assert _check(broken).returncode == 1


def _step(name: str) -> dict:
    return next(step for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"] if step.get("name") == name)


def _run_step(name: str, inputs: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The step's script under bash, with its env as the runner would expand ${{ inputs.* }}."""
    step = _step(name)
    env = {key: value.replace("${{ inputs.", "").replace(" }}", "") for key, value in step.get("env", {}).items()}
    env = {key: inputs[value] for key, value in env.items()}
    bin_dir = Path(sys.executable).parent  # kexlint's console script lives beside this python
    full_env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                "PYTHONPATH": str(ROOT), "GITHUB_OUTPUT": str(cwd / "github-output")}
    return subprocess.run([shutil.which("bash") or "bash", "-e", "-c", step["run"]], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=120)


def test_lint_step_passes_the_inputs_on(tmp_path: Path) -> None:
    if shutil.which("kexlint", path=str(Path(sys.executable).parent)) is None:
        import pytest

        pytest.skip("the kexlint console script is not installed beside this python")
    inputs = {"paths": f"{ROOT / 'examples' / 'influxdb-hostnetwork.yaml'}\n{ROOT / 'examples' / 'clean'}",
              "format": "github", "fail-on": "error", "config": ""}
    done = _run_step("Lint", inputs, tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("::error file=") and "kexlint: 1 error, " in done.stdout
    done = _run_step("Lint", {**inputs, "fail-on": "never"}, tmp_path)
    assert done.returncode == 0
    done = _run_step("Write SARIF", inputs, tmp_path)
    assert done.returncode == 0 and (tmp_path / "kexlint.sarif").is_file()
    assert (tmp_path / "github-output").read_text() == "file=kexlint.sarif\n"
