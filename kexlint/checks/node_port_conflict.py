"""The same nodePort asked for twice: within one Service, or by two Services of the linted set."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from ..model import Target
from . import Conflict, Hit, Place, Settings
from .ports import allocates_node_ports, service_node_ports


class Collector:
    def __init__(self) -> None:
        # nodePort → [(service label, place)], one entry per Service
        self.ports: dict[int, list[tuple[str, Place]]] = defaultdict(list)

    def observe(self, target: Target, params: dict[str, Any], settings: Settings,
                place: Callable[[tuple], Place]) -> Iterator[Hit]:
        service = target.value
        spec = service.get("spec")
        if not allocates_node_ports(service):
            return
        seen: dict[tuple[int, str], tuple] = {}
        recorded: set[int] = set()
        for path, node_port, protocol in service_node_ports(spec):
            full = ("spec", *path)
            first = seen.get((node_port, protocol))
            if first is not None:
                # The apiserver allows one nodePort for TCP and UDP in a Service, not twice per protocol.
                yield Hit(full, f"nodePort {node_port}/{protocol} appears twice in this Service "
                          f"(also at /{'/'.join(map(str, first))}); the apiserver rejects it")
                continue
            seen[(node_port, protocol)] = full
            if node_port not in recorded:
                recorded.add(node_port)
                self.ports[node_port].append((str(target.obj.ref), place(full)))

    def conclude(self) -> Iterator[Conflict]:
        for node_port, entries in self.ports.items():
            labels = {label for label, _ in entries}
            if len(labels) < 2:
                continue
            for label, place in entries:
                other = next(e for e in entries if e[0] != label)
                more = f" and {len(labels) - 2} more" if len(labels) > 2 else ""
                yield Conflict(place, f"nodePort {node_port} is also requested by {other[0]} "
                               f"({other[1].where}){more}; node ports are allocated cluster-wide "
                               "whatever the protocol, so the second Service is rejected",
                               related=other[1].where)
