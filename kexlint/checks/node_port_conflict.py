"""The same nodePort asked for twice: within one Service, or by two Services of the linted set."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .ports import allocates_node_ports, service_node_ports

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
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
            yield Fact(node_port, None, place(full))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for node_port, facts in groups.items():
        identities = {fact.place.identity for fact in facts}
        if len(identities) < 2:
            continue
        more = f" and {len(identities) - 2} more" if len(identities) > 2 else ""
        for fact in facts:
            if fact.place.context:
                continue
            other = next(f.place for f in facts if f.place.identity != fact.place.identity)
            yield Conflict(fact.place, f"nodePort {node_port} is also requested by {other.label} "
                           f"({other.where}){more}; node ports are allocated cluster-wide "
                           "whatever the protocol, so the second Service is rejected",
                           related=other.where)
