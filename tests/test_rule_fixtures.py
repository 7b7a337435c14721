"""Every fixture under fixtures/rules/<rule-id>/ is linted alone; the findings must match the
`# expect: rule[, rule]` comments on the offending lines exactly (rule and line), for the folder's
rule and every rule an expectation names. JSON fixtures keep their expectations in FILE.expect.
A first-line `# config: {...}` comment gives the fixture its own .kexlint.yaml settings."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kexlint.config import parse_config
from kexlint.engine import Engine
from kexlint.lint import Linter
from kexlint.registry import builtin_rules, rules_by_id

RULE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rules"
EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9, -]+)$")
CONFIG = re.compile(r"^#\s*config:\s*(\{.*\})\s*$")


def fixture_files() -> list[Path]:
    return sorted(p for p in RULE_FIXTURES.glob("*/*") if p.suffix in (".yaml", ".yml", ".json"))


def expectations(path: Path) -> Counter:
    expected: Counter = Counter()
    if path.suffix == ".json":
        expect_file = path.with_name(path.name + ".expect")
        if expect_file.exists():
            for line in expect_file.read_text().split("\n"):
                if line.strip():
                    rule, number = line.split()
                    expected[(rule, int(number))] += 1
        return expected
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        match = EXPECT.search(line)
        if match:
            for rule in match.group(1).split(","):
                expected[(rule.strip(), number)] += 1
    return expected


def fixture_config(path: Path) -> dict:
    first = path.read_text().split("\n", 1)[0]
    match = CONFIG.match(first)
    return json.loads(match.group(1)) if match else {}


def lint_fixture(path: Path):
    config = parse_config(fixture_config(path), str(path), set(rules_by_id()))
    linter = Linter(Engine(builtin_rules(), config))
    linter.lint_path(str(path))
    return linter.finish()


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    rule_id = path.parent.name
    expected = expectations(path)
    result = lint_fixture(path)
    assert not result.problems, result.problems
    checked = {rule_id} | {rule for rule, _ in expected}
    found = Counter((f.rule, f.line) for f in result.findings if f.rule in checked and f.suppressed is None)
    assert found == expected, "\n".join(
        f"{f.file}:{f.line}:{f.column} {f.rule} {f.message}" for f in result.findings)
    if path.name.startswith("pass"):
        assert not [k for k in expected if k[0] == rule_id], "a pass fixture expects no finding of its rule"
    else:
        assert any(k[0] == rule_id for k in expected), "a fail fixture must expect its own rule"


def test_every_finding_names_its_field() -> None:
    """Positions point at the field: the expectation comment sits on that line, so the column of the
    finding is where the key starts in YAML, never the document start."""
    for path in fixture_files():
        for finding in lint_fixture(path).findings:
            assert finding.line and finding.column, finding
            assert finding.pointer.startswith("/") or finding.pointer == "", finding
            assert finding.fix and finding.message


def test_catalogue() -> None:
    """Every rule has pass and fail fixtures and documentation; every fixture folder is a rule."""
    rules = rules_by_id()
    folders = {p.name for p in RULE_FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(rules), f"fixture folders without rule: {folders - set(rules)}, " \
                                  f"rules without fixtures: {set(rules) - folders}"
    for rule_id, rule in rules.items():
        files = [p.name for p in (RULE_FIXTURES / rule_id).iterdir() if p.suffix != ".expect"]
        assert any(n.startswith("pass") for n in files), f"{rule_id} has no pass fixture"
        assert any(n.startswith("fail") for n in files), f"{rule_id} has no fail fixture"
        for section in ("what", "why", "example", "instead"):
            assert rule.docs[section].strip(), f"{rule_id} lacks docs.{section}"
        assert rule.fix.strip() and rule.summary.strip()


def test_examples_in_docs_behave() -> None:
    """Each rule's documented example triggers it and its `instead` does not (when they are whole
    manifests), so the docs cannot drift from the rule."""
    for rule in builtin_rules():
        for section, should_fire in (("example", True), ("instead", False)):
            text = rule.docs[section]
            if "apiVersion" not in text:
                continue
            # Rules that are off by default are turned on: the example shows what they flag.
            config = parse_config({"rules": {rule.id: {"enabled": True}}}, "-", set(rules_by_id()))
            linter = Linter(Engine(builtin_rules(), config))
            linter.lint_text(text, f"{rule.id}-{section}.yaml")
            result = linter.finish()
            fired = any(f.rule == rule.id for f in result.findings)
            assert fired == should_fire, f"{rule.id} docs.{section}: fired={fired}"
