"""nodePorts outside the apiserver's --service-node-port-range."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings
from .ports import allocates_node_ports, format_range, service_node_ports

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    service = target.value
    if not allocates_node_ports(service):
        return
    low, high = settings.node_port_range
    for path, node_port, _protocol in service_node_ports(service["spec"]):
        if not low <= node_port <= high:
            yield Hit(("spec", *path), f"nodePort {node_port} is outside the service node port range "
                      f"{format_range(settings.node_port_range)}; the apiserver rejects it")
