"""The engine: (objects, rules, config) → findings. Pure: no I/O, no output formatting."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType

from .checks import Conflict, Fact, Hit, Place
from .config import Config
from .findings import Finding, ObjectRef, json_pointer
from .loader import Document, InputError, Pointer
from .model import (
    BUILTIN_KIND_SPELLING,
    WHOLE_OBJECT_TARGETS,
    K8sObject,
    Target,
    is_builtin_group,
    is_kubernetes_object,
    is_list_kind,
    object_ref,
    targets,
)
from .records import dataclass, field, replace
from .registry import Rule, has_path

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

SUPPRESS_PREFIX = "ignore.kexlint.io/"
# Findings of one rule in one object; the last one kept says how many more there were.
MAX_FINDINGS_PER_RULE = 100
# Object kinds whose rule plan an Engine remembers: kinds come from the input (an admission request
# can name any), so the memo must not grow with made-up ones; past this, plans are built each time.
MAX_PLANNED_KINDS = 256
# How often (in hits and facts) a run with a deadline looks at the clock: a hit costs about a
# microsecond, so the deadline is overrun by at most a few milliseconds.
DEADLINE_CHECK_EVERY = 1024

# The monotonic time by which the runs of this thread (or task) must end: the admission webhook sets
# it per review, since its answer is worthless after the apiserver's timeout. None: no deadline.
_DEADLINE: ContextVar[float | None] = ContextVar("kexlint_deadline", default=None)


class DeadlineExceeded(Exception):
    """A run went past the deadline set with `deadline()`; `rule` is the one it was in."""

    def __init__(self, rule: str, ref: ObjectRef | None) -> None:
        super().__init__(f"{ref} could not be checked in time (rule {rule})")
        self.rule = rule
        self.ref = ref


@contextmanager
def deadline(seconds: float | None) -> Generator[None, None, None]:
    """Runs started inside raise DeadlineExceeded once `seconds` have passed (None: never)."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


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
    # Looked up once per engine rather than per target (the webhook evaluates every rule per review).
    module: ModuleType | None = None
    collector: bool = False


# Per object kind: (target kind, the rules on it that apply to that kind), in the engine's order.
Plan = tuple[tuple[str, tuple[ActiveRule, ...]], ...]


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
            if is_list_kind(item):
                # kubectl refuses the whole file ("is not a list: no Items field in this object") and
                # applies none of it; linting the inner items as if it had would pass what never runs.
                line, column = doc.locate(("items", index))
                yield InputError(f"item {index} of {value.get('kind')} is itself a {item.get('kind')}: "
                                 "kubectl cannot read a List inside a List", line, column)
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
    right = BUILTIN_KIND_SPELLING.get(obj.ref.kind.lower())
    if right is not None and right != obj.ref.kind and is_builtin_group(api_group(obj.ref.api_version)):
        # kubectl sends `kind: pod` as written and the apiserver answers "no matches for kind": it
        # never runs, but skipping it as an unknown kind would hide the typo along with the findings.
        line, column = obj.locate(("kind",))
        yield InputError(f"kind {obj.ref.kind!r} is not a Kubernetes kind: kinds are case-sensitive, "
                         f"did you mean {right!r}?", line or 0, column or 0)
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
            self.active.append(ActiveRule(rule, level, forced, params, rule.schema_paths, rule.module,
                                          rule.is_collector))
        # Rules grouped by target, so each object's targets are looked up once per kind of target.
        self.by_target: dict[str, list[ActiveRule]] = {}
        # The cross-object rules alone, for context objects.
        self.cross_by_target: dict[str, list[ActiveRule]] = {}
        for active in self.active:
            self.by_target.setdefault(active.rule.target, []).append(active)
            if active.collector:
                self.cross_by_target.setdefault(active.rule.target, []).append(active)
        # By id, as finish() concludes each rule once.
        self.collectors = tuple({a.rule.id: a for a in self.active if a.collector}.values())
        # (object kind, context?) → Plan. A memo, not state: two threads racing build equal plans.
        self._plans: dict[tuple[str | None, bool], Plan] = {}

    def plan(self, kind: str | None, context: bool) -> Plan:
        """The rules to run on an object of `kind` (context: only the cross-object ones), by target.

        Decided once per kind: a rule's `kinds` and the whole-object targets (a Service target on a
        Pod) depend on the kind alone, and the webhook would otherwise filter every rule per review."""
        key = (kind, context)
        plan = self._plans.get(key)
        if plan is None:
            by_target = self.cross_by_target if context else self.by_target
            steps = []
            for target_kind, actives in by_target.items():
                if target_kind in WHOLE_OBJECT_TARGETS and kind not in WHOLE_OBJECT_TARGETS[target_kind]:
                    continue  # targets() yields nothing for this kind
                applicable = tuple(a for a in actives if a.rule.kinds is None or kind in a.rule.kinds)
                if applicable:
                    steps.append((target_kind, applicable))
            plan = tuple(steps)
            if len(self._plans) < MAX_PLANNED_KINDS:
                self._plans[key] = plan
        return plan

    def run(self) -> Run:
        """A lint run over a set of objects, which cross-object rules see as one set."""
        return Run(self)

    def check_object(self, obj: K8sObject) -> list[Finding]:
        """Findings for one object on its own (what the admission webhook sees).

        Raises InputError for an object too deeply nested to check, RuleCrash for a rule's bug."""
        run = self.run()
        return run.lint_object(obj) + run.finish()

    def suppression(self, rule_id: str, obj: K8sObject,
                    annotations: Iterable[dict[str, Any]] | None = None) -> str | None:
        """Why `rule_id`'s findings on `obj` are suppressed, or None. `annotations`: the object's
        _suppression_annotations when the caller already has them (one object, many rules)."""
        # The pod template's annotations count too: they are the only ones that reach the Pods (and,
        # for a CronJob, the Jobs) a workload's controllers create, so an annotation there suppresses
        # the same finding on the workload and on everything made from it.
        for found in _suppression_annotations(obj) if annotations is None else annotations:
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


