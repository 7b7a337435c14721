"""Output formats: each module turns a LintResult into text and does nothing else."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..findings import Finding
from ..lint import LintResult
from ..registry import Rule

FORMATS = ("text", "json", "sarif", "junit", "github")
DOCS_URL = "https://github.com/kexlint/kexlint/blob/main/docs/rules/{rule}.md"


@dataclass(frozen=True)
class Report:
    result: LintResult
    rules: tuple[Rule, ...]
    show_suppressed: bool = False
    color: bool = False

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.result.findings if f.suppressed is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.result.findings if f.suppressed is not None]

    def origin(self, source: str | None) -> str | None:
        """For a rendered source (`overlays/prod (kustomize)`), the file on disk it came from; its
        findings' lines are lines of the rendered stream, not of that file."""
        return self.result.origins.get(source) if source is not None else None

    def summary(self) -> dict[str, Any]:
        levels = Counter(f.level for f in self.active)
        return {
            "files": self.result.files,
            "objects": self.result.objects,
            "errors": levels["error"],
            "warnings": levels["warning"],
            "infos": levels["info"],
            "suppressed": len(self.suppressed),
            "inputErrors": len(self.result.problems),
        }


def render(fmt: str, report: Report) -> str:
    from importlib import import_module

    module = import_module(f"kexlint.reporters.{fmt}")
    return module.render(report)
