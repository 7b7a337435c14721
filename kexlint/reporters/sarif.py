"""SARIF 2.1.0, with what GitHub code scanning reads: rules with help, levels, exact regions and
partial fingerprints that do not depend on line numbers, so alerts survive unrelated edits.

Checked in tests against the OASIS JSON schema and Microsoft's SARIF Multitool validator. Paths:
relative ones stay relative (GitHub resolves them against the repository root), absolute ones
become file:// URIs (a relative reference must not start with a slash). A rendered source
(kustomize) points at its kustomization file, line 1, with the rendered line in the message.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from urllib.parse import quote

from .. import __version__
from ..findings import Finding
from ..registry import Rule
from . import DOCS_URL, Report

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# RFC 3986 characters a path may keep unencoded (pchar plus "/"); the rest is percent-encoded.
_URI_SAFE = "/-._~!$&'()*+,;=:@"


def _uri(path: str) -> str:
    if path.startswith("<") and path.endswith(">"):  # <stdin>, <admission>
        return quote(path.strip("<>"), safe=_URI_SAFE)
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(pure.as_posix().removeprefix("./"), safe=_URI_SAFE)


_SECURITY_SEVERITY = {"error": "7.5", "warning": "5.0", "info": "2.0"}


def _name(rule_id: str) -> str:
    """PascalCase friendly name; SARIF1001 wants it to differ from the id, so a one-word id gets a suffix."""
    name = "".join(part.capitalize() for part in rule_id.split("-"))
    return name + "Rule" if name.lower() == rule_id.lower() else name


def _rule(rule: Rule) -> dict[str, Any]:
    docs = rule.docs
    markdown = (f"**{rule.summary}**\n\n{docs['what']}\n\n**Why:** {docs['why']}\n\n**Fix:** {rule.fix}\n\n"
                f"```yaml\n# instead:\n{docs['instead']}```\n\n"
                f"[Full documentation]({DOCS_URL.format(rule=rule.id)})\n")
    return {
        "id": rule.id,
        "name": _name(rule.id),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": docs["what"]},
        "help": {"text": f"{docs['why']}\nFix: {rule.fix}", "markdown": markdown},
        "helpUri": DOCS_URL.format(rule=rule.id),
        "defaultConfiguration": {"level": _LEVELS[rule.level], "enabled": rule.enabled},
        "properties": {
            "tags": ["kubernetes", "security", "exposure"],
            # GitHub code scanning ranks security alerts by this score (>= 7 high, >= 4 medium,
            # else low); it follows the rule's default level, the one judgement the rule file makes.
            "security-severity": _SECURITY_SEVERITY[rule.level],
            # Findings come from the manifest's own fields, not heuristics.
            "precision": "very-high",
        },
    }


def fingerprint(finding: Finding) -> str:
    """Stable across edits elsewhere in the file: the rule, file, object and field, not the line."""
    ref = finding.object
    file = PurePath(finding.file).as_posix().removeprefix("./") if finding.file else ""
    key = "\0".join([finding.rule, file, ref.kind or "", ref.namespace or "", ref.name or "", finding.pointer])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int], report: Report) -> dict[str, Any]:
    text = f"{finding.message} ({finding.object})"
    properties: dict[str, Any] = {"pointer": finding.pointer, "object": finding.object.as_dict()}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVELS[finding.level],
        "message": {"text": text},
        "partialFingerprints": {"kexlintFinding/v1": fingerprint(finding)},
        "properties": properties,
    }
    if finding.file is not None:
        origin = report.origin(finding.file)
        if origin is not None:
            # The line is one of the rendered stream: say so, and point at the kustomization file.
            template = report.template(finding.file, finding.line)
            inside = f"; template {template[0]}, line {template[1]}" if template else ""
            result["message"]["text"] = (f"{text} [{finding.file}, line {finding.line} of the rendered "
                                         f"output{inside}]")
            properties.update(renderedFrom=finding.file, renderedLine=finding.line,
                              renderedColumn=finding.column)
            if template is not None:
                properties.update(template=template[0], templateLine=template[1])
            uri, region = _uri(origin), {"startLine": 1}
        else:
            uri, region = _uri(finding.file), {"startLine": finding.line or 1, "startColumn": finding.column or 1}
        result["locations"] = [{
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region},
            "logicalLocations": [{"fullyQualifiedName": f"{finding.object}{finding.pointer}",
                                  "kind": "object"}],
        }]
    else:
        # Read from a cluster, not a file: the object and field are the only place there is.
        result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": f"{finding.object}{finding.pointer}",
                                                      "kind": "object"}]}]
    if finding.suppressed is not None:
        kind = "inSource" if finding.suppressed.startswith("annotation") else "external"
        result["suppressions"] = [{"kind": kind, "justification": finding.suppressed}]
    return result


def render(report: Report) -> str:
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    findings = report.result.findings if report.show_suppressed else report.active
    notifications = []
    for problem in report.result.problems:
        origin = report.origin(problem.file)
        notifications.append({
            "level": "error",
            "message": {"text": problem.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(origin or problem.file)},
                "region": {"startLine": max(problem.line, 1), "startColumn": max(problem.column, 1)},
            }}],
        })
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kexlint",
                "fullName": f"kexlint {__version__}",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/kexlint/kexlint",
                "rules": [_rule(rule) for rule in report.rules],
            }},
            "invocations": [{
                "executionSuccessful": not report.result.problems,
                "toolExecutionNotifications": notifications,
            }],
            "results": [_result(f, index, report) for f in findings if f.rule in index],
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2) + "\n"
