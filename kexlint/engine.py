"""The engine: (objects, rules, config) → findings. Pure: no I/O, no output formatting."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .checks import Conflict, Hit, Place
from .config import Config
from .findings import Finding, ObjectRef, json_pointer
from .loader import Document, InputError, Pointer
from .model import K8sObject, Target, is_kubernetes_object, is_list_kind, object_ref, targets
from .registry import Rule, has_path

SUPPRESS_PREFIX = "ignore.kexlint.io/"
# Findings of one rule in one object; the last one kept says how many more there were.
MAX_FINDINGS_PER_RULE = 100


class RuleCrash(Exception):
    """A rule raised: a bug in kexlint, reported with the rule and object instead of a traceback."""

    def __init__(self, rule: str, ref: ObjectRef, error: BaseException) -> None:
        super().__init__(f"rule {rule} failed on {ref}: {type(error).__name__}: {error}")
        self.rule = rule
        self.ref = ref
        self.error = error


@dataclass(frozen=True)
class ActiveRule:
    """A rule as the config sets it up: its level, params, and the paths where its schema can fail."""

    rule: Rule
    level: str
    level_forced: bool
    params: dict[str, Any]
    paths: tuple[tuple[str, ...], ...] | None


def objects_of(doc: Document) -> Iterator[K8sObject | InputError]:
    """The Kubernetes objects of a document: itself, or each item of a `kind: List`."""
    value = doc.value
    if not is_kubernetes_object(value):
        return
    if is_list_kind(value):
        for index, item in enumerate(value["items"]):
            if not isinstance(item, dict) or not is_kubernetes_object(item):
                line, column = doc.locate(("items", index))
                yield InputError(f"item {index} of {value.get('kind')} is not a Kubernetes object",
                                 line, column)
                continue
            yield from _checked(K8sObject(item, object_ref(item), doc, ("items", index)))
        return
    yield from _checked(K8sObject(value, object_ref(value), doc))


def _checked(obj: K8sObject) -> Iterator[K8sObject | InputError]:
    if obj.ref.api_version is None or obj.ref.kind is None:
        missing = "apiVersion" if obj.ref.api_version is None else "kind"
        line, column = obj.locate(())
        yield InputError(f"object has no {missing}", line or 0, column or 0)
        return
    yield obj


class Engine:
    """The active rules as the config sets them up; immutable, so threads can share one."""

    def __init__(self, rules: Iterable[Rule], config: Config) -> None:
        self.config = config
        self.settings = config.settings
        self.active: list[ActiveRule] = []
        for rule in rules:
            setting = config.rules.get(rule.id)
            enabled = rule.enabled if setting is None or setting.enabled is None else setting.enabled
            if not enabled:
                continue
            forced = setting is not None and setting.level is not None
            level = setting.level if forced else rule.level  # type: ignore[union-attr]
            params = {**rule.params, **(setting.params if setting else {})}
            self.active.append(ActiveRule(rule, level, forced, params, rule.schema_paths))
        # Rules grouped by target, so each object's targets are looked up once per kind of target.
        self.by_target: dict[str, list[ActiveRule]] = {}
        for active in self.active:
            self.by_target.setdefault(active.rule.target, []).append(active)

    def run(self) -> Run:
        """A lint run over a set of objects, which cross-object rules see as one set."""
        return Run(self)

    def check_object(self, obj: K8sObject) -> list[Finding]:
        """Findings for one object on its own (what the admission webhook sees).

        Raises InputError for an object too deeply nested to check, RuleCrash for a rule's bug."""
        run = self.run()
        return run.lint_object(obj) + run.finish()

    def suppression(self, rule_id: str, obj: K8sObject) -> str | None:
        # The pod template's annotations count too: they are the only ones that reach the Pods (and,
        # for a CronJob, the Jobs) a workload's controllers create, so an annotation there suppresses
        # the same finding on the workload and on everything made from it.
        for found in _suppression_annotations(obj):
            reason = found.get(SUPPRESS_PREFIX + rule_id)
            if isinstance(reason, str) and reason.strip():
                return f"annotation: {reason.strip()}"
        exclusion = self.config.exclusion(rule_id, obj.ref, obj.source)
        if exclusion is not None:
            return f"config: {exclusion.reason}"
        return None


def _note_dropped(findings: list[Finding], dropped: dict[str, int]) -> list[Finding]:
    last = {finding.rule: index for index, finding in enumerate(findings)}
    for rule, count in dropped.items():
        if rule in last:
            finding = findings[last[rule]]
            findings[last[rule]] = replace(finding, message=f"{finding.message} (... and {count:,} more)")
    return findings


