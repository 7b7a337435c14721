"""Python checks for what a JSON Schema cannot express; one module per check.

A module defines either `check(target, params, settings) -> Iterable[Hit]` (one target at a time)
or a `Collector` class for conflicts across objects: `observe(target, params, settings, place)`
records facts (and may yield Hits found inside the one target), `conclude()` yields Conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..loader import Pointer


@dataclass(frozen=True)
class Settings:
    """Cluster facts the rules depend on."""

    kube_version: tuple[int, int] = (1, 37)  # config.DEFAULT_KUBE_VERSION (checks must not import config)
    node_port_range: tuple[int, int] = (30000, 32767)


@dataclass(frozen=True)
class Hit:
    path: Pointer  # relative to the target
    message: str
    level: str | None = None  # overrides the rule's default level (e.g. removed vs deprecated API)


@dataclass(frozen=True)
class Place:
    """A field of an object in the linted set, resolved when it was observed."""

    label: str  # "Kind namespace/name" of the object
    where: str  # "file:line" or the JSON pointer when there is no file
    token: object  # opaque to checks: the engine's handle to turn this into a finding


@dataclass(frozen=True)
class Conflict:
    place: Place
    message: str
    related: str = ""  # where the other side is, "file:line"


def is_int(value: object) -> bool:
    """An integer as the apiserver's JSON decoding accepts one into an int field: not a bool, and a
    float only when its value is integral (`8080.0` and `8.08e3` decode into int32 as 8080)."""
    return type(value) is int or (type(value) is float and value.is_integer())


def as_int(value: object) -> int | None:
    """The integer the apiserver reads, or None when it would refuse the value."""
    return int(value) if is_int(value) else None  # type: ignore[call-overload]
