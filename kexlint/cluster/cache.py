"""The webhook's watch cache: the *facts* cross-object rules need about what already runs in the cluster.

One thread per kind lists the kind (paginated, ``limit``/``continue``) and then watches it from the
list's resourceVersion with bookmarks, the way client-go's reflector does:

- a watch that ends (server timeout) or breaks off is resumed from the last resourceVersion seen
  (bookmarks keep it recent even when nothing of the kind changes);
- 410 Gone (on the watch, or on a continue token during the list) means that version is no longer
  kept: the kind is listed again and its facts replaced at once, so reviews never see a half list;
- failing to reach the API retries with exponential backoff and jitter (``backoff``), and marks the
  state *stale* until a list or watch succeeds again; reviews then check the object alone;
- 403 on a kind is logged once, and the kind is skipped (its facts empty) until a later retry works;
- 404 (a CRD that is not installed) is an empty kind, checked again every ``absent_retry`` seconds.

Objects are not kept: ``extract(obj)`` turns each object into its facts (small, picklable, carrying
a ``key``), and only those stay, indexed by key, so a review looks up just the keys its own object
produces. Memory is proportional to the facts, not to the objects; an object without facts (most
Pods: they are owned by a controller whose facts stand for them) costs nothing.

``ready`` becomes true once every kind has been listed (or found absent or forbidden) once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import Cluster, ClusterError, Forbidden, Gone, Kind

ObjectId = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class KindStatus:
    kind: Kind
    synced: bool = False  # listed at least once (or absent / forbidden)
    absent: bool = False
    forbidden: str = ""  # the 403 message while forbidden
    error: str = ""  # the last connection error while failing, "" when healthy
    resource_version: str | None = None
    lists: int = 0
    watches: int = 0
    objects: int = 0  # objects with facts


@dataclass
class CacheStats:
    objects: int
    facts: int
    keys: int
    kinds: dict[str, KindStatus] = field(default_factory=dict)


class WatchCache:
    def __init__(self, connect: Callable[[], Cluster], kinds: Sequence[Kind],
                 extract: Callable[[dict[str, Any]], Sequence[Any]], *, page_size: int = 500,
                 watch_seconds: tuple[int, int] = (240, 480), backoff: tuple[float, float] = (0.5, 30.0),
                 absent_retry: float = 300.0, forbidden_retry: float = 60.0,
                 logger: logging.Logger | None = None,
                 on_change: Callable[[WatchCache], None] | None = None) -> None:
        self._connect = connect
        self.kinds = tuple(kinds)
        self._extract = extract
        self.page_size = page_size
        self.watch_seconds = watch_seconds
        self.backoff = backoff
        self.absent_retry = absent_retry
        self.forbidden_retry = forbidden_retry
        self.log = logger or logging.getLogger("kexlint.cluster")
        self._on_change = on_change
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._threads: list[threading.Thread] = []
        self.status = {k.kind: KindStatus(k) for k in self.kinds}
        self._facts: dict[ObjectId, tuple[Any, ...]] = {}  # every object's facts
        self._index: dict[Hashable, dict[ObjectId, list[Any]]] = {}  # key → object → its facts with that key
        self._per_kind: dict[str, int] = {}  # objects with facts, per kind
        self._fact_count = 0  # kept up to date: stats() runs on every change (the webhook's gauges)
        self._open: dict[str, Any] = {}  # the watch each thread reads, so stop() can close it
        self._was_stale = False

    # -- what reviews use ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def stale(self) -> str:
        """Why the cached state cannot be trusted right now ("" when it can)."""
        if not self.ready:
            return "the first list of the cluster is not complete"
        with self._lock:
            failing = [s for s in self.status.values() if s.error]
        if failing:
            return f"{failing[0].error}" + (f" (and {len(failing) - 1} more kinds)" if len(failing) > 1 else "")
        return ""

    def groups(self, keys: Iterable[Hashable]) -> dict[Hashable, list[Any]]:
        """The cached facts for each of ``keys`` (keys without facts are left out)."""
        out: dict[Hashable, list[Any]] = {}
        with self._lock:
            for key in keys:
                by_object = self._index.get(key)
                if by_object:
                    out[key] = [fact for facts in by_object.values() for fact in facts]
        return out

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(objects=len(self._facts), facts=self._fact_count,
                              keys=len(self._index),
                              kinds={k: KindStatus(**vars(s)) for k, s in self.status.items()})

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> WatchCache:
        for kind in self.kinds:
            thread = threading.Thread(target=self._run, args=(kind,), name=f"kexlint-watch-{kind.plural}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        if not self.kinds:
            self._ready.set()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            watches = list(self._open.values())
        for watch in watches:
            try:
                watch.close()  # unblocks the thread reading it
            except Exception:  # noqa: BLE001 - closing a broken stream may fail; we only want it gone
                pass
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- one kind -----------------------------------------------------------------------------

    def _run(self, kind: Kind) -> None:
        status = self.status[kind.kind]
        failures = relists = 0
        cluster: Cluster | None = None
        rv: str | None = None  # where to resume watching; None: list first
        while not self._stop.is_set():
            try:
                if cluster is None:
                    cluster = self._connect()
                if rv is None:
                    rv = self._list(cluster, kind, status)
                    relists = 0
                    if rv is None:  # absent or forbidden: look again later
                        self._healthy(status)
                        failures = 0
                        self._stop.wait(self.absent_retry if status.absent else self.forbidden_retry)
                        continue
                watch = cluster.watch(kind, rv, timeout_seconds=random.randint(*self.watch_seconds))
                self._track(kind, watch)
                if self._stop.is_set():  # stop() ran while the request was on its way: it missed this one
                    watch.close()
                    break
                status.watches += 1
                self._healthy(status)
                failures = 0
                try:
                    for event in watch:
                        rv = self._apply(kind, status, event) or rv
                        if self._stop.is_set():
                            break
                except Gone as gone:
                    self.log.info("cluster state: %s; listing %s again", _sentence(gone), kind)
                    rv = None
                except ClusterError as error:
                    if self._stop.is_set():  # stop() closed it
                        break
                    # A stream that breaks off is normal (load balancers, apiserver restarts): resume at
                    # once from the last version; only failing to reconnect makes the state stale.
                    self.log.info("cluster state: %s; resuming from resourceVersion %s", error, rv)
                finally:
                    self._track(kind, None)
                    watch.close()
            except Gone as gone:  # the list's continue token expired: start that list over
                self.log.info("cluster state: %s; listing %s again", _sentence(gone), kind)
                rv = None
                relists += 1
                if relists > 1:  # a list that keeps expiring (huge kind, slow pages) must not spin
                    self._stop.wait(self._delay(relists - 1))
            except Forbidden as forbidden:
                rv = None
                if status.forbidden != str(forbidden):
                    self.log.warning("cluster state: %s; conflicts with existing %s are not checked",
                                     forbidden, kind.plural)
                self._replace(kind, status, {})
                status.forbidden = str(forbidden)
                self._synced(status)
                self._healthy(status)
                self._stop.wait(self.forbidden_retry)
            except ClusterError as error:
                failures += 1
                self._failing(status, str(error))
                self._stop.wait(self._delay(failures))
            except Exception as error:  # noqa: BLE001 - the cache thread must never die: log, back off, retry
                failures += 1
                self.log.error("cluster state: %s for %s: %s", type(error).__name__, kind, error)
                self._failing(status, f"internal error reading {kind}: {type(error).__name__}")
                rv = None
                self._stop.wait(self.backoff[1])

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so the workers of many replicas do not retry in step."""
        low, high = self.backoff
        return min(high, low * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    def _list(self, cluster: Cluster, kind: Kind, status: KindStatus) -> str | None:
        """List the kind into fresh facts and swap them in; the resourceVersion to watch from."""
        listing = cluster.list(kind, self.page_size, allow_inconsistent=False)
        fresh: dict[ObjectId, tuple[Any, ...]] = {}
        for obj in listing:
            facts = tuple(self._extract(obj))
            if facts:
                fresh[_object_id(kind, obj)] = facts
        status.lists += 1
        status.absent = listing.absent
        status.forbidden = ""
        self._replace(kind, status, fresh)
        self._synced(status)
        if listing.absent:
            return None
        status.resource_version = listing.resource_version
        return listing.resource_version

    def _apply(self, kind: Kind, status: KindStatus, event: dict[str, Any]) -> str | None:
        obj = event["object"]
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        rv = metadata.get("resourceVersion")
        kind_of_event = event.get("type")
        if kind_of_event in ("ADDED", "MODIFIED", "DELETED"):
            oid = _object_id(kind, obj)
            facts = tuple(self._extract(obj)) if kind_of_event != "DELETED" else ()
            with self._lock:
                self._drop(oid)
                if facts:
                    self._add(oid, facts)
            self._count(kind, status)
        if rv:
            status.resource_version = rv
        return rv

    # -- state ------------------------------------------------------------------------------

    def _replace(self, kind: Kind, status: KindStatus, fresh: dict[ObjectId, tuple[Any, ...]]) -> None:
        with self._lock:
            for oid in [o for o in self._facts if o[0] == kind.kind and o not in fresh]:
                self._drop(oid)
            for oid, facts in fresh.items():
                self._drop(oid)
                self._add(oid, facts)
        self._count(kind, status)

    def _count(self, kind: Kind, status: KindStatus) -> None:
        status.objects = self._per_kind.get(kind.kind, 0)
        self._changed()

    def _add(self, oid: ObjectId, facts: tuple[Any, ...]) -> None:
        self._facts[oid] = facts
        self._fact_count += len(facts)
        self._per_kind[oid[0]] = self._per_kind.get(oid[0], 0) + 1
        for fact in facts:
            self._index.setdefault(fact.key, {}).setdefault(oid, []).append(fact)

    def _drop(self, oid: ObjectId) -> None:
        facts = self._facts.pop(oid, None)
        if facts is None:
            return
        self._fact_count -= len(facts)
        self._per_kind[oid[0]] -= 1
        for fact in facts:
            by_object = self._index.get(fact.key)
            if by_object is not None:
                by_object.pop(oid, None)
                if not by_object:
                    del self._index[fact.key]

    def _track(self, kind: Kind, watch: Any) -> None:
        with self._lock:
            if watch is None:
                self._open.pop(kind.kind, None)
            else:
                self._open[kind.kind] = watch

    def _synced(self, status: KindStatus) -> None:
        status.synced = True
        if not self._ready.is_set() and all(s.synced for s in self.status.values()):
            self._ready.set()
            stats = self.stats()
            self.log.info("cluster state: listed %d kinds: %d objects with %d facts", len(self.kinds),
                          stats.objects, stats.facts)
        self._changed()

    def _healthy(self, status: KindStatus) -> None:
        if status.error:
            status.error = ""
            self._changed()

    def _failing(self, status: KindStatus, error: str) -> None:
        first = not status.error
        status.error = error
        if first:
            self.log.warning("cluster state is stale: %s; reviews check objects alone until it is back", error)
        self._changed()

    def _changed(self) -> None:
        stale = self.ready and bool(self.stale)
        if self._was_stale and not stale:
            self.log.info("cluster state is current again")
        self._was_stale = stale
        if self._on_change is not None:
            self._on_change(self)


def _object_id(kind: Kind, obj: dict[str, Any]) -> ObjectId:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return (kind.kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _sentence(error: Exception) -> str:
    """The first sentence: the apiserver's 410 for a continue token goes on for four more."""
    text = str(error)
    return text.split(". ")[0] if ". " in text else text