def api_group(api_version: str | None) -> str:
    """"apps/v1" → "apps"; the core group ("v1") is ""."""
    return api_version.rpartition("/")[0] if api_version else ""


def identity_of(ref: ObjectRef) -> tuple:
    """(api group, kind, namespace, name): the same object whatever its apiVersion's version."""
    return (api_group(ref.api_version), ref.kind, ref.namespace, ref.name)


def controller_of(value: dict[str, Any], namespace: str | None) -> tuple | None:
    """The identity of the controller named in ownerReferences (`controller: true`), if any."""
    metadata = value.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    if not isinstance(owners, list):
        return None
    for owner in owners:
        if isinstance(owner, dict) and owner.get("controller") is True:
            kind, name = owner.get("kind"), owner.get("name")
            api_version = owner.get("apiVersion")
            if isinstance(kind, str) and isinstance(name, str) and isinstance(api_version, str):
                return (api_group(api_version), kind, namespace, name)
    return None


def label_of(identity: tuple) -> str:
    _, kind, namespace, name = identity
    return str(ObjectRef(None, kind, namespace, name))


# Context objects that stand for their controller: the Pods of a ReplicaSet, DaemonSet, Job...,
# and the ReplicaSets of a Deployment. Counting them would make a DaemonSet conflict with itself.
OWNED_KINDS = frozenset({("", "Pod"), ("apps", "ReplicaSet"), ("batch", "Job")})


@dataclass
class Facts:
    """What a run keeps of its objects for the cross-object rules; picklable, so worker processes
    (or a cluster cache) ship these instead of documents, and `Run.merge_facts` joins them."""

    # rule id → fact key → facts with that key
    by_rule: dict[str, dict[Hashable, list[Fact]]] = field(default_factory=dict)
    # identities of the linted objects: a context object with one of them is being re-applied
    linted: set[tuple] = field(default_factory=set)
    # linted objects without a namespace, by (group, kind, name): applied to whichever namespace
    # kubectl is told, so they re-apply over the object of that name in any namespace
    linted_unnamespaced: set[tuple] = field(default_factory=set)
    # context object → its controller, for owners listed after the objects they own
    owners: dict[tuple, tuple] = field(default_factory=dict)
    # marker → spots.Spot: places whose file:line is looked up only if a conclusion shows them
    spots: dict[str, tuple] = field(default_factory=dict)

    def merge(self, other: Facts) -> None:
        for rule_id, groups in other.by_rule.items():
            mine = self.by_rule.setdefault(rule_id, {})
            for key, facts in groups.items():
                mine.setdefault(key, []).extend(facts)
        self.linted |= other.linted
        self.linted_unnamespaced |= other.linted_unnamespaced
        self.owners.update(other.owners)
        self.spots.update(other.spots)


