"""One JSON object: version, findings, errors (input problems) and summary."""

from __future__ import annotations

import json

from .. import __version__
from . import Report


def render(report: Report) -> str:
    data = {
        "version": __version__,
        "findings": [f.as_dict() for f in report.active],
        "errors": [p.as_dict() for p in report.result.problems],
        "summary": report.summary(),
    }
    if report.show_suppressed:
        data["suppressed"] = [f.as_dict() for f in report.suppressed]
    return json.dumps(data, indent=2) + "\n"
