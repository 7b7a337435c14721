"""Files → documents → objects → findings: the linter's pipeline over a set of paths."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping

from .engine import Engine, RuleCrash, objects_of
from .findings import Finding, InputProblem, ObjectRef
from .loader import MAX_FILE_BYTES, Document, InputError, decode, looks_like_json, read_documents
from .paths import PathFilter
from .records import dataclass, field
from .sources import (
    HelmOptions,
    Rendered,
    helm_available,
    helm_missing_message,
    helm_source_name,
    is_chart,
    kustomization_file,
    render_helm,
    render_kustomize,
    source_name,
)
from .spots import Position, Spot, deferrable
from .spots import locate as locate_spots

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import BinaryIO

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
# Named like files but read as the process's stdin (a pipe, which is refused as a path otherwise).
STDIN_DEVICES = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
SKIPPED_TEMPLATE = "Helm template (contains `{{`): lint the rendered chart, `kexlint CHART_DIR` with helm on PATH"
SKIPPED_EXCLUDED = "excluded (exclude-paths / --exclude)"


@dataclass(frozen=True)
class Skipped:
    """A file not linted on purpose; counted in the summary with the reason, never dropped silently."""

    path: str
    reason: str


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    files: int = 0
    objects: int = 0
    # Rendered sources (see sources.py): source name → the file on disk it was rendered from.
    origins: dict[str, str] = field(default_factory=dict)
    # Every object linted, in order, so reporters can list the clean ones (JUnit passing testcases);
    # kept only when asked for, since it grows with the corpus.
    seen: list[tuple[str, ObjectRef]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Rendered Helm sources: source name → (line of each `# Source:` comment, template), in order.
    templates: dict[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    # (source, line) → the text of that line, for findings' excerpts (only when asked for).
    excerpts: dict[tuple[str, int], str] = field(default_factory=dict)


def in_chart_templates(path: str) -> bool:
    """A file under a Helm chart's templates/ folder (Chart.yaml beside that folder)."""
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] == "templates" and os.path.isfile(os.sep.join([*parts[:index], "Chart.yaml"])):
            return True
    return False


def is_helm_template(path: str) -> bool:
    """A Go template of a chart: not a manifest until `helm template` renders it. Plain YAML that
    happens to lie under templates/ (no `{{`) is a manifest like any other and is linted."""
    if not in_chart_templates(path):
        return False
    try:
        with open(path, "rb") as handle:
            return b"{{" in handle.read(MAX_FILE_BYTES)
    except OSError:
        return False  # reading it again will say why


def _special(path: str) -> str | None:
    """Why a path that exists cannot be read as a file (a FIFO would block forever), or None."""
    if path in STDIN_DEVICES:
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    what = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"refused: {what}, not a regular file (pipe it in with `-` instead)"


def _walk(root: str, exclude: PathFilter, render_charts: Callable[[], bool]
          ) -> Iterator[str | InputProblem | Skipped]:
    """Manifests below a directory (hidden and excluded directories not entered), in path order;
    with helm on PATH a chart found on the way is yielded itself, to be rendered whole."""
    found: list[str | InputProblem | Skipped] = []
    for folder, dirs, files in os.walk(root):
        kept = []
        for name in sorted(dirs):
            sub = os.path.join(folder, name)
            if name.startswith(".") or (exclude and exclude.excluded(sub, is_dir=True)):
                continue
            if is_chart(sub) and render_charts():
                found.append(sub)
                continue
            kept.append(name)
        dirs[:] = kept
        for name in files:
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            if exclude and exclude.excluded(path):
                continue  # excluded files met in a walk are left out, as git leaves out ignored files
            found.append(_file_item(path))
    yield from sorted(found, key=lambda item: item if isinstance(item, str)
                      else item.file if isinstance(item, InputProblem) else item.path)


def _file_item(path: str) -> str | InputProblem | Skipped:
    problem = _special(path)
    if problem is not None:
        return InputProblem(path, 0, 0, problem)
    if is_helm_template(path):
        return Skipped(path, SKIPPED_TEMPLATE)
    return path


