"""`file:line:col: level rule-id message (Kind namespace/name)`, the source line with a caret under
the column (as ruff and rustc show it), the fix once per rule, then a summary.

`--quiet` keeps only the finding and error lines; `--no-fix` leaves the fix hints out. A finding in a
rendered Helm chart also names the template and the line inside that template's rendered output.
"""

from __future__ import annotations

from ..findings import Finding
from . import Report, plural, summary_line

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_DIM = "\033[2m"
_BOLD = "\033[1m"
_RESET = "\033[0m"
_MAX_EXCERPT = 200  # characters of a source line shown; minified JSON is one line of megabytes


def _where(file: str | None, line: int | None, column: int | None, pointer: str) -> str:
    if file is None:
        return pointer or "/"
    return f"{file}:{line or 0}:{column or 0}"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _excerpt(report: Report, finding: Finding) -> list[str]:
    text = report.excerpt(finding.file, finding.line)
    if text is None or not finding.line:
        return []
    column = max((finding.column or 1) - 1, 0)
    if len(text) > _MAX_EXCERPT:
        start = max(0, min(column - _MAX_EXCERPT // 2, len(text) - _MAX_EXCERPT))
        text = text[start:start + _MAX_EXCERPT]
        column -= start
    # Tabs stay tabs under the caret, so it lines up whatever the terminal's tab width.
    pad = "".join(c if c == "\t" else " " for c in text[:column])
    number = str(finding.line)
    gutter = " " * len(number)
    caret = _paint("^", _COLORS.get(finding.level, ""), report.color)
    return [_paint(f"  {number} | ", _DIM, report.color) + text,
            _paint(f"  {gutter} | ", _DIM, report.color) + pad + caret]


def _header(report: Report, finding: Finding) -> str:
    level = _paint(finding.level, _COLORS.get(finding.level, ""), report.color)
    if finding.file is None:
        # No file (kexlint audit reads the cluster): the object and field name the place.
        line = f"{finding.object} {finding.pointer or '/'}: {level} {finding.rule} {finding.message}"
    else:
        where = _where(finding.file, finding.line, finding.column, finding.pointer)
        line = f"{where}: {level} {finding.rule} {finding.message} ({finding.object})"
    template = report.template(finding.file, finding.line)
    if template is not None:
        line += f" [template {template[0]}, line {template[1]}]"
    if finding.suppressed is not None:
        line += f" [suppressed: {finding.suppressed}]"
    return line


def render(report: Report) -> str:
    lines: list[str] = []
    for problem in report.result.problems:
        level = _paint("error", _COLORS["error"], report.color)
        where = f"{problem.file}:{problem.line}:{problem.column}" if problem.line else problem.file
        lines.append(f"{where}: {level} input {problem.message}")
    findings = list(report.active)
    if report.show_suppressed:
        findings.extend(report.suppressed)
    hinted: set[str] = set()
    for finding in findings:
        lines.append(_header(report, finding))
        if report.quiet:
            continue
        lines.extend(_excerpt(report, finding))
        if report.fix_hints and finding.rule not in hinted:
            hinted.add(finding.rule)
            lines.append(_paint(f"  fix: {finding.fix}", _DIM, report.color))
    if report.quiet:
        return "\n".join(lines) + "\n" if lines else ""
    for reason, count in sorted(report.skipped().items()):
        lines.append(f"skipped {plural(count, 'file')}: {reason}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