# A deferred place's `where` until it is located: unique across the forked workers of one run (the
# pid), never in a message otherwise (YAML text cannot hold NUL).
_MARKER = re.compile("\x00[0-9]+\\.[0-9]+\x00")
_MARKERS = itertools.count()
_marker_prefix = f"\x00{os.getpid()}."


def _new_marker_prefix() -> None:
    global _marker_prefix
    _marker_prefix = f"\x00{os.getpid()}."


# A forked worker numbers its markers after its own pid; asking os.getpid() per place cost a call each.
if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork either
    os.register_at_fork(after_in_child=_new_marker_prefix)
Locator = Callable[[Mapping[str, tuple]], dict[str, tuple[int, int]]]


class Run:
    """Objects linted one at a time; cross-object rules hand their facts to the run, which
    concludes last. Context objects (what already exists) are observed, never reported on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.facts = Facts()
        self.deadline = _DEADLINE.get()
        self._ticks = 0
        self._in: tuple[str, ObjectRef | None] = ("", None)  # the rule and object being evaluated
        self._kept: dict[str, int] = {}  # per rule, findings built for the object being observed
        self._dropped: dict[str, int] = {}  # and hits past the cap, only counted
        # The source whose facts' places may be located after the conclusions (see spots.py), and
        # how to locate them; set by the linter for a file it can read again.
        self.deferred: str | None = None
        self.locator: Locator | None = None
        self.positions: dict[str, tuple[int, int]] = {}  # the located markers, after finish()
        # What every rule's findings and facts on the object being observed ask for, the same for
        # all of them: the annotations that may suppress, its label and its identity.
        self._annotated: K8sObject | None = None
        self._annotations: tuple[dict[str, Any], ...] = ()
        self._label = ""
        self._identity: tuple = ()

    def merge_facts(self, facts: Facts) -> None:
        """Take the facts of another run (a worker's) into this one."""
        self.facts.merge(facts)

    def lint_object(self, obj: K8sObject) -> list[Finding]:
        self._note_linted(obj.ref)
        return self._observe(obj, None)

    def add_context(self, obj: K8sObject | dict[str, Any], where: str | None = None) -> None:
        """Observe an object that already exists, for the cross-object rules only.

        where: how findings name it ("in the cluster"); by default its file:line. A controller-owned
        Pod or ReplicaSet stands for its controller. Raises as lint_object does."""
        if not isinstance(obj, K8sObject):
            obj = K8sObject(obj, object_ref(obj))
        identity = identity_of(obj.ref)
        owner = controller_of(obj.value, obj.ref.namespace) if identity[:2] in OWNED_KINDS else None
        if owner is not None:
            self.facts.owners[identity] = owner
            identity = self._owner(owner)
        self._observe(obj, (identity, where))

    def _note_linted(self, ref: ObjectRef) -> None:
        identity = identity_of(ref)
        self.facts.linted.add(identity)
        if ref.namespace is None:
            self.facts.linted_unnamespaced.add((identity[0], identity[1], identity[3]))

    def _owner(self, identity: tuple) -> tuple:
        """The top controller: a Pod's ReplicaSet's Deployment when that ReplicaSet was seen."""
        seen = {identity}
        while identity in self.facts.owners:
            identity = self.facts.owners[identity]
            if identity in seen:  # a cycle of ownerReferences: stop anywhere
                break
            seen.add(identity)
        return identity

    def _observe(self, obj: K8sObject, context: tuple | None) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[tuple] = set()
        ref = obj.ref
        # Per rule, findings beyond MAX_FINDINGS_PER_RULE are counted, not built: one crafted object
        # (a Pod with a million ports) must not cost a Finding per port.
        self._kept, self._dropped = {}, {}
        self._annotated = None  # a caller may change an object between two observations of it
        settings = self.engine.settings
        timed = self.deadline is not None
        for target_kind, actives in self.engine.plan(ref.kind, context is not None):
            for target in targets(obj, target_kind):
                for active in actives:
                    if timed:
                        self._in = (active.rule.id, ref)
                        self._tick()
                    try:
                        # A list, or None when the rule found nothing (nearly always): ~10 rules run
                        # on every object, and a generator per rule and target cost more than most
                        # of the rules themselves.
                        found = self._evaluate(active, target, context, settings)
                    except RecursionError:
                        # Not a bug of the rule: jsonschema (and repr() in its messages) recurse, so a
                        # value nested a few hundred levels deep, which a JSON admission request can
                        # carry, cannot be checked. Refuse the object rather than pass it unchecked.
                        line, column = obj.locate(())
                        raise InputError(f"{ref} nests too deeply to be checked (rule {active.rule.id})",
                                         line or 0, column or 0) from None
                    except DeadlineExceeded:
                        raise
                    except Exception as err:  # noqa: BLE001 - reported as the rule's bug, with context
                        raise RuleCrash(active.rule.id, ref, err) from err
                    if found:
                        for finding in found:
                            # The pods of an Argo workflow's templates share its hostNetwork field:
                            # one finding for the line, not one per template.
                            key = (finding.rule, finding.path, finding.message)
                            if key not in seen:
                                seen.add(key)
                                findings.append(finding)
        if self._dropped:
            findings = _note_dropped(findings, self._dropped)
        return findings

    def _evaluate(self, active: ActiveRule, target: Target, context: tuple | None,
                  settings: Any) -> list[Finding] | None:
        rule = active.rule
        found: list[Finding] | None = None
        if active.collector:
            groups = self.facts.by_rule.setdefault(rule.id, {})
            timed = self.deadline is not None
            obj = target.obj
            resolve = target.resolve
            for item in active.module.collect(  # type: ignore[union-attr]
                    target, active.params, settings,
                    lambda path: self._place(active, obj, resolve(path), context)):
                if isinstance(item, Fact):
                    if timed:
                        self._tick()
                    group = groups.get(item.key)
                    if group is None:
                        groups[item.key] = [item]
                    else:
                        group.append(item)
                elif context is None and self._keep(rule.id):
                    if found is None:
                        found = []
                    found.append(self._finding(active, obj, resolve(item.path), item.message, item.level))
            return found
        if rule.schema is not None:
            paths = active.paths
            value = target.value
            if paths is not None and not any(has_path(value, path) for path in paths):
                return None
            hits: Iterable[Hit] = rule.schema_hits(target)
        else:
            hits = active.module.check(target, active.params, settings)  # type: ignore[union-attr]
        for hit in hits:
            if self._keep(rule.id):
                if found is None:
                    found = []
                found.append(self._finding(active, target.obj, target.resolve(hit.path), hit.message,
                                           hit.level))
        return found

    def _tick(self) -> None:
        if self.deadline is not None:
            self._ticks += 1
            if self._ticks % DEADLINE_CHECK_EVERY == 0 and time.monotonic() > self.deadline:
                raise DeadlineExceeded(*self._in)

    def _keep(self, rule_id: str) -> bool:
        self._tick()
        kept = self._kept.get(rule_id, 0)
        if kept >= MAX_FINDINGS_PER_RULE:
            self._dropped[rule_id] = self._dropped.get(rule_id, 0) + 1
            return False
        self._kept[rule_id] = kept + 1
        return True

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
            suppressed=self._suppression(active.rule.id, obj),
        )

    def _about(self, obj: K8sObject) -> None:
        if self._annotated is not obj:
            self._annotated, self._annotations = obj, tuple(_suppression_annotations(obj))
            self._label, self._identity = str(obj.ref), identity_of(obj.ref)

    def _suppression(self, rule_id: str, obj: K8sObject) -> str | None:
        self._about(obj)
        return self.engine.suppression(rule_id, obj, self._annotations)

    def _place(self, active: ActiveRule, obj: K8sObject, path: Pointer, context: tuple | None) -> Place:
        if context is None and obj.doc is not None and obj.doc.source == self.deferred:
            return self._deferred_place(active, obj, path)
        line, column = obj.locate(path)
        where = f"{obj.source}:{line}" if obj.source else json_pointer(path)
        if context is not None:
            identity, given = context
            return Place(label_of(identity), given or where, identity, True, None)
        # The token holds all a finding needs (and pickles), so the object itself is not kept alive.
        suppressed = self._suppression(active.rule.id, obj)
        token = (active.rule.id, obj.source, line, column, tuple(path), obj.ref, suppressed)
        return Place(self._label, where, self._identity, False, token)

    def _deferred_place(self, active: ActiveRule, obj: K8sObject, path: Pointer) -> Place:
        """A place whose line is found at the end, if a finding shows it (most never are)."""
        doc = obj.doc
        assert doc is not None
        marker = f"{_marker_prefix}{next(_MARKERS)}\x00"
        path = tuple(path)
        self.facts.spots[marker] = (doc.source, doc.line, doc.span[1] - doc.span[0], obj.prefix + path)
        # Label, identity and annotations as the object's other places share them (_about): a
        # workload hands several rules a fact each, and pickling shares one copy between them.
        suppressed = self._suppression(active.rule.id, obj)
        token = (active.rule.id, doc.source, marker, None, path, obj.ref, suppressed)
        return Place(self._label, marker, self._identity, False, token)

    def _located(self, conflicts: list[tuple[ActiveRule, Conflict]]) -> Callable[[str], str]:
        """Locate the spots these conflicts show; returns text → text with each marker replaced
        by the file:line it stands for (token lines are looked up by marker too)."""
        spots = self.facts.spots
        if not spots:
            return lambda text: text
        wanted: dict[str, tuple] = {}
        for _, conflict in conflicts:
            marker = conflict.place.token[2]  # type: ignore[index]
            for found in (marker, *_MARKER.findall(conflict.message), *_MARKER.findall(conflict.related)):
                if isinstance(found, str) and found in spots:
                    wanted[found] = spots[found]
        assert self.locator is not None or not wanted
        positions = self.positions = self.locator(wanted) if wanted else {}  # type: ignore[misc]

        def where(match: re.Match) -> str:
            marker = match.group(0)
            spot = spots.get(marker)
            if spot is None or marker not in positions:
                return marker
            return f"{spot[0]}:{positions[marker][0]}"

        return lambda text: _MARKER.sub(where, text) if "\x00" in text else text

    def _settled(self, groups: dict[Hashable, list[Fact]]) -> dict[Hashable, list[Fact]]:
        """The groups as conclusions see them: context facts resolved to their top controller
        (owners may have come after what they own), re-applied objects counted once, as linted."""
        facts = self.facts
        settled: dict[Hashable, list[Fact]] = {}
        for key, group in groups.items():
            kept = []
            for fact in group:
                place = fact.place
                if place.context:
                    identity = self._owner(place.identity)
                    group_kind_name = (identity[0], identity[1], identity[3])
                    if identity in facts.linted or group_kind_name in facts.linted_unnamespaced:
                        continue
                    if identity != place.identity:
                        fact = replace(fact, place=replace(place, identity=identity, label=label_of(identity)))
                kept.append(fact)
            if kept:
                settled[key] = kept
        return settled

    def finish(self) -> list[Finding]:
        concluded: list[tuple[ActiveRule, Conflict]] = []
        crash: RuleCrash | None = None
        for active in self.engine.collectors:
            rule_id = active.rule.id
            groups = self.facts.by_rule.get(rule_id, {})
            module = active.module
            try:
                conflicts: list[Conflict] = list(module.conclude(  # type: ignore[union-attr]
                    self._settled(groups), active.params, self.engine.settings))
            except Exception as err:  # noqa: BLE001 - reported as the rule's bug; the other rules go on
                crash = crash or RuleCrash(rule_id, None, err)
                continue
            concluded.extend((active, conflict) for conflict in conflicts if not conflict.place.context)
        shown = self._located(concluded)
        findings = []
        for active, conflict in concluded:
            _, source, line, column, path, ref, suppressed = conflict.place.token  # type: ignore[misc]
            if isinstance(line, str):  # a deferred place: its marker
                line, column = self.positions[line]
            # A conclusion may set its own level (as a Hit may), unless the config forces one.
            level = active.level if active.level_forced or conflict.level is None else conflict.level
            related = shown(conflict.related)
            findings.append(Finding(active.rule.id, level, shown(conflict.message), active.rule.fix,
                                    source, line, column, path, ref, suppressed,
                                    related=(related,) if related else ()))
        if crash is not None:
            crash.findings = findings
            raise crash
        return findings
