"""Gateway API routes whose backends, parents or cross-namespace grants are absent from the set."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import GATEWAY_API, LISTENER_KINDS, Target
from . import Conflict, Fact, Hit, Place, Settings
from .dangling_ingress import missing, service_fact
from .routing import (
    Namespace,
    backend_refs,
    count_of,
    listeners,
    namespace_label,
    namespace_of,
    namespace_text,
    parent_refs,
    spec_of,
    text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def _grant(value: dict[str, Any]) -> tuple[tuple, tuple]:
    spec = spec_of(value) or {}
    sources = spec.get("from") if isinstance(spec.get("from"), list) else []
    targets = spec.get("to") if isinstance(spec.get("to"), list) else []
    return (tuple((text(f.get("group")), text(f.get("kind")), text(f.get("namespace")))
                  for f in sources if isinstance(f, dict)),
            tuple((text(t.get("group")), text(t.get("kind")), text(t.get("name")))
                  for t in targets if isinstance(t, dict)))


def _allows(grant: tuple[tuple, tuple], route_kind: str, route_ns: str, service: str) -> bool:
    """ReferenceGrant: a `from` entry names the route's group, kind and namespace, and a `to`
    entry names core Services (all of them, or this one by name)."""
    sources, targets = grant
    return ((GATEWAY_API, route_kind, route_ns) in sources
            and any(group == "" and kind == "Service" and name in ("", service) for group, kind, name in targets))


def _allowed_from(listener: dict[str, Any]) -> str:
    """allowedRoutes.namespaces.from, `Same` when omitted (the API's default)."""
    allowed = listener.get("allowedRoutes")
    namespaces = allowed.get("namespaces") if isinstance(allowed, dict) else None
    return text(namespaces.get("from")) if isinstance(namespaces, dict) and namespaces.get("from") else "Same"


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    namespace = namespace_of(obj)
    kind = obj.ref.kind
    if kind == "Service":
        if isinstance(obj.ref.name, str):
            yield service_fact(obj, ("svc", namespace), place)
    elif kind == "ReferenceGrant":
        yield Fact(("svc", namespace), ("grant", *_grant(obj.value)), place(("spec",)))
    elif kind in LISTENER_KINDS:
        if isinstance(obj.ref.name, str):
            found = tuple((text(listener.get("name")), _allowed_from(listener))
                          for _, listener in listeners(obj.value))
            yield Fact(("gw", namespace), ("parent", kind, obj.ref.name, found), place(("metadata", "name")))
    else:  # a route
        for ref in backend_refs(obj.value, namespace):
            yield Fact(("svc", ref.namespace), ("backend", ref.name, ref.port, namespace, kind),
                       place((*ref.path, "name")))
        for ref in parent_refs(obj.value, namespace):
            section_place = place((*ref.path, "sectionName")) if ref.section else None
            yield Fact(("gw", ref.namespace), ("ref", ref.kind, ref.name, ref.section, section_place, namespace),
                       place((*ref.path, "name")))


def _backends(namespace: Namespace, facts: list[Fact]) -> Iterator[Conflict]:
    services = {f.value[1]: f.value[2] for f in facts if f.value[0] == "service"}
    if not services:
        return  # no Services of this namespace in the set: nothing to judge by
    grants = [(f.value[1], f.value[2]) for f in facts if f.value[0] == "grant"]
    for fact in facts:
        if fact.value[0] != "backend":
            continue
        _, name, port, route_ns, route_kind = fact.value
        reason = missing(services, name, port, namespace)
        if reason:
            yield Conflict(fact.place, f"backendRef: {reason}")
        elif (route_ns != namespace and isinstance(route_ns, str)
              and not any(_allows(g, route_kind, route_ns, name) for g in grants)):
            # (A route without namespace: which namespace it refers from is unknown, not judged.)
            yield Conflict(fact.place, f"backendRef to Service {namespace_text(namespace)}/{name} from "
                           f"namespace {route_ns}: no ReferenceGrant in {namespace_text(namespace)} allows "
                           f"{route_kind}s of that namespace to refer to it, so the reference is refused "
                           "(RefNotPermitted)")


def _parents(namespace: Namespace, facts: list[Fact]) -> Iterator[Conflict]:
    parents = {(f.value[1], f.value[2]): f.value[3] for f in facts if f.value[0] == "parent"}
    if not parents:
        return  # no Gateway of this namespace in the set: nothing to judge by
    where = namespace_label(namespace)
    for fact in facts:
        if fact.value[0] != "ref":
            continue
        _, kind, name, section, section_place, route_ns = fact.value
        if (kind, name) not in parents:
            yield Conflict(fact.place, f"parentRef: {kind} {name} does not exist in {where} (the set holds "
                           f"{count_of(len(parents), 'Gateway or ListenerSet')} there): the route is "
                           "attached to nothing")
            continue
        found = parents[(kind, name)]
        names = [n for n, _ in found]
        if section and section not in names:
            yield Conflict(section_place, f"parentRef: {kind} {name} has no listener named {section} (it has "
                           f"{', '.join(n for n in names if n) or 'none'})")
            continue
        targeted = [allowed for n, allowed in found if not section or n == section]
        if (targeted and all(allowed == "Same" for allowed in targeted) and isinstance(route_ns, str)
                and isinstance(namespace, str) and route_ns != namespace):
            listener = f"listener {section}" if section else "every listener"
            yield Conflict(section_place or fact.place, f"parentRef: {listener} of {kind} {name} accepts "
                           f"routes only from its own namespace {namespace} (allowedRoutes from: Same), "
                           f"not from {route_ns}: the route is not accepted (NotAllowedByListeners)")


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (space, namespace), facts in groups.items():
        yield from (_backends if space == "svc" else _parents)(namespace, facts)
