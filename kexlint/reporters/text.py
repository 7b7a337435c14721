"""`file:line:col: level rule-id message (Kind namespace/name)`, then the fix, then a summary."""

from __future__ import annotations

from ..findings import Finding
from . import Report

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_DIM = "\033[2m"
_RESET = "\033[0m"


def _where(file: str | None, line: int | None, column: int | None, pointer: str) -> str:
    if file is None:
        return pointer or "/"
    return f"{file}:{line or 0}:{column or 0}"


def _finding(finding: Finding, color: bool) -> list[str]:
    level = finding.level
    if color:
        level = f"{_COLORS.get(level, '')}{level}{_RESET}"
    if finding.file is None:
        # No file (kexlint audit reads the cluster): the object and field name the place.
        lines = [f"{finding.object} {finding.pointer or '/'}: {level} {finding.rule} {finding.message}"]
    else:
        where = _where(finding.file, finding.line, finding.column, finding.pointer)
        lines = [f"{where}: {level} {finding.rule} {finding.message} ({finding.object})"]
    if finding.suppressed is not None:
        lines[0] += f" [suppressed: {finding.suppressed}]"
    fix = f"  fix: {finding.fix}"
    lines.append(f"{_DIM}{fix}{_RESET}" if color else fix)
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(report: Report) -> str:
    lines: list[str] = []
    for problem in report.result.problems:
        level = f"{_COLORS['error']}error{_RESET}" if report.color else "error"
        lines.append(f"{problem.file}:{problem.line}:{problem.column}: {level} input {problem.message}")
    for finding in report.active:
        lines.extend(_finding(finding, report.color))
    if report.show_suppressed:
        for finding in report.suppressed:
            lines.extend(_finding(finding, report.color))
    s = report.summary()
    parts = [_plural(s["errors"], "error"), _plural(s["warnings"], "warning")]
    if s["infos"]:
        parts.append(_plural(s["infos"], "info"))
    parts.append(f"{s['suppressed']} suppressed")
    if s["inputErrors"]:
        parts.append(_plural(s["inputErrors"], "input error"))
    lines.append(f"{', '.join(parts)} in {_plural(s['objects'], 'object')} from {_plural(s['files'], 'file')}")
    return "\n".join(lines) + "\n"
