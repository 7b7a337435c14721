"""Sources that are rendered before they are linted: a kustomization directory given as a PATH.

`kexlint overlays/prod` where overlays/prod holds a kustomization file lints what
`kubectl kustomize overlays/prod` prints, as one stream, instead of walking the directory's raw
files (patches and bases on their own are not what the cluster gets).

Naming, so that nobody reads a rendered line number as a line of a file on disk: findings name the
source `overlays/prod (kustomize)` and carry the line and column in the rendered stream, which
`kubectl kustomize overlays/prod | sed -n LINEp` shows. Reporters that must point at a real file
(SARIF, GitHub annotations) use the kustomization file itself, `overlays/prod/kustomization.yaml`,
recorded as the source's origin, and say the rendered line in the message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from .loader import InputError

# The names kustomize itself accepts, in its order of preference.
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RENDER_TIMEOUT = 120.0  # seconds; remote bases or a hung credential helper must not hang CI
KUSTOMIZE_SUFFIX = " (kustomize)"
# kubectl logs through klog: `E1125 18:29:25.017888   17629 run.go:72] "command failed" err="…"`.
_KLOG_PREFIX = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] (?:"command failed" err=)?')


@dataclass(frozen=True)
class Rendered:
    name: str  # what findings call the source: "overlays/prod (kustomize)"
    origin: str  # the file on disk it came from: "overlays/prod/kustomization.yaml"
    data: bytes


def kustomization_file(directory: str) -> str | None:
    """The kustomization file of a directory, or None when it is a plain folder of manifests."""
    for name in KUSTOMIZATION_NAMES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def source_name(directory: str) -> str:
    return directory.rstrip("/\\") + KUSTOMIZE_SUFFIX if directory not in ("/", "\\") else directory


def render_kustomize(directory: str, max_bytes: int, timeout: float = RENDER_TIMEOUT) -> Rendered:
    """`kubectl kustomize DIRECTORY`'s output; every failure is an InputError naming the directory."""
    origin = kustomization_file(directory) or os.path.join(directory, KUSTOMIZATION_NAMES[0])
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise InputError(f"{directory} is a kustomization; rendering it needs kubectl on PATH "
                         "(`kubectl kustomize`), which was not found")
    try:
        done = subprocess.run([kubectl, "kustomize", directory], capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"`kubectl kustomize {directory}` did not finish within {timeout:g} s") from None
    except OSError as err:
        raise InputError(f"cannot run kubectl for {directory}: {err.strerror}") from None
    if done.returncode != 0:
        # kustomize's errors are long and multi-line; the first line names the cause.
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = _KLOG_PREFIX.sub("", lines[0]) if lines else f"exit code {done.returncode}"
        raise InputError(f"`kubectl kustomize {directory}` failed: {reason}")
    if len(done.stdout) > max_bytes:
        raise InputError(f"`kubectl kustomize {directory}` printed {len(done.stdout) / 2**20:.1f} MiB, "
                         f"over the {max_bytes / 2**20:.0f} MiB limit (raise it with --max-file-size)")
    return Rendered(source_name(directory), origin, done.stdout)
