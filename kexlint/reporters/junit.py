"""JUnit XML as GitLab and Jenkins read it (testsuites/testsuite/testcase/failure).

One testsuite per file; in it one failing testcase per object and rule that found something, one
passing testcase per clean object, a skipped one per suppressed finding (with --show-suppressed)
and an erroring one per input problem. Valid against the Jenkins xUnit JUnit schema
(junit-10.xsd), which has no `file`/`line` attributes on testcase, so the location goes where
every reader shows it: `file:line:col` at the start of the failure message and text, and the file
as classname (GitLab's "suite" column).
"""

from __future__ import annotations

import re
from collections import defaultdict
from xml.etree import ElementTree as ET

from ..findings import Finding, InputProblem, ObjectRef
from . import Report

NO_FILE = "<admission>"
# Characters XML 1.0 cannot carry even escaped; a manifest's strings can hold them (YAML "\a").
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(tree: ET.Element) -> None:
    """Replace characters XML cannot represent, in every attribute and text, with U+FFFD."""
    for element in tree.iter():
        for key, value in element.attrib.items():
            element.set(key, _NOT_XML.sub("\ufffd", value))
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)


def _where(file: str, line: int | None, column: int | None) -> str:
    return f"{file}:{line or 0}:{column or 0}"


def _failure(case: ET.Element, findings: list[Finding]) -> None:
    first = findings[0]
    failure = ET.SubElement(case, "failure", type=first.level,
                            message=f"{_where(first.file or NO_FILE, first.line, first.column)}: {first.message}")
    failure.text = "\n".join(
        f"{_where(f.file or NO_FILE, f.line, f.column)}: {f.level} {f.rule} {f.message}"
        + "".join(f"\n  related: {r}" for r in f.related) + f"\n  fix: {f.fix}"
        for f in findings)


def _suite(root: ET.Element, file: str, objects: list[ObjectRef], active: dict[tuple[ObjectRef, str], list[Finding]],
           suppressed: dict[tuple[ObjectRef, str], list[Finding]], problems: list[InputProblem]) -> dict[str, int]:
    suite = ET.SubElement(root, "testsuite", name=file)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    # Objects in the order they were read; findings of objects not seen (none today) come last.
    order = list(dict.fromkeys([*objects, *(ref for ref, _ in active), *(ref for ref, _ in suppressed)]))
    for ref in order:
        failed = sorted(rule for r, rule in active if r == ref)
        for rule in failed:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{ref} {rule}", time="0")
            _failure(case, active[(ref, rule)])
            counts["failures"] += 1
        for rule in sorted(rule for r, rule in suppressed if r == ref):
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{ref} {rule}", time="0")
            ET.SubElement(case, "skipped", message=f"suppressed: {suppressed[(ref, rule)][0].suppressed}")
            counts["skipped"] += 1
        if not failed and ref in objects:
            ET.SubElement(suite, "testcase", classname=file, name=str(ref), time="0")
        counts["tests"] += len(failed) + sum(1 for r, _ in suppressed if r == ref) + (not failed and ref in objects)
    for problem in problems:
        case = ET.SubElement(suite, "testcase", classname=file,
                             name=f"read {_where(problem.file, problem.line, problem.column)}", time="0")
        error = ET.SubElement(case, "error", type="input",
                              message=f"{_where(problem.file, problem.line, problem.column)}: {problem.message}")
        error.text = error.get("message")
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def render(report: Report) -> str:
    objects: dict[str, list[ObjectRef]] = defaultdict(list)
    for source, ref in report.result.seen:
        objects[source].append(ref)
    active: dict[str, dict[tuple[ObjectRef, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in report.active:
        active[finding.file or NO_FILE][(finding.object, finding.rule)].append(finding)
    suppressed: dict[str, dict[tuple[ObjectRef, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    if report.show_suppressed:
        for finding in report.suppressed:
            suppressed[finding.file or NO_FILE][(finding.object, finding.rule)].append(finding)
    problems: dict[str, list[InputProblem]] = defaultdict(list)
    for problem in report.result.problems:
        problems[problem.file].append(problem)

    root = ET.Element("testsuites", name="kexlint")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    files = list(dict.fromkeys([*objects, *sorted(set(active) | set(suppressed) | set(problems))]))
    for file in files:
        counts = _suite(root, file, objects.get(file, []), active.get(file, {}), suppressed.get(file, {}),
                        problems.get(file, []))
        for key in totals:
            totals[key] += counts[key]
    if totals["tests"] == 0:
        # An empty report reads as "no tests ran" in some CI systems; say what was linted instead.
        suite = ET.SubElement(root, "testsuite", name="kexlint", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", classname="kexlint", time="0",
                      name=f"{report.result.objects} objects from {report.result.files} files")
        totals["tests"] = 1
    for key, value in totals.items():
        root.set(key, str(value))
    _clean(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
