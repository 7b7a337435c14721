"""Listeners that are not distinct as Gateway API defines it: within one Gateway or ListenerSet,
and across the Gateway's listeners merged with those of the ListenerSets attached to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from ..records import dataclass
from . import Conflict, Fact, Hit, Place, Settings, is_int
from .routing import listeners, more, namespace_of, spec_of, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

HOST_ROUTED = ("HTTP", "HTTPS", "TLS")  # distinct by port and hostname
PORT_ONLY = ("TCP", "UDP")  # distinct by port alone


@dataclass(frozen=True)
class Listener:
    name: str
    port: int
    protocol: str
    hostname: str

    def describe(self) -> str:
        return f"{self.name} ({self.protocol} {self.port}{' ' + self.hostname if self.hostname else ''})"


def clash(a: Listener, b: Listener) -> str | None:
    """Why two listeners cannot both be accepted, or None when they are distinct and compatible."""
    if a.port != b.port:
        return None
    if a.protocol == b.protocol:
        if a.protocol in PORT_ONLY:
            return f"two {a.protocol} listeners on one port are distinct by port only"
        if a.hostname == b.hostname:
            return "same port, protocol and hostname"
        return None
    pair = {a.protocol, b.protocol}
    if "TCP" in pair and pair & set(HOST_ROUTED):
        return "a TCP listener shares the port with HTTP, HTTPS or TLS ones, which the spec forbids"
    if "HTTP" in pair and pair & {"HTTPS", "TLS"}:
        return "one port cannot serve plain HTTP and TLS"
    if pair == {"HTTPS", "TLS"} and a.hostname == b.hostname:
        return "HTTPS and TLS for the same hostname on one port: the SNI cannot tell them apart"
    return None


def _listeners(value: dict[str, Any]) -> Iterator[tuple[tuple, Listener]]:
    for path, listener in listeners(value):
        port = listener.get("port")
        if not is_int(port):
            continue
        # Protocol names compare case-insensitively in ListenerSet validation; the core ones are upper case.
        protocol = text(listener.get("protocol"))
        protocol = protocol.upper() if protocol.upper() in (*HOST_ROUTED, *PORT_ONLY) else protocol
        yield path, Listener(text(listener.get("name")), port, protocol, text(listener.get("hostname")).lower())


def parent_gateway(obj: Any) -> tuple[Any, str] | None:
    """(namespace, name) of the Gateway a ListenerSet attaches to."""
    spec = spec_of(obj.value)
    ref = spec.get("parentRef") if spec else None
    if not isinstance(ref, dict) or not text(ref.get("name")):
        return None
    if text(ref.get("kind")) not in ("", "Gateway"):
        return None
    return text(ref.get("namespace")) or namespace_of(obj), ref["name"]


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    seen: list[tuple[tuple, Listener]] = []
    names: dict[str, tuple] = {}
    for path, listener in _listeners(target.value):
        if listener.name in names:
            yield Hit((*path, "name"), f"listener name {listener.name} is used twice in this {obj.ref.kind} "
                      "(also at /" + "/".join(map(str, names[listener.name])) + "); the apiserver rejects it")
        names.setdefault(listener.name, path)
        for _, earlier in seen:
            reason = clash(earlier, listener)
            if reason:
                yield Hit(path, f"listener {listener.describe()} conflicts with listener {earlier.describe()} "
                          f"of this {obj.ref.kind}: {reason}; neither is accepted")
                break
        seen.append((path, listener))
    if obj.ref.kind == "Gateway":
        key: Hashable = ("gateway", namespace_of(obj), obj.ref.name)
    else:
        parent = parent_gateway(obj)
        if parent is None:
            return
        key = ("gateway", *parent)
    for path, listener in seen:
        yield Fact(key, (obj.ref.kind, listener), place(path))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for facts in groups.values():
        owners = {f.place.identity for f in facts}
        if len(owners) < 2:
            continue  # one object: its own conflicts are Hits
        by_owner: dict[tuple, list[Fact]] = defaultdict(list)
        for fact in facts:
            by_owner[fact.place.identity].append(fact)
        for fact in facts:
            kind, listener = fact.value
            if kind == "Gateway":
                continue  # the parent Gateway's listeners take precedence over every ListenerSet's
            rivals = [(other, clash(other.value[1], listener)) for other in facts
                      if other.place.identity != fact.place.identity]
            rivals = [(other, reason) for other, reason in rivals if reason]
            if not rivals:
                continue
            other, reason = rivals[0]
            yield Conflict(fact.place, f"listener {listener.describe()} conflicts with listener "
                           f"{other.value[1].describe()} of {other.place.label} ({other.place.where})"
                           f"{more(len(rivals) - 1)} on the Gateway's merged listeners: {reason}; the "
                           "Gateway's own listeners win, then the oldest ListenerSet, and the others are "
                           "marked Conflicted", related=other.place.where)
