"""JUnit XML as GitLab and Jenkins read it: a testsuite per file, a testcase per object and rule
that found something, failures carrying file:line, and input problems as errors."""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from ..findings import Finding
from . import Report


def render(report: Report) -> str:
    by_file: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in report.active:
        by_file[finding.file or "<admission>"][(str(finding.object), finding.rule)].append(finding)
    problems_by_file = defaultdict(list)
    for problem in report.result.problems:
        problems_by_file[problem.file].append(problem)

    root = ET.Element("testsuites", name="kexlint")
    total_tests = total_failures = total_errors = 0
    for file in sorted(set(by_file) | set(problems_by_file)):
        cases = by_file.get(file, {})
        problems = problems_by_file.get(file, [])
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(cases) + len(problems)),
                              failures=str(len(cases)), errors=str(len(problems)), skipped="0")
        for (obj, rule), findings in sorted(cases.items()):
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{obj} {rule}", file=file)
            if findings[0].line:
                case.set("line", str(findings[0].line))
            text = "\n".join(f"{f.file}:{f.line}:{f.column}: {f.level} {f.rule} {f.message}\nfix: {f.fix}"
                             for f in findings)
            failure = ET.SubElement(case, "failure", message=findings[0].message, type=findings[0].level)
            failure.text = text
        for problem in problems:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"read {file}", file=file)
            error = ET.SubElement(case, "error", message=problem.message, type="input")
            error.text = f"{problem.file}:{problem.line}:{problem.column}: {problem.message}"
        total_tests += len(cases) + len(problems)
        total_failures += len(cases)
        total_errors += len(problems)
    if total_tests == 0:
        suite = ET.SubElement(root, "testsuite", name="kexlint", tests="1", failures="0", errors="0",
                              skipped="0")
        ET.SubElement(suite, "testcase", classname="kexlint",
                      name=f"{report.result.objects} objects from {report.result.files} files")
        total_tests = 1
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
