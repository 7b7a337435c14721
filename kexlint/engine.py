"""The engine: (objects, rules, config) → findings. Pure: no I/O, no output formatting."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .checks import Conflict, Fact, Hit, Place
from .config import Config
from .findings import Finding, ObjectRef, json_pointer
from .loader import Document, InputError, Pointer
from .model import K8sObject, Target, is_kubernetes_object, is_list_kind, object_ref, targets
from .registry import Rule, has_path

SUPPRESS_PREFIX = "ignore.kexlint.io/"


class RuleCrash(Exception):
    """A rule raised: a bug in kexlint, reported with the rule and object instead of a traceback."""

    def __init__(self, rule: str, ref: ObjectRef | None, error: BaseException,
                 findings: list[Finding] | None = None) -> None:
        subject = str(ref) if ref is not None else "the linted set"
        super().__init__(f"rule {rule} failed on {subject}: {type(error).__name__}: {error}")
        self.rule = rule
        self.ref = ref
        self.error = error
        self.findings = findings or []  # what the other rules concluded (finish() goes on past a crash)


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
        reason = obj.annotations.get(SUPPRESS_PREFIX + rule_id)
        if isinstance(reason, str) and reason.strip():
            return f"annotation: {reason.strip()}"
        exclusion = self.config.exclusion(rule_id, obj.ref, obj.source)
        if exclusion is not None:
            return f"config: {exclusion.reason}"
        return None


def identity_of(ref: ObjectRef) -> tuple:
    """(api group, kind, namespace, name): what makes two objects the same one."""
    group = (ref.api_version or "").rpartition("/")[0]
    return (group, ref.kind, ref.namespace, ref.name)


def _is_fact_check(active: ActiveRule) -> bool:
    module = active.rule.module
    return module is not None and hasattr(module, "collect") and hasattr(module, "conclude")


class Run:
    """Objects linted one at a time; cross-object rules keep only their facts and conclude last."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.collectors: dict[str, Any] = {
            active.rule.id: active.rule.module.Collector()  # type: ignore[union-attr]
            for active in engine.active if active.rule.is_collector
        }
        # rule id → fact key → facts, for the rules with collect()/conclude()
        self.facts: dict[str, dict[Hashable, list[Fact]]] = {
            active.rule.id: {} for active in engine.active if _is_fact_check(active)
        }
        self.linted: set[tuple] = set()
        self._context_where: str | None = None

    def merge_facts(self, facts: dict[str, dict[Hashable, list[Fact]]], linted: Iterable[tuple] = ()) -> None:
        """Facts collected by another run (a worker process) join this run's."""
        for rule_id, groups in facts.items():
            mine = self.facts.setdefault(rule_id, {})
            for key, found in groups.items():
                mine.setdefault(key, []).extend(found)
        self.linted.update(linted)

    def add_context(self, obj: K8sObject, where: str = "in the cluster") -> None:
        """An object that already exists: its facts count in conclusions, nothing is reported on it."""
        self._context_where = where
        try:
            self._run_targets(obj, only_facts=True)
        finally:
            self._context_where = None

    def lint_object(self, obj: K8sObject) -> list[Finding]:
        self.linted.add(identity_of(obj.ref))
        return self._run_targets(obj)

    def _run_targets(self, obj: K8sObject, only_facts: bool = False) -> list[Finding]:
        findings: list[Finding] = []
        kind = obj.ref.kind
        for target_kind, actives in self.engine.by_target.items():
            for target in targets(obj, target_kind):
                for active in actives:
                    rule = active.rule
                    if rule.kinds is not None and kind not in rule.kinds:
                        continue
                    if only_facts and rule.id not in self.facts:
                        continue
                    try:
                        found = list(self._evaluate(active, target))
                        if not only_facts:
                            findings.extend(found)
                    except RecursionError:
                        # Not a bug of the rule: jsonschema (and repr() in its messages) recurse, so a
                        # value nested a few hundred levels deep, which a JSON admission request can
                        # carry, cannot be checked. Refuse the object rather than pass it unchecked.
                        line, column = obj.locate(())
                        raise InputError(f"{obj.ref} nests too deeply to be checked (rule {rule.id})",
                                         line or 0, column or 0) from None
                    except Exception as err:  # noqa: BLE001 - reported as the rule's bug, with context
                        raise RuleCrash(rule.id, obj.ref, err) from err
        return findings

    def _evaluate(self, active: ActiveRule, target: Target) -> Iterator[Finding]:
        rule = active.rule
        value = target.value
        if active.paths is not None and not any(has_path(value, path) for path in active.paths):
            return
        settings = self.engine.settings
        if rule.schema is not None:
            hits: Iterable[Hit] = rule.schema_hits(target)
        elif rule.id in self.facts:
            hits = self._collect(active, target)
        elif rule.id in self.collectors:
            hits = self.collectors[rule.id].observe(
                target, active.params, settings,
                lambda path: self._place(active, target.obj, target.path + tuple(path)))
        else:
            hits = rule.module.check(target, active.params, settings)  # type: ignore[union-attr]
        for hit in hits:
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

    def _collect(self, active: ActiveRule, target: Target) -> Iterator[Hit]:
        store = self.facts[active.rule.id]
        module = active.rule.module
        for item in module.collect(  # type: ignore[union-attr]
                target, active.params, self.engine.settings,
                lambda path: self._place(active, target.obj, target.path + tuple(path))):
            if isinstance(item, Fact):
                store.setdefault(item.key, []).append(item)
            else:
                yield item

    def _place(self, active: ActiveRule, obj: K8sObject, path: Pointer) -> Place:
        line, column = obj.locate(path)
        context = self._context_where is not None
        if context:
            where = self._context_where or "in the cluster"
        else:
            where = f"{obj.source}:{line}" if obj.source else json_pointer(path)
        # The token holds all a finding needs, so the object itself is not kept alive; the rule is
        # named by id so the token stays picklable.
        suppressed = self.engine.suppression(active.rule.id, obj)
        token = (active.rule.id, obj.source, line, column, tuple(path), obj.ref, suppressed)
        return Place(str(obj.ref), where, identity_of(obj.ref), context, token)

    def _conflict_finding(self, active: ActiveRule, conflict: Conflict) -> Finding:
        _rule_id, source, line, column, path, ref, suppressed = conflict.place.token  # type: ignore[misc]
        level = active.level if active.level_forced or conflict.level is None else conflict.level
        return Finding(active.rule.id, level, conflict.message, active.rule.fix, source, line, column, path,
                       ref, suppressed, related=(conflict.related,) if conflict.related else ())

    def finish(self) -> list[Finding]:
        findings = []
        crash: RuleCrash | None = None
        actives = {active.rule.id: active for active in self.engine.active}
        for rule_id, store in self.facts.items():
            active = actives[rule_id]
            # A re-applied manifest is never in conflict with the cluster's copy of itself.
            groups = {key: [f for f in found if not (f.place.context and f.place.identity in self.linted)]
                      for key, found in store.items()}
            try:
                conflicts = list(active.rule.module.conclude(  # type: ignore[union-attr]
                    groups, active.params, self.engine.settings))
            except Exception as err:  # noqa: BLE001 - reported as the rule's bug, with context
                crash = crash or RuleCrash(rule_id, None, err)
                continue
            findings.extend(self._conflict_finding(active, c) for c in conflicts if not c.place.context)
        for collector in self.collectors.values():
            conflicts: Iterable[Conflict] = collector.conclude()
            for conflict in conflicts:
                findings.append(self._conflict_finding(actives[conflict.place.token[0]], conflict))
        if crash is not None:
            crash.findings = findings
            raise crash
        return findings
