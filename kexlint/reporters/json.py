"""One JSON object: version, findings, errors (input problems) and summary."""

from __future__ import annotations

import json

from .. import __version__
from ..findings import Finding
from . import Report

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def _finding(report: Report, finding: Finding) -> dict[str, Any]:
    data = finding.as_dict()
    template = report.template(finding.file, finding.line)
    if template is not None:
        # A rendered Helm chart: line/column are those of the rendered stream; this says where in it.
        data["template"] = {"name": template[0], "line": template[1]}
    return data


def render(report: Report) -> str:
    data: dict[str, Any] = {
        "version": __version__,
        "findings": [_finding(report, f) for f in report.active],
        "errors": [p.as_dict() for p in report.result.problems],
        "summary": report.summary(),
    }
    if report.show_suppressed:
        data["suppressed"] = [_finding(report, f) for f in report.suppressed]
    if report.result.skipped:
        data["skipped"] = [{"file": s.path, "reason": s.reason} for s in report.result.skipped]
    return json.dumps(data, indent=2) + "\n"