def expand_paths(paths: Iterable[str], exclude: PathFilter | None = None
                 ) -> Iterator[str | InputProblem | Skipped]:
    """Files named, and manifests found below directories (hidden directories skipped), in order.

    A directory with a kustomization file, and a Helm chart (directory or .tgz), is yielded itself,
    not walked: it is rendered whole. A chart named without helm on PATH is an input problem; met
    in a walk it is walked, and its templates are skipped (and counted)."""
    exclude = exclude or PathFilter()
    helm: list[bool] = []

    def render_charts() -> bool:
        # Looked up once a chart is met: finding helm costs a PATH search (and shutil's import).
        if not helm:
            helm.append(helm_available())
        return helm[0]

    for path in paths:
        if path == STDIN:
            yield path
        elif not os.path.exists(path) and path not in STDIN_DEVICES:
            yield InputProblem(path, 0, 0, "no such file or directory")
        elif exclude and exclude.excluded(path, is_dir=os.path.isdir(path)):
            yield Skipped(path, SKIPPED_EXCLUDED)
        elif os.path.isdir(path) and kustomization_file(path):
            yield path
        elif is_chart(path):
            yield path if render_charts() else InputProblem(path, 0, 0, helm_missing_message(path))
        elif os.path.isdir(path):
            yield from _walk(path, exclude, render_charts)
        else:
            yield _file_item(path)


def read_source(path: str, stdin: BinaryIO | None, max_bytes: int) -> bytes:
    """A file's bytes, refusing anything over max_bytes before reading it all."""
    if path == STDIN:
        assert stdin is not None
        data = stdin.read(max_bytes + 1)
    else:
        try:
            size = os.stat(path).st_size
            if size > max_bytes:
                raise InputError(_too_large(size, max_bytes), 1, 1)
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}") from None
    if len(data) > max_bytes:
        raise InputError(_too_large(len(data), max_bytes), 1, 1)
    return data


def relocate(spots: Mapping[str, Spot], max_bytes: int) -> dict[str, Position]:
    """The positions of deferred spots (spots.locate), reading their files again."""
    return locate_spots(spots, lambda path: read_source(path, None, max_bytes))


def _too_large(size: int, limit: int) -> str:
    return (f"file is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit "
            "(raise it with --max-file-size)")


