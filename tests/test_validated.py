"""The schema-validation cache: unchanged rule and config texts skip jsonschema; any change is
validated again, so a bad file is never let through by the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = ("import sys, io; from kexlint.cli import main; out = io.StringIO(); sys.stdout = out; "
         "code = main(sys.argv[1:]); sys.stdout = sys.__stdout__; "
         "print(code, 'jsonschema' in sys.modules)")


def run(cache: Path, *args: str, cwd: Path) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    env.pop("KEXLINT_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)
    return proc.stdout.strip(), proc.stderr


def test_cache_skips_jsonschema_for_unchanged_texts_only(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n")
    (tmp_path / ".kexlint.yaml").write_text("fail-on: warning\n")
    assert run(cache, "pod.yaml", cwd=tmp_path)[0] == "0 True"  # first run validates
    assert run(cache, "pod.yaml", cwd=tmp_path)[0] == "0 False"  # same texts: no jsonschema import
    assert any(p.name.startswith("rules-") for p in (cache / "kexlint" / "validated").iterdir())

    (tmp_path / ".kexlint.yaml").write_text("fail-on: sometimes\n")  # changed: validated again
    out, err = run(cache, "pod.yaml", cwd=tmp_path)
    assert out == "2 True"
    assert 'fail-on: "sometimes" is not allowed; use one of' in err


def test_unwritable_cache_still_validates(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n")
    assert run(blocker, "--no-config", "pod.yaml", cwd=tmp_path)[0] == "0 True"
    assert run(blocker, "--no-config", "pod.yaml", cwd=tmp_path)[0] == "0 True"
