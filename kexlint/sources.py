"""Sources that are rendered before they are linted: a kustomization directory given as a PATH,
and a Helm chart (a directory holding a Chart.yaml, or a packaged chart `.tgz`).

`kexlint overlays/prod` where overlays/prod holds a kustomization file lints what
`kubectl kustomize overlays/prod` prints, as one stream, instead of walking the directory's raw
files (patches and bases on their own are not what the cluster gets).

Naming, so that nobody reads a rendered line number as a line of a file on disk: findings name the
source `overlays/prod (kustomize)` and carry the line and column in the rendered stream, which
`kubectl kustomize overlays/prod | sed -n LINEp` shows. Reporters that must point at a real file
(SARIF, GitHub annotations) use the kustomization file itself, `overlays/prod/kustomization.yaml`,
recorded as the source's origin, and say the rendered line in the message.

Helm charts are named `web (helm)` the same way. `helm template` starts each document with
`# Source: web/templates/deployment.yaml`; those comments are kept per rendered source (the line of
each in the stream), so every report can name the template and the line inside its rendered output
as well as the line in the whole stream.
"""

from __future__ import annotations

import os
import re

from .loader import InputError
from .records import dataclass

# The names kustomize itself accepts, in its order of preference.
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RENDER_TIMEOUT = 120.0  # seconds; remote bases or a hung credential helper must not hang CI
KUSTOMIZE_SUFFIX = " (kustomize)"
HELM_SUFFIX = " (helm)"
CHART_FILE = "Chart.yaml"
CHART_ARCHIVES = (".tgz", ".tar.gz")
_HELM_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
# kubectl logs through klog: `E1125 18:29:25.017888   17629 run.go:72] "command failed" err="…"`.
_KLOG_PREFIX = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] (?:"command failed" err=)?')


@dataclass(frozen=True)
class Rendered:
    name: str  # what findings call the source: "overlays/prod (kustomize)"
    origin: str  # the file on disk it came from: "overlays/prod/kustomization.yaml"
    data: bytes
    # Helm: (line of the `# Source:` comment in the stream, template path) in stream order.
    templates: tuple[tuple[int, str], ...] = ()


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
    kubectl = _which("kubectl")
    if kubectl is None:
        raise InputError(f"{directory} is a kustomization; rendering it needs kubectl on PATH "
                         "(`kubectl kustomize`), which was not found")
    import subprocess  # here: ~7 ms of every run, and only a kustomization needs it

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


# --- Helm ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HelmOptions:
    """What `--helm-values FILE` and `--helm-set k=v` pass on to every `helm template`."""

    values: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()


def is_chart(path: str) -> bool:
    """A chart directory (Chart.yaml inside) or a packaged chart (`helm package` writes NAME-VER.tgz)."""
    if os.path.isdir(path):
        return os.path.isfile(os.path.join(path, CHART_FILE))
    return path.endswith(CHART_ARCHIVES) and os.path.isfile(path)


def _which(program: str) -> str | None:
    # shutil imported here: it pulls in bz2, lzma and zlib (~6 ms), and most runs render nothing.
    import shutil

    return shutil.which(program)


def helm_available() -> bool:
    return _which("helm") is not None


def helm_source_name(chart: str) -> str:
    return chart.rstrip("/\\") + HELM_SUFFIX if chart not in ("/", "\\") else chart


def helm_missing_message(chart: str) -> str:
    return (f"Helm chart {chart} skipped: rendering it needs helm on PATH, which was not found; install "
            f"helm, or render it yourself: helm template {chart} | kexlint -")


def template_sections(text: str) -> tuple[tuple[int, str], ...]:
    """Where each `# Source:` comment of helm's output is (1-based line) and the template it names."""
    sections = []
    line = 1
    last = 0
    for match in _HELM_SOURCE.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        sections.append((line, match.group(1)))
    return tuple(sections)


def render_helm(chart: str, options: HelmOptions, max_bytes: int, timeout: float = RENDER_TIMEOUT) -> Rendered:
    """`helm template CHART` with the user's values; every failure is an InputError naming the chart."""
    helm = _which("helm")
    if helm is None:
        raise InputError(helm_missing_message(chart))
    origin = os.path.join(chart, CHART_FILE) if os.path.isdir(chart) else chart
    command = [helm, "template", chart]
    for values in options.values:
        command += ["--values", values]
    for assignment in options.sets:
        command += ["--set", assignment]
    import subprocess  # here: ~7 ms of every run, and only a chart needs it

    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"`helm template {chart}` did not finish within {timeout:g} s") from None
    except OSError as err:
        raise InputError(f"cannot run helm for {chart}: {err.strerror}") from None
    if done.returncode != 0:
        # helm prints `Error: <cause>` and, with a template error, where: the cause is the line to show.
        lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        reason = (errors or lines or [f"exit code {done.returncode}"])[-1].removeprefix("Error:").strip()
        raise InputError(f"`helm template {chart}` failed: {reason}")
    if len(done.stdout) > max_bytes:
        raise InputError(f"`helm template {chart}` printed {len(done.stdout) / 2**20:.1f} MiB, "
                         f"over the {max_bytes / 2**20:.0f} MiB limit (raise it with --max-file-size)")
    text = done.stdout.decode("utf-8", "replace")
    return Rendered(helm_source_name(chart), origin, done.stdout, template_sections(text))
