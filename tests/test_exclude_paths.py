"""exclude-paths in .kexlint.yaml and --exclude: gitignore-style, relative to the config's folder or
the working directory; excluded files are not read, so their parse errors cannot fail the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n"
       "  containers: [{name: a, image: a}]\n")


def _tree(root: Path) -> None:
    for name, text in {
        "deploy/app.yaml": POD,
        "deploy/vendor/broken.yaml": "a: [\n",
        "deploy/generated/out.yaml": POD,
        "deploy/keep.bak.yaml": "b: {\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _run(*args: str, cwd: Path) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "kexlint", "-f", "json", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.returncode, json.loads(done.stdout)


def test_without_exclusion_the_broken_files_fail_the_run(tmp_path: Path) -> None:
    _tree(tmp_path)
    code, data = _run("--no-config", "deploy", cwd=tmp_path)
    assert code == 2 and len(data["errors"]) == 2


def test_config_exclude_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".kexlint.yaml").write_text("exclude-paths:\n  - vendor/\n  - '*.bak.yaml'\n  - /deploy/generated\n")
    # Run from a subfolder: the patterns still mean the config's folder.
    code, data = _run("app.yaml", "vendor", "generated", "keep.bak.yaml", ".", cwd=tmp_path / "deploy")
    assert data["errors"] == [], data
    assert sorted(f["file"] for f in data["findings"]) == ["./app.yaml", "app.yaml"]
    assert code == 1
    # Named paths that are excluded are counted, never dropped silently; walked ones are left out.
    assert sorted(s["file"] for s in data["skipped"]) == ["generated", "keep.bak.yaml", "vendor"]


def test_command_line_exclude_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    _tree(tmp_path)
    code, data = _run("--no-config", "--exclude", "deploy/vendor/**", "--exclude", "*.bak.yaml", "deploy",
                      cwd=tmp_path)
    assert code == 1 and data["errors"] == []
    assert sorted(f["file"] for f in data["findings"]) == ["deploy/app.yaml", "deploy/generated/out.yaml"]
    # A negation re-includes, as in .gitignore.
    code, data = _run("--no-config", "--exclude", "deploy/*", "--exclude", "!deploy/app.yaml", "deploy",
                      cwd=tmp_path)
    assert [f["file"] for f in data["findings"]] == ["deploy/app.yaml"] and data["errors"] == []


def test_exclude_paths_must_be_a_list_of_strings(tmp_path: Path) -> None:
    (tmp_path / ".kexlint.yaml").write_text("exclude-paths: vendor/\n")
    done = subprocess.run([sys.executable, "-m", "kexlint", "."], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "exclude-paths" in done.stderr and "array" in done.stderr