def _suppression_annotations(obj: K8sObject) -> Iterator[dict[str, Any]]:
    """The object's annotations, then those of each template on the way to its pod spec
    (spec.template.metadata; spec.jobTemplate.metadata and its template's for a CronJob)."""
    yield obj.annotations
    found = obj.pod_spec()
    if found is None:
        return
    node: Any = obj.value
    for key in found[0][:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if key in ("template", "jobTemplate") and isinstance(node, dict):
            metadata = node.get("metadata")
            values = metadata.get("annotations") if isinstance(metadata, dict) else None
            if isinstance(values, dict):
                yield values


class Run:
    """Objects linted one at a time; cross-object rules keep only their facts and conclude last."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.collectors: dict[str, Any] = {
            active.rule.id: active.rule.module.Collector()  # type: ignore[union-attr]
            for active in engine.active if active.rule.is_collector
        }
        self._kept: dict[str, int] = {}  # per rule, findings built for the object being linted
        self._dropped: dict[str, int] = {}  # and hits past the cap, only counted

    def lint_object(self, obj: K8sObject) -> list[Finding]:
        findings: list[Finding] = []
        kind = obj.ref.kind
        # Per rule, findings beyond MAX_FINDINGS_PER_RULE are counted, not built: one crafted object
        # (a Pod with a million ports) must not cost a Finding per port.
        self._kept, self._dropped = {}, {}
        for target_kind, actives in self.engine.by_target.items():
            for target in targets(obj, target_kind):
                for active in actives:
                    rule = active.rule
                    if rule.kinds is not None and kind not in rule.kinds:
                        continue
                    try:
                        findings.extend(self._evaluate(active, target))
                    except RecursionError:
                        # Not a bug of the rule: jsonschema (and repr() in its messages) recurse, so a
                        # value nested a few hundred levels deep, which a JSON admission request can
                        # carry, cannot be checked. Refuse the object rather than pass it unchecked.
                        line, column = obj.locate(())
                        raise InputError(f"{obj.ref} nests too deeply to be checked (rule {rule.id})",
                                         line or 0, column or 0) from None
                    except Exception as err:  # noqa: BLE001 - reported as the rule's bug, with context
                        raise RuleCrash(rule.id, obj.ref, err) from err
        if self._dropped:
            findings = _note_dropped(findings, self._dropped)
        return findings

    def _evaluate(self, active: ActiveRule, target: Target) -> Iterator[Finding]:
        rule = active.rule
        value = target.value
        if active.paths is not None and not any(has_path(value, path) for path in active.paths):
            return
        settings = self.engine.settings
        if rule.schema is not None:
            hits: Iterable[Hit] = rule.schema_hits(target)
        elif rule.id in self.collectors:
            hits = self.collectors[rule.id].observe(
                target, active.params, settings,
                lambda path: self._place(active, target.obj, target.path + tuple(path)))
        else:
            hits = rule.module.check(target, active.params, settings)  # type: ignore[union-attr]
        for hit in hits:
            kept = self._kept.get(rule.id, 0)
            if kept >= MAX_FINDINGS_PER_RULE:
                self._dropped[rule.id] = self._dropped.get(rule.id, 0) + 1
                continue
            self._kept[rule.id] = kept + 1
            yield self._finding(active, target.obj, target.path + tuple(hit.path), hit.message, hit.level)

    def _finding(self, active: ActiveRule, obj: K8sObject, path: Pointer, message: str,
                 level: str | None = None) -> Finding:
        line, column = obj.locate(path)
        return Finding(
            rule=active.rule.id,
            level=active.level if active.level_forced or level is None else level,
            message=message,
            fix=active.rule.fix,
            file=obj.source,
            line=line,
            column=column,
            path=tuple(path),
            object=obj.ref,
            suppressed=self.engine.suppression(active.rule.id, obj),
        )

    def _place(self, active: ActiveRule, obj: K8sObject, path: Pointer) -> Place:
        line, column = obj.locate(path)
        where = f"{obj.source}:{line}" if obj.source else json_pointer(path)
        # The token holds all a finding needs, so the object itself is not kept alive.
        suppressed = self.engine.suppression(active.rule.id, obj)
        token = (active, obj.source, line, column, tuple(path), obj.ref, suppressed)
        return Place(str(obj.ref), where, token)

    def finish(self) -> list[Finding]:
        findings = []
        for collector in self.collectors.values():
            conflicts: Iterable[Conflict] = collector.conclude()
            for conflict in conflicts:
                active, source, line, column, path, ref, suppressed = conflict.place.token
                findings.append(Finding(active.rule.id, active.level, conflict.message, active.rule.fix,
                                        source, line, column, path, ref, suppressed,
                                        related=(conflict.related,) if conflict.related else ()))
        return findings
