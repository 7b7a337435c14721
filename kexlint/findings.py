"""What a rule reports: one frozen Finding per offending field."""

from __future__ import annotations

from .records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

LEVELS = ("info", "warning", "error")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class ObjectRef:
    api_version: str | None
    kind: str | None
    namespace: str | None
    name: str | None

    def __str__(self) -> str:
        name = self.name or "<unnamed>"
        return f"{self.kind} {self.namespace}/{name}" if self.namespace else f"{self.kind} {name}"

    def as_dict(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind,
                "namespace": self.namespace, "name": self.name}


def json_pointer(path: tuple) -> str:
    """RFC 6901 pointer text for a path of keys and indexes."""
    if not path:
        return ""
    joined = "/".join(map(str, path))
    # Parts rarely hold "~" or "/" (annotation keys do): escape part by part only then. One "/"
    # per gap between parts means none came from a part.
    if "~" in joined or joined.count("/") != len(path) - 1:
        return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "/" + joined


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str
    fix: str
    file: str | None
    line: int | None
    column: int | None
    path: tuple  # keys and indexes from the object's root
    object: ObjectRef
    suppressed: str | None = None  # the reason, when an annotation or exclusion silenced it
    related: tuple[str, ...] = field(default=())  # "file:line" of the other side of a conflict

    @property
    def pointer(self) -> str:
        return json_pointer(self.path)

    def sort_key(self) -> tuple:
        return (self.file or "", self.line or 0, self.column or 0, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        data = {
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
            "fix": self.fix,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "object": self.object.as_dict(),
        }
        if self.related:
            data["related"] = list(self.related)
        if self.suppressed is not None:
            data["suppressed"] = self.suppressed
        return data


@dataclass(frozen=True)
class InputProblem:
    """Input that could not be read or parsed; reported beside findings, never raised."""

    file: str
    line: int
    column: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}
