"""Shared helpers for the integration tests: the repository root and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def run_kexlint(*args: str, stdin: str | None = None, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, as CI and pre-commit run it (no shared state with the test)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "kexlint", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd or ROOT, env=full_env, timeout=120)


@pytest.fixture
def write(tmp_path: Path):
    """write("a/b.yaml", text) → the path, parents created."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write
