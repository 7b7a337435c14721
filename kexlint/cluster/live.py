"""Live cluster state for admission reviews: the watch cache fed with the engine's facts.

The engine stays pure (it never imports this package). Here its cross-object facts are computed
for every live object the cache sees, as *context* (``Place.context``, where "in the cluster"), and
kept in the :class:`~kexlint.cluster.cache.WatchCache`. A review then lints its object, asks the
cache for just the fact groups whose keys that object produced (plus the modules' ``GLOBAL_KEYS``),
merges them into its run and concludes: O(its own facts), not O(cluster).

Workloads, not Pods: a Pod, ReplicaSet or Job whose controller owner is itself one of the watched
kinds is not fed to the engine at all, because its owner's template gives the same facts (the
engine would drop it as the same identity anyway, but a Pod's owner is its ReplicaSet, not the
Deployment, so skipping it here is what keeps 50,000 controller Pods from costing anything).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, NamedTuple

from ..engine import Engine
from ..findings import Finding
from ..model import K8sObject, object_ref
from ..records import replace
from .cache import WatchCache
from .client import CONTEXT_KINDS, KINDS, Cluster, Kind
from .prune import prune

WHERE = "in the cluster"
CONFLICT_LEVELS = ("info", "warning", "error")

# Which kinds a cross-object rule's facts can come from, by the rule's target.
_WORKLOAD_KINDS = ("Pod", "ReplicationController", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
                   "CronJob")
_TARGET_KINDS: dict[str, tuple[str, ...]] = {
    "pod-spec": _WORKLOAD_KINDS,
    "container": _WORKLOAD_KINDS,
    "service": ("Service",),
    "ingress": ("Ingress", "IngressClass"),
}


class Keyed(NamedTuple):
    """A fact as the cache stores it: the key qualified by its rule, so rules never share groups.
    A tuple, not a dataclass: one per live fact, and a tuple has no per-instance __dict__."""

    key: tuple[str, Hashable]  # (rule id, the fact's own key)
    fact: Any


def watched_kinds(engine: Engine) -> tuple[Kind, ...]:
    """The kinds whose facts the active cross-object rules can use (nothing when there are none)."""
    names: set[str] = set()
    for active in engine.active:
        rule = active.rule
        if not _is_cross_object(rule):
            continue
        possible = _TARGET_KINDS.get(rule.target, tuple(k.kind for k in CONTEXT_KINDS))
        names.update(k for k in possible if rule.kinds is None or k in rule.kinds or k == "IngressClass")
    return tuple(k for k in CONTEXT_KINDS if k.kind in names)


def _is_cross_object(rule: Any) -> bool:
    return bool(getattr(rule, "is_collector", False))


def owned_by_watched(value: dict[str, Any], kinds: Iterable[str]) -> bool:
    """True when the object's controller is one of ``kinds`` (it then stands for this object)."""
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    for owner in metadata.get("ownerReferences") or ():
        if isinstance(owner, dict) and owner.get("controller") is True and owner.get("kind") in kinds:
            return True
    return False


class LiveState:
    """One worker's view of the cluster: a running watch cache and the review step that uses it."""

    def __init__(self, engine: Engine, cache: WatchCache | None = None, conflict_level: str = "warning") -> None:
        if conflict_level not in CONFLICT_LEVELS:
            raise ValueError(f"cluster conflict level must be one of {', '.join(CONFLICT_LEVELS)}")
        self.engine = engine
        self.conflict_level = conflict_level
        self.kinds = watched_kinds(engine)
        self._kind_names = {k.kind for k in self.kinds}
        self.global_keys = tuple((a.rule.id, key) for a in engine.active if _is_cross_object(a.rule)
                                 for key in getattr(a.rule.module, "GLOBAL_KEYS", ()))
        self.cache = cache

    def watch(self, connect: Any, **options: Any) -> LiveState:
        """Start the cache; ``connect()`` makes a :class:`Cluster` (called again after failures)."""
        self.cache = WatchCache(connect, self.kinds, self.extract, **options).start()
        return self

    def stop(self) -> None:
        if self.cache is not None:
            self.cache.stop()

    @property
    def ready(self) -> bool:
        return self.cache is not None and self.cache.ready

    @property
    def stale(self) -> str:
        return self.cache.stale if self.cache is not None else "the cluster state is not watched"

    # -- facts of live objects (cache threads) -------------------------------------------------

    def extract(self, value: dict[str, Any]) -> Sequence[Keyed]:
        if owned_by_watched(value, self._kind_names):
            return ()
        obj = K8sObject(prune(value), object_ref(value))
        run = self.engine.run()
        run.add_context(obj, where=WHERE)
        return tuple(Keyed((rule, fact.key), fact) for rule, fact in _facts_of(run))

    # -- reviews -------------------------------------------------------------------------------

    def check(self, obj: K8sObject) -> tuple[list[Finding], str]:
        """Findings for ``obj`` with the cluster as context, and a note when that context was skipped.

        Never waits on the API: the cache answers from memory, and when it is stale (or not yet
        listed) the object is checked alone and the note says so."""
        run = self.engine.run()
        findings = run.lint_object(obj)
        if owned_by_watched(obj.value, self._kind_names):
            # A controller's Pod (ReplicaSet, Job) is an instance of a workload already reviewed when
            # it was applied; against the cluster it would conflict with its own owner.
            return findings + run.finish(), ""
        keys = {(rule, fact.key) for rule, fact in _facts_of(run)}
        stale = self.stale
        if stale:
            # Only an object with something to conflict over gets the note: a Deployment without host
            # ports lost nothing, and warning on every review during an outage teaches users to ignore it.
            note = f"conflicts with what runs in the cluster were not checked: {stale}" if keys else ""
            return findings + run.finish(), note
        keys.update(self.global_keys)
        assert self.cache is not None
        groups = self.cache.groups(keys)
        if groups:
            _merge(run, [keyed for facts in groups.values() for keyed in facts])
        concluded = run.finish()
        return findings + [self._leveled(f) for f in concluded], ""

    def _leveled(self, finding: Finding) -> Finding:
        # The other object was there first: by default a warning, as the platform team configures.
        if any(WHERE in related for related in finding.related):
            return replace(finding, level=self.conflict_level)
        return finding


# -- the engine's cross-object facts (engine.Facts: rule id → key → facts) ------------------------

def _facts_of(run: Any) -> list[tuple[str, Any]]:
    """(rule id, Fact) for every fact the run collected so far."""
    return [(rule, fact) for rule, groups in run.facts.by_rule.items() for group in groups.values()
            for fact in group]


def _merge(run: Any, keyed: list[Keyed]) -> None:
    from ..engine import Facts

    facts = Facts()
    for item in keyed:
        facts.by_rule.setdefault(item.key[0], {}).setdefault(item.fact.key, []).append(item.fact)
    run.merge_facts(facts)


def connect_for(kubeconfig: str | None, context: str | None) -> Any:
    from .client import connect

    def make() -> Cluster:
        return connect(kubeconfig, context)

    return make


__all__ = ["CONFLICT_LEVELS", "KINDS", "WHERE", "Keyed", "LiveState", "connect_for", "owned_by_watched",
           "watched_kinds"]
