"""Python checks for what a JSON Schema cannot express; one module per check.

A module defines one of:
- `check(target, params, settings) -> Iterable[Hit]`: one target at a time;
- `collect(target, params, settings, place) -> Iterator[Hit | Fact]` and
  `conclude(groups, params, settings) -> Iterator[Conflict]`: conflicts across objects as map/reduce
  over small picklable facts. The engine stores the facts by key (the module keeps no state) and
  hands every group to `conclude`; an admission review passes only the groups of the keys the
  reviewed object produced, plus the keys in the module's optional `GLOBAL_KEYS`;
- a `Collector` class (`observe(target, params, settings, place)` records facts and may yield Hits,
  `conclude()` yields Conflicts): the older stateful shape.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ..loader import Pointer


@dataclass(frozen=True)
class Settings:
    """Cluster facts the rules depend on."""

    kube_version: tuple[int, int] = (1, 36)
    node_port_range: tuple[int, int] = (30000, 32767)


@dataclass(frozen=True)
class Hit:
    path: Pointer  # relative to the target
    message: str
    level: str | None = None  # overrides the rule's default level (e.g. removed vs deprecated API)


@dataclass(frozen=True)
class Place:
    """A field of an object, resolved by the engine when it was observed; picklable."""

    label: str  # "Kind namespace/name" of the workload
    where: str  # "file:line", "/json/pointer" (no file), or "in the cluster" for live context
    identity: tuple = ()  # (api group, kind, namespace, name): equal identities are one workload
    context: bool = False  # observed as context (already exists): never reported on
    token: object = None  # opaque to checks: the engine's handle to turn this into a finding


@dataclass(frozen=True)
class Fact:
    """What a cross-object conclusion needs of one object, stored by the engine under its key."""

    key: Hashable  # facts with equal keys are concluded together
    value: Any  # small and picklable, never a document
    place: Place


@dataclass(frozen=True)
class Conflict:
    place: Place
    message: str
    related: str = ""  # where the other side is, "file:line"
    level: str | None = None  # overrides the rule's default level, as Hit.level does


def is_int(value: object) -> bool:
    """An integer as Kubernetes' JSON decoding accepts one (not a bool, not a float)."""
    return type(value) is int
