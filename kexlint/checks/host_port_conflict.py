"""Host ports that cannot be bound together on one node: inside one pod and across workloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from ..model import Target
from . import Conflict, Hit, Place, Settings
from .ports import HostBinding, format_range, host_bindings


def _field(binding: HostBinding) -> str:
    return "containerPort (bound on the node by hostNetwork)" if binding.implicit else "hostPort"


class Collector:
    def __init__(self) -> None:
        # (port, protocol) → [(ip, object label, place)], one entry per object and IP
        self.bindings: dict[tuple[int, str], list[tuple[str, str, Place]]] = defaultdict(list)

    def observe(self, target: Target, params: dict[str, Any], settings: Settings,
                place: Callable[[tuple], Place]) -> Iterator[Hit]:
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
        label = str(target.obj.ref)
        recorded: set[tuple[int, str, str]] = set()
        for binding in seen:
            ip = "" if binding.wildcard else binding.ip
            key = (binding.port, binding.protocol, ip)
            if key in recorded:
                continue
            recorded.add(key)
            self.bindings[(binding.port, binding.protocol)].append((ip, label, place(binding.path)))

    def conclude(self) -> Iterator[Conflict]:
        for (port, protocol), entries in self.bindings.items():
            objects = {label for _, label, _ in entries}
            if len(objects) < 2:
                continue
            wildcards = [e for e in entries if e[0] == ""]
            by_ip: dict[str, list[tuple[str, str, Place]]] = defaultdict(list)
            for entry in entries:
                if entry[0]:
                    by_ip[entry[0]].append(entry)
            for ip, label, place in entries:
                rivals = entries if ip == "" else wildcards + by_ip[ip]
                other = next((e for e in rivals if e[1] != label), None)
                if other is None:
                    continue
                count = len({e[1] for e in rivals} - {label})
                more = f" and {count - 1} more" if count > 1 else ""
                shown_ip = ip or "0.0.0.0"
                yield Conflict(place, f"hostPort {shown_ip}:{port}/{protocol} is also bound by "
                               f"{other[1]} ({other[2].where}){more}: their pods can never run on the "
                               "same node", related=other[2].where)
