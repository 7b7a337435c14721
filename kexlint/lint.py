"""Files → documents → objects → findings: the linter's pipeline over a set of paths."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .engine import Engine, RuleCrash, objects_of
from .findings import Finding, InputProblem, ObjectRef
from .loader import MAX_FILE_BYTES, Document, InputError, decode, looks_like_json, read_documents
from .sources import kustomization_file, render_kustomize, source_name

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


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


def is_helm_template(path: str) -> bool:
    """A file under a Helm chart's templates/ folder (Chart.yaml beside that folder): Go templates
    that are not manifests until `helm template` renders them, so they are linted from its output
    (`helm template … | kexlint -`), not as files. pre-commit hands them over like any YAML."""
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] == "templates" and os.path.isfile(os.sep.join([*parts[:index], "Chart.yaml"])):
            return True
    return False


def expand_paths(paths: Iterable[str]) -> Iterator[str | InputProblem]:
    """Files named, and manifests found below directories (hidden directories skipped), in order.

    A directory with a kustomization file is yielded itself, not walked: it is rendered whole."""
    for path in paths:
        if path == STDIN:
            yield path
        elif os.path.isdir(path) and kustomization_file(path):
            yield path
        elif os.path.isdir(path):
            found = []
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(folder, f) for f in files if f.endswith(MANIFEST_SUFFIXES))
            yield from sorted(p for p in found if not is_helm_template(p))
        elif os.path.exists(path):
            if not is_helm_template(path):
                yield path
        else:
            yield InputProblem(path, 0, 0, "no such file or directory")


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


def _too_large(size: int, limit: int) -> str:
    return (f"file is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit "
            "(raise it with --max-file-size)")


class Linter:
    """Lints sources one at a time; cross-object findings come at the end."""

    def __init__(self, engine: Engine, max_bytes: int = MAX_FILE_BYTES, track_objects: bool = False) -> None:
        self.engine = engine
        self.run = engine.run()
        self.max_bytes = max_bytes
        self.track_objects = track_objects
        self.result = LintResult()

    def lint_text(self, text: str, source: str) -> None:
        self.lint_documents(read_documents(text, source), source)

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
            self.lint_documents(documents, source, strict=True)
        else:
            self.lint_text(text, source)

    def lint_kustomization(self, directory: str) -> None:
        """`kubectl kustomize DIRECTORY` as one stream; strict like stdin, since it is all manifests."""
        self.result.files += 1
        try:
            rendered = render_kustomize(directory, self.max_bytes)
            text = decode(rendered.data)
        except InputError as err:
            self.result.problems.append(InputProblem(source_name(directory), err.line, err.column, err.message))
            return
        self.result.origins[rendered.name] = rendered.origin
        self.lint_documents(read_documents(text, rendered.name, is_json=False), rendered.name, strict=True)

    def finish(self) -> LintResult:
        try:
            self.result.findings.extend(self.run.finish())
        except RuleCrash as crash:
            # A cross-object conclusion's bug: one line, and the other rules' conclusions still count.
            self.result.findings.extend(crash.findings)
            self.result.problems.append(InputProblem("(cross-object rules)", 0, 0, str(crash)))
        # Ties on the reported key fall back on the rest of the finding, so the order never depends
        # on which worker (or which order of facts) produced them.
        self.result.findings.sort(key=lambda f: (*f.sort_key(), f.pointer, str(f.object), f.related,
                                                 f.suppressed or ""))
        self.result.problems.sort(key=lambda p: (p.file, p.line, p.column, p.message))
        return self.result
