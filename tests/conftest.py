"""Shared helpers: run the linter in-process the way the CLI does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kexlint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def run_cli(capsys):
    """kexlint's main() with argv; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def lint_json(run_cli):
    def lint(*argv: str) -> tuple[int, dict]:
        code, out, _ = run_cli("--format", "json", "--no-config", *argv)
        return code, json.loads(out)

    return lint
