"""The rule conditions evaluated without jsonschema (kexlint.schemafast) must give what jsonschema
gives: the same errors, paths and instances in the same order, so the same findings and messages,
on every fixture, on generated values, and on generated schemas of the keywords it compiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kexlint.engine import objects_of
from kexlint.loader import Document, read_documents
from kexlint.model import targets
from kexlint.registry import Rule, builtin_rules, parse_rule
from kexlint.schemafast import compile_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_RULES = [rule for rule in builtin_rules() if rule.schema is not None]


def reference(schema: Any, value: Any) -> list[tuple[tuple, Any]]:
    return [(tuple(e.absolute_path), e.instance) for e in Draft202012Validator(schema).iter_errors(value)]


def fast(schema: Any, value: Any) -> list[tuple[tuple, Any]]:
    check = compile_schema(schema)
    assert check is not None, schema
    return list(check(value))


def same(left: list, right: list) -> bool:
    # Instances compared by identity: jsonschema's error carries the very object that failed.
    if [p for p, _ in left] != [p for p, _ in right]:
        return False
    return all(a is b for (_, a), (_, b) in zip(left, right, strict=True))


def test_every_shipped_schema_rule_compiles() -> None:
    # Not required (unknown shapes fall back), but a shipped rule falling back would lose the speed.
    assert SCHEMA_RULES
    for rule in SCHEMA_RULES:
        assert rule.fast_check is not None, rule.id


def fixture_targets() -> list[tuple[str, Rule, Any]]:
    cases = []
    for path in sorted((ROOT / "tests" / "fixtures").rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        text = path.read_text("utf-8", errors="replace")
        for doc in read_documents(text, str(path), is_json=path.suffix == ".json"):
            if not isinstance(doc, Document) or not isinstance(doc.value, dict):
                continue
            for obj in objects_of(doc):
                if isinstance(obj, Exception):
                    continue
                for rule in SCHEMA_RULES:
                    for target in targets(obj, rule.target):
                        cases.append((str(path.relative_to(ROOT)), rule, target))
    return cases


def test_fixtures_agree_with_jsonschema() -> None:
    cases = fixture_targets()
    assert len(cases) > 50
    failing = 0
    for where, rule, target in cases:
        got = list(rule.schema_errors(target.value))
        want = reference(rule.schema, target.value)
        assert same(got, want), (where, rule.id, got, want)
        failing += bool(want)
    assert failing > 5  # the fixtures exercise the failing side too


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False),
                    st.sampled_from([0, 1, 0.0, 1.0, "0", "true", "", 8086.0]), st.text(max_size=3))
NAMES = st.sampled_from(["hostNetwork", "ports", "hostPort", "spec", "externalIPs", "rules", "tls",
                         "type", "a", "b"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(NAMES, inner, max_size=4), max_leaves=20)


@pytest.mark.parametrize("rule", SCHEMA_RULES, ids=lambda r: r.id)
@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_generated_values_agree(rule: Rule, value: Any) -> None:
    assert same(fast(rule.schema, value), reference(rule.schema, value))


CONSTS = st.one_of(st.none(), st.booleans(), st.integers(-1, 2), st.sampled_from([0.0, 1.0, "a", [], [0], {}]))
TYPES = st.sampled_from(["object", "array", "string", "null", "boolean", "number", "integer"])
SCHEMAS = st.recursive(
    st.one_of(st.booleans(), st.builds(lambda t: {"type": t}, TYPES | st.lists(TYPES, min_size=1, max_size=2)),
              st.builds(lambda c: {"const": c}, CONSTS), st.builds(lambda e: {"enum": e}, st.lists(CONSTS, max_size=3)),
              st.builds(lambda n: {"minItems": n}, st.integers(0, 2)),
              st.builds(lambda n: {"maxItems": n}, st.integers(0, 2)),
              st.builds(lambda r: {"required": r}, st.lists(NAMES, max_size=2, unique=True))),
    lambda inner: st.one_of(
        st.builds(lambda s: {"not": s}, inner),
        st.builds(lambda s: {"items": s}, inner),
        st.builds(lambda p: {"properties": p}, st.dictionaries(NAMES, inner, max_size=3)),
        st.builds(lambda i, t, e: {"if": i, "then": t, "else": e}, inner, inner, inner),
        st.builds(lambda i, t: {"if": i, "then": t}, inner, inner),
        st.builds(lambda a: {"allOf": a}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda a: {"anyOf": a}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda a, b: {**a, **b} if isinstance(a, dict) and isinstance(b, dict) else a, inner, inner),
    ), max_leaves=8)


@settings(max_examples=600, deadline=None)
@given(schema=SCHEMAS, value=VALUES)
def test_generated_schemas_agree(schema: Any, value: Any) -> None:
    # Shapes it declines (a nested `false`) go to jsonschema, so only compiled ones are compared.
    assume(compile_schema(schema) is not None)
    assert same(fast(schema, value), reference(schema, value))


def test_unknown_keywords_fall_back_to_jsonschema() -> None:
    # A rule another engineer adds with a keyword the fast path lacks must still work.
    schema = {"properties": {"hostPort": {"minimum": 1024, "pattern": "x"}}}
    assert compile_schema(schema) is None
    rule = parse_rule({"id": "low-port", "summary": "s", "level": "error", "target": "container",
                       "message": "low {field} {value}", "fix": "f", "docs": {"what": "w", "why": "y",
                       "fix": "f", "examples": {"pass": "a", "fail": "b"}}, "schema": schema},
                      "rules/low-port.yaml", schema_checked=True)
    assert [(path, instance) for path, instance in rule.schema_errors({"hostPort": 80})] == [(("hostPort",), 80)]


def test_a_schema_finding_does_not_import_jsonschema(tmp_path: Path) -> None:
    code = ("import sys; from kexlint.cli import main; code = main(['--no-config', 'examples/influxdb-hostport.yaml']);"
            "sys.stdout.flush(); print('jsonschema' in sys.modules, code)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    # The first run validates the rule files (jsonschema) and remembers them; the second is the usual run.
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                             check=False).stdout
    assert "error host-port hostPort 8086" in out
    assert out.strip().endswith("False 1")