class Linter:
    """Lints sources one at a time; cross-object findings come at the end."""

    def __init__(self, engine: Engine, max_bytes: int = MAX_FILE_BYTES, track_objects: bool = False,
                 helm: HelmOptions | None = None, excerpts: bool = False) -> None:
        self.engine = engine
        self.run = engine.run()
        self.run.locator = self._relocate
        self.max_bytes = max_bytes
        self.track_objects = track_objects
        self.helm = helm or HelmOptions()
        self.excerpts = excerpts
        self.result = LintResult()
        # What finish() (or close()) ends: the --jobs pool, kept for locating the conclusions' fields.
        self.closing: list[Callable[[], None]] = []

    def add(self, item: str | InputProblem | Skipped, stdin: BinaryIO | None = None,
            stdin_name: str = "<stdin>") -> None:
        """One item of expand_paths: lint a path, or record why it is not linted."""
        if isinstance(item, InputProblem):
            self.result.problems.append(item)
        elif isinstance(item, Skipped):
            self.result.skipped.append(item)
        else:
            self.lint_path(item, stdin, stdin_name)

    def lint_text(self, text: str, source: str) -> None:
        first = len(self.result.findings)
        self.lint_documents(read_documents(text, source), source)
        self._keep_excerpts(text, source, first)

    def _keep_excerpts(self, text: str, source: str, first: int) -> None:
        """The source lines of this source's findings, while its text is at hand."""
        if not self.excerpts or len(self.result.findings) == first:
            return
        lines = text.splitlines()
        for finding in self.result.findings[first:]:
            if finding.file == source and finding.line and finding.line <= len(lines):
                self.result.excerpts[(source, finding.line)] = lines[finding.line - 1]

    def lint_documents(self, documents: Iterable[Document | InputError], source: str,
                       strict: bool = False) -> None:
        """strict: report non-mapping documents even when the source holds no Kubernetes object
        (pre-commit hands over every YAML file; a list of Ansible tasks is not our business)."""
        result = self.result
        held: list[InputProblem] = []
        saw_object = strict
        for doc in documents:
            if isinstance(doc, InputError):
                result.problems.append(InputProblem(source, doc.line, doc.column, doc.message))
                continue
            if doc.value is None:
                continue
            if not isinstance(doc.value, dict):
                held.append(InputProblem(source, doc.line, 1, f"document {doc.index + 1} is a "
                                         f"{type(doc.value).__name__}, not a Kubernetes object"))
                continue
            for obj in objects_of(doc):
                if isinstance(obj, InputError):
                    result.problems.append(InputProblem(source, obj.line, obj.column, obj.message))
                    continue
                saw_object = True
                result.objects += 1
                if self.track_objects:
                    result.seen.append((source, obj.ref))
                try:
                    result.findings.extend(self.run.lint_object(obj))
                except RuleCrash as crash:
                    line, column = obj.locate(())
                    result.problems.append(InputProblem(source, line or 0, column or 0, str(crash)))
                except InputError as err:
                    result.problems.append(InputProblem(source, err.line, err.column, err.message))
        if saw_object:
            result.problems.extend(held)

    def lint_path(self, path: str, stdin: BinaryIO | None = None, stdin_name: str = "<stdin>") -> None:
        if path != STDIN and is_chart(path):
            self.lint_chart(path)
            return
        if path != STDIN and os.path.isdir(path):
            self.lint_kustomization(path)
            return
        source = stdin_name if path == STDIN else path
        self.result.files += 1
        try:
            text = decode(read_source(path, stdin, self.max_bytes))
        except InputError as err:
            self.result.problems.append(InputProblem(source, err.line, err.column, err.message))
            return
        if path == STDIN:
            documents: Iterable[Document | InputError] = read_documents(
                text, source, is_json=looks_like_json(source, text))
            if looks_like_json(source, text) and not source.endswith(".json"):
                # Only guessed from a leading `{`: a YAML flow mapping starts that way too.
                documents = list(documents)
                first = documents[0]
                if isinstance(first, InputError) and first.message.startswith("invalid JSON: Expecting"):
                    documents = read_documents(text, source, is_json=False)
            first = len(self.result.findings)
            self.lint_documents(documents, source, strict=True)
            self._keep_excerpts(text, source, first)
        else:
            # A file can be read again at the end: its facts' lines are looked up then, and only
            # for the facts a conclusion shows (spots.py).
            self.run.deferred = source if deferrable(text, source) else None
            try:
                self.lint_text(text, source)
            finally:
                self.run.deferred = None

    def _relocate(self, spots: dict[str, Spot]) -> dict[str, Position]:
        return relocate(spots, self.max_bytes)

    def lint_kustomization(self, directory: str) -> None:
        """`kubectl kustomize DIRECTORY` as one stream; strict like stdin, since it is all manifests."""
        self.result.files += 1
        try:
            rendered = render_kustomize(directory, self.max_bytes)
            text = decode(rendered.data)
        except InputError as err:
            self.result.problems.append(InputProblem(source_name(directory), err.line, err.column, err.message))
            return
        self._lint_rendered(rendered, text)

    def lint_chart(self, chart: str) -> None:
        """`helm template CHART` as one stream, like a kustomization."""
        self.result.files += 1
        try:
            rendered = render_helm(chart, self.helm, self.max_bytes)
            text = decode(rendered.data)
        except InputError as err:
            self.result.problems.append(InputProblem(helm_source_name(chart), err.line, err.column, err.message))
            return
        if rendered.templates:
            self.result.templates[rendered.name] = rendered.templates
        self._lint_rendered(rendered, text)

    def _lint_rendered(self, rendered: Rendered, text: str) -> None:
        self.result.origins[rendered.name] = rendered.origin
        first = len(self.result.findings)
        self.lint_documents(read_documents(text, rendered.name, is_json=False), rendered.name, strict=True)
        self._keep_excerpts(text, rendered.name, first)

    def close(self) -> None:
        """End what linting started (a pool's workers); finish() does it too."""
        while self.closing:
            self.closing.pop()()

    def finish(self) -> LintResult:
        try:
            self.result.findings.extend(self.run.finish())
        except RuleCrash as crash:
            # A cross-object conclusion's bug: one line, and the other rules' conclusions still count.
            self.result.findings.extend(crash.findings)
            self.result.problems.append(InputProblem("(cross-object rules)", 0, 0, str(crash)))
        finally:
            self.close()
        # Ties on the reported key fall back on the rest of the finding, so the order never depends
        # on which worker (or which order of facts) produced them.
        self.result.findings.sort(key=lambda f: (*f.sort_key(), f.pointer, str(f.object), f.related,
                                                 f.suppressed or ""))
        self.result.problems.sort(key=lambda p: (p.file, p.line, p.column, p.message))
        return self.result
