"""Ingress backends naming a Service, or a Service port, absent from the set."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .routing import Namespace, count_of, ingress_backends, namespace_label, namespace_of, service_ports, spec_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def service_fact(obj: Any, key: Hashable, place: Callable[[tuple], Place]) -> Fact:
    spec = spec_of(obj.value) or {}
    # Ports of an ExternalName Service are optional and not checked against.
    exposes = None if spec.get("type") == "ExternalName" else service_ports(obj.value)
    return Fact(key, ("service", obj.ref.name, exposes), place(("metadata", "name")))


def missing(services: dict[str, Any], name: str, port: int | str | None, namespace: Namespace) -> str | None:
    """Why a backend (Service name and port) cannot be served, or None."""
    where = namespace_label(namespace)
    if name not in services:
        return f"Service {name} does not exist in {where} (the set holds {count_of(len(services), 'Service')} there)"
    exposes = services[name]
    if port is None or exposes is None:
        return None
    if isinstance(port, int) and all(number != port for number, _ in exposes):
        numbers = ", ".join(str(n) for n, _ in exposes if n is not None) or "none"
        return f"Service {name} exposes no port {port} (its ports: {numbers})"
    if isinstance(port, str) and not port.isdigit() and all(label != port for _, label in exposes):
        names = ", ".join(label for _, label in exposes if label) or "none"
        return f"Service {name} has no port named {port!r} (its port names: {names})"
    if isinstance(port, str) and port.isdigit() and all(n != int(port) for n, _ in exposes):
        return f"Service {name} exposes no port {port}"
    return None


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    key = ("svc", namespace_of(obj))
    if obj.ref.kind == "Service":
        if isinstance(obj.ref.name, str):
            yield service_fact(obj, key, place)
    elif obj.ref.kind == "Ingress":
        spec = spec_of(obj.value)
        for backend in ingress_backends(spec) if spec else ():
            yield Fact(key, ("backend", backend.name, backend.port), place(backend.path))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (_, namespace), facts in groups.items():
        services = {f.value[1]: f.value[2] for f in facts if f.value[0] == "service"}
        if not services:
            continue  # no Services of this namespace in the set: nothing to judge by
        for fact in facts:
            if fact.value[0] == "backend":
                reason = missing(services, fact.value[1], fact.value[2], namespace)
                if reason:
                    yield Conflict(fact.place, f"backend: {reason}")
