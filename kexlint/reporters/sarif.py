"""SARIF 2.1.0, with what GitHub code scanning reads: rules with help, levels, exact regions and
partial fingerprints that do not depend on line numbers, so alerts survive unrelated edits."""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from typing import Any

from .. import __version__
from ..findings import Finding
from ..registry import Rule
from . import DOCS_URL, Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    if path.startswith("<"):
        return path.strip("<>")
    return PurePath(path).as_posix().removeprefix("./")


def _rule(rule: Rule) -> dict[str, Any]:
    docs = rule.docs
    markdown = (f"**{rule.summary}**\n\n{docs['what']}\n\n**Why:** {docs['why']}\n\n**Fix:** {rule.fix}\n\n"
                f"```yaml\n# instead:\n{docs['instead']}```\n")
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": docs["what"]},
        "help": {"text": f"{docs['why']}\nFix: {rule.fix}", "markdown": markdown},
        "helpUri": DOCS_URL.format(rule=rule.id),
        "defaultConfiguration": {"level": _LEVELS[rule.level]},
        "properties": {"tags": ["kubernetes", "security", "exposure"]},
    }


def fingerprint(finding: Finding) -> str:
    """Stable across edits elsewhere in the file: the rule, file, object and field, not the line."""
    ref = finding.object
    key = "\0".join([finding.rule, finding.file or "", ref.kind or "", ref.namespace or "", ref.name or "",
                     finding.pointer])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVELS[finding.level],
        "message": {"text": f"{finding.message} ({finding.object})"},
        "partialFingerprints": {"kexlintFinding/v1": fingerprint(finding)},
        "properties": {"pointer": finding.pointer, "object": finding.object.as_dict()},
    }
    if finding.file is not None:
        region = {"startLine": finding.line or 1, "startColumn": finding.column or 1}
        result["locations"] = [{
            "physicalLocation": {"artifactLocation": {"uri": _uri(finding.file)}, "region": region},
            "logicalLocations": [{"fullyQualifiedName": f"{finding.object}{finding.pointer}",
                                  "kind": "object"}],
        }]
    if finding.suppressed is not None:
        kind = "inSource" if finding.suppressed.startswith("annotation") else "external"
        result["suppressions"] = [{"kind": kind, "justification": finding.suppressed}]
    return result


def render(report: Report) -> str:
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    findings = report.result.findings if report.show_suppressed else report.active
    notifications = [{
        "level": "error",
        "message": {"text": problem.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(problem.file)},
            "region": {"startLine": max(problem.line, 1), "startColumn": max(problem.column, 1)},
        }}],
    } for problem in report.result.problems]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kexlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/kexlint/kexlint",
                "rules": [_rule(rule) for rule in report.rules],
            }},
            "invocations": [{
                "executionSuccessful": not report.result.problems,
                "toolExecutionNotifications": notifications,
            }],
            "results": [_result(f, index) for f in findings if f.rule in index],
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2) + "\n"
