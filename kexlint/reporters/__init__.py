"""Output formats: each module turns a LintResult into text and does nothing else."""

from __future__ import annotations

import bisect
import os
from collections import Counter

from ..findings import Finding
from ..lint import LintResult
from ..records import dataclass
from ..registry import Rule

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

FORMATS = ("text", "json", "sarif", "junit", "github")
DOCS_URL = "https://github.com/kexlint/kexlint/blob/main/docs/rules/{rule}.md"


@dataclass(frozen=True)
class Report:
    result: LintResult
    rules: tuple[Rule, ...]
    show_suppressed: bool = False
    color: bool = False
    quiet: bool = False  # text: finding and error lines only
    fix_hints: bool = True  # text: the fix, once per rule

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

    def template(self, source: str | None, line: int | None) -> tuple[str, int] | None:
        """For a line of a rendered Helm chart: the template it came from (`web/templates/x.yaml`, as
        helm's `# Source:` comment names it) and the line inside that template's rendered output."""
        sections = self.result.templates.get(source) if source is not None else None
        if not sections or not line:
            return None
        at = bisect.bisect_right(sections, (line, "\uffff")) - 1
        if at < 0:
            return None
        start, name = sections[at]
        return name, line - start

    def excerpt(self, source: str | None, line: int | None) -> str | None:
        """The source line a finding is on: kept while linting, else read again from the file."""
        if source is None or not line:
            return None
        kept = self.result.excerpts.get((source, line))
        if kept is not None or source in self.result.origins:
            return kept
        try:
            if not os.path.isfile(source):
                return None
            with open(source, encoding="utf-8", errors="replace") as handle:
                for number, text in enumerate(handle, 1):
                    if number == line:
                        return text.rstrip("\r\n")
        except OSError:
            return None
        return None

    def skipped(self) -> Counter[str]:
        """Files not linted on purpose, by reason."""
        return Counter(item.reason for item in self.result.skipped)

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
            "skipped": len(self.result.skipped),
        }


def render(fmt: str, report: Report) -> str:
    from importlib import import_module

    module = import_module(f"kexlint.reporters.{fmt}")
    return module.render(report)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(report: Report) -> str:
    """"1 error, 2 warnings, 0 suppressed in 3 objects from 1 file": the text and github summaries."""
    s = report.summary()
    parts = [plural(s["errors"], "error"), plural(s["warnings"], "warning")]
    if s["infos"]:
        parts.append(plural(s["infos"], "info"))
    parts.append(f"{s['suppressed']} suppressed")
    if s["inputErrors"]:
        parts.append(plural(s["inputErrors"], "input error"))
    summary = f"{', '.join(parts)} in {plural(s['objects'], 'object')} from {plural(s['files'], 'file')}"
    if s["skipped"]:
        summary += f", {plural(s['skipped'], 'file')} skipped"
    return summary
