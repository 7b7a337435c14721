"""Host ports that cannot be bound together on one node: inside one pod and across workloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .ports import HostBinding, format_range, host_bindings


def _field(binding: HostBinding) -> str:
    return "containerPort (bound on the node by hostNetwork)" if binding.implicit else "hostPort"


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    spec = target.value
    if not isinstance(spec, dict):
        return
    seen: list[HostBinding] = []
    by_port: dict[tuple[int, str], list[HostBinding]] = defaultdict(list)
    low, high = settings.node_port_range
    for binding in host_bindings(spec):
        earlier = next((b for b in by_port[(binding.port, binding.protocol)] if b.overlaps(binding)), None)
        if earlier is not None:
            yield Hit(binding.path, f"{_field(binding)} {binding.describe()} is bound twice in this "
                      f"pod (also at {'/'.join(map(str, earlier.path))}); the pod can never be "
                      "scheduled")
        by_port[(binding.port, binding.protocol)].append(binding)
        seen.append(binding)
        if low <= binding.port <= high:
            yield Hit(binding.path, f"{_field(binding)} {binding.port} lies in the service node port "
                      f"range {format_range(settings.node_port_range)}: it collides with any NodePort "
                      "Service given that port, which kube-proxy opens on every node")
    recorded: set[tuple[int, str, str]] = set()
    for binding in seen:
        ip = "" if binding.wildcard else binding.ip
        if (binding.port, binding.protocol, ip) in recorded:
            continue
        recorded.add((binding.port, binding.protocol, ip))
        yield Fact((binding.port, binding.protocol), ip, place(binding.path))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (port, protocol), facts in groups.items():
        if len({fact.place.identity for fact in facts}) < 2:
            continue
        wildcards = [fact for fact in facts if fact.value == ""]
        by_ip: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts:
            if fact.value:
                by_ip[fact.value].append(fact)
        for fact in facts:
            if fact.place.context:
                continue
            identity = fact.place.identity
            rivals = facts if fact.value == "" else wildcards + by_ip[fact.value]
            others = [rival for rival in rivals if rival.place.identity != identity]
            if not others:
                continue
            other = others[0].place
            count = len({rival.place.identity for rival in others})
            more = f" and {count - 1} more" if count > 1 else ""
            shown_ip = fact.value or "0.0.0.0"
            yield Conflict(fact.place, f"hostPort {shown_ip}:{port}/{protocol} is also bound by "
                           f"{other.label} ({other.where}){more}: their pods can never run on the "
                           "same node", related=other.where)
