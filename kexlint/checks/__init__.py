"""Python checks for what a JSON Schema cannot express; one module per check.

A module defines either `check(target, params, settings) -> Iterable[Hit]` (one target at a time),
or, for conflicts across objects, map/reduce over small picklable facts:

- `collect(target, params, settings, place) -> Iterator[Hit | Fact]`: `place(path)` is the Place of
  a field of the target's object. Hits are findings inside the one object; Facts go to the engine,
  which stores them by key (the module keeps no state, so facts can come from worker processes and
  from a cluster cache).
- `conclude(groups, params, settings) -> Iterator[Conflict]`: pure, over facts grouped by key. For
  one admission review the engine passes only the groups whose keys the reviewed object produced,
  plus those named in the module's optional `GLOBAL_KEYS` tuple. Two facts with the same
  `place.identity` are the same workload, never a conflict with itself.
"""

from __future__ import annotations

from collections.abc import Hashable

from ..loader import Pointer
from ..records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


@dataclass(frozen=True)
class Settings:
    """Cluster facts the rules depend on."""

    kube_version: tuple[int, int] = (1, 37)  # config.DEFAULT_KUBE_VERSION (checks must not import config)
    node_port_range: tuple[int, int] = (30000, 32767)
    # The Gateway API release whose CRDs the cluster runs (config.DEFAULT_GATEWAY_API_VERSION).
    gateway_api_version: tuple[int, int] = (1, 6)


@dataclass(frozen=True)
class Hit:
    path: Pointer  # relative to the target
    message: str
    level: str | None = None  # overrides the rule's default level (e.g. removed vs deprecated API)


@dataclass(frozen=True)
class Place:
    """A field of an observed object, resolved when it was observed; picklable (no documents, no rules)."""

    label: str  # "DaemonSet monitoring/node-exporter": the workload (a controller-owned context Pod
    #             or ReplicaSet carries its owner's label and identity)
    where: str  # "file:line", the JSON pointer when there is no file, or "in the cluster"
    identity: tuple  # (api group, kind, namespace, name) of that workload
    context: bool = False  # observed as context (it already exists): never reported on
    token: object = None  # opaque to checks: the engine's handle to turn this into a finding


@dataclass(frozen=True)
class Fact:
    key: Hashable  # facts with equal keys are concluded together: ("TCP", 9100), a nodePort, ...
    value: Any  # small and picklable: only what the conclusion needs, never a document
    place: Place


@dataclass(frozen=True)
class Conflict:
    place: Place
    message: str
    related: str = ""  # where the other side is, "file:line"
    level: str | None = None  # overrides the rule's default level, as Hit.level does


def is_int(value: object) -> bool:
    """An integer as the apiserver's JSON decoding accepts one into an int field: not a bool, and a
    float only when its value is integral (`8080.0` and `8.08e3` decode into int32 as 8080)."""
    return type(value) is int or (type(value) is float and value.is_integer())


def as_int(value: object) -> int | None:
    """The integer the apiserver reads, or None when it would refuse the value."""
    return int(value) if is_int(value) else None  # type: ignore[call-overload]
