"""The webhook and the CLI agree: every rule fixture, object by object, gives the same findings.

Each object of tests/fixtures/rules/<rule>/* is wrapped in an AdmissionReview CREATE. Compared with
`Engine.check_object` on the same dict the findings (rule, level, pointer, message) are identical.
Compared with the CLI linting the whole file, they differ in exactly three explicit ways:

- cross-object findings (host-port-conflict between workloads, node-port-conflict between Services)
  need the other objects of the file; the webhook sees one object per request;
- duplicate-key needs the YAML text; the apiserver sends decoded JSON, where a key is unique;
- kinds the webhook does not review (ConfigMap, PodSecurityPolicy, …; see admission.KNOWN_KINDS)
  are allowed without findings.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from reviews import admission_review

from kexlint.config import parse_config
from kexlint.engine import Engine, objects_of
from kexlint.findings import LEVEL_RANK
from kexlint.loader import Document, read_documents
from kexlint.model import K8sObject, object_ref
from kexlint.registry import builtin_rules, rules_by_id
from kexlint.webhook.admission import SKIP, Settings, review_outcome

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
NEEDS_SOURCE_TEXT = {"duplicate-key"}
CROSS_OBJECT = {"host-port-conflict", "node-port-conflict", "dangling-service", "service-target-port",
                "dangling-ingress", "ingress-conflict", "gateway-listener-conflict", "dangling-route",
                "route-conflict"}
SEEN: Counter = Counter()


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".yaml", ".yml", ".json"))


def key(finding) -> tuple[str, str, str, str]:
    return finding.rule, finding.level, finding.pointer, finding.message


def load(path: Path) -> tuple[Engine, list[K8sObject]]:
    first = path.read_text().split("\n", 1)[0]
    match = re.match(r"^#\s*config:\s*(\{.*\})\s*$", first)
    config = parse_config(json.loads(match.group(1)) if match else {}, str(path), set(rules_by_id()))
    objects = []
    for doc in read_documents(path.read_text(), str(path)):
        if isinstance(doc, Document) and isinstance(doc.value, dict):
            objects.extend(o for o in objects_of(doc) if isinstance(o, K8sObject))
    return Engine(builtin_rules(), config), objects


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_webhook_matches_the_cli(path):
    engine, objects = load(path)
    settings = Settings.from_config(engine.config.webhook)
    # The CLI's view of the file: per-object findings with positions, then the cross-object ones.
    run = engine.run()
    cli = [run.lint_object(obj) for obj in objects]
    cross = run.finish()
    for obj, cli_findings in zip(objects, cli, strict=True):
        value = obj.value
        body = admission_review("CREATE", value, namespace=(value.get("metadata") or {}).get("namespace")
                                or "default")
        outcome = review_outcome(body, engine, settings)
        assert outcome.status == 200
        webhook = Counter(key(f) for f in outcome.findings)
        if outcome.verdict == SKIP:
            SEEN["skipped"] += 1
            assert not webhook and outcome.body["response"] == {"uid": body["request"]["uid"], "allowed": True}
            continue
        SEEN["objects"] += 1
        alone = Counter(key(f) for f in engine.check_object(K8sObject(value, object_ref(value)))
                        if f.suppressed is None)
        assert webhook == alone
        expected = Counter(key(f) for f in cli_findings if f.suppressed is None and f.rule not in NEEDS_SOURCE_TEXT)
        assert webhook == expected
        SEEN["findings"] += sum(webhook.values())
        SEEN["duplicate-key"] += sum(1 for f in cli_findings if f.rule in NEEDS_SOURCE_TEXT)
        # What the CLI reports only because other objects are in the file is absent here.
        for finding in cross:
            if finding.object == obj.ref:
                assert finding.rule in CROSS_OBJECT and key(finding) not in webhook
                SEEN["cross-object"] += 1
        # The verdict follows the findings.
        response = outcome.body["response"]
        threshold = LEVEL_RANK[settings.deny_level]
        should_deny = settings.mode == "enforce" and any(LEVEL_RANK[f.level] >= threshold for f in outcome.findings)
        assert response["allowed"] is not should_deny


def test_parity_covered_every_difference():
    """Runs last in this module: the comparisons above were not vacuous."""
    if SEEN["objects"] == 0:
        pytest.skip("run with the parametrized parity tests")
    assert SEEN["objects"] >= 40 and SEEN["findings"] >= 30
    assert SEEN["cross-object"] > 0 and SEEN["duplicate-key"] > 0 and SEEN["skipped"] > 0
