"""Facts about ports shared by the checks: protocols, host port bindings of a pod spec."""

from __future__ import annotations

from collections.abc import Iterator

from ..loader import Pointer
from ..model import CONTAINER_LISTS
from ..records import dataclass
from . import is_int

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

PROTOCOLS = ("TCP", "UDP", "SCTP")
# The scheduler's HostPortInfo: an empty hostIP means 0.0.0.0, the only wildcard ("::" is not one).
WILDCARD_IPS = ("", "0.0.0.0")


@dataclass(frozen=True)
class HostBinding:
    """One (hostIP, hostPort, protocol) a pod takes on its node, and the field that asks for it."""

    ip: str
    port: int
    protocol: str
    path: Pointer  # relative to the pod spec: the hostPort field, or containerPort under hostNetwork
    implicit: bool  # bound because of hostNetwork, not by an explicit hostPort

    @property
    def wildcard(self) -> bool:
        return self.ip in WILDCARD_IPS

    def overlaps(self, other: HostBinding) -> bool:
        """As the scheduler's NodePorts filter sees it: 0.0.0.0 conflicts with every IP."""
        return (self.port == other.port and self.protocol == other.protocol
                and (self.wildcard or other.wildcard or self.ip == other.ip))

    def describe(self) -> str:
        ip = "0.0.0.0" if self.wildcard else self.ip
        return f"{ip}:{self.port}/{self.protocol}"


def container_ports(spec: dict[str, Any], lists: tuple[str, ...] = CONTAINER_LISTS
                    ) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    """Each port mapping of the container lists, with its path relative to the pod spec."""
    for list_name in lists:
        containers = spec.get(list_name)
        if not isinstance(containers, list):
            continue
        for c_index, container in enumerate(containers):
            ports = container.get("ports") if isinstance(container, dict) else None
            if not isinstance(ports, list):
                continue
            for p_index, port in enumerate(ports):
                if isinstance(port, dict):
                    yield (list_name, c_index, "ports", p_index), port


def host_bindings(spec: dict[str, Any]) -> Iterator[HostBinding]:
    """What a pod holds on its node while it runs, as the scheduler's NodePorts filter counts it:
    the ports of `containers` (not init containers). Under hostNetwork every containerPort is a
    host port (the apiserver defaults hostPort to containerPort there)."""
    host_network = spec.get("hostNetwork") is True
    for path, port in container_ports(spec, ("containers",)):
        host_port = port.get("hostPort")
        protocol = port.get("protocol") or "TCP"
        ip = port.get("hostIP") or "0.0.0.0"
        if not isinstance(protocol, str) or not isinstance(ip, str):
            continue
        if is_int(host_port) and 0 < host_port <= 65535:
            yield HostBinding(ip, int(host_port), protocol, (*path, "hostPort"), False)
        elif host_network:
            container_port = port.get("containerPort")
            if is_int(container_port) and 0 < container_port <= 65535:
                yield HostBinding(ip, int(container_port), protocol, (*path, "containerPort"), True)


def service_node_ports(spec: dict[str, Any]) -> Iterator[tuple[Pointer, int, str]]:
    """(path relative to the Service's spec, nodePort, protocol) for explicit node ports."""
    ports = spec.get("ports")
    if not isinstance(ports, list):
        return
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        node_port = port.get("nodePort")
        protocol = port.get("protocol") or "TCP"
        if is_int(node_port) and node_port != 0 and isinstance(protocol, str):
            yield ("ports", index, "nodePort"), node_port, protocol


def allocates_node_ports(service: dict[str, Any]) -> bool:
    spec = service.get("spec")
    return isinstance(spec, dict) and spec.get("type") in ("NodePort", "LoadBalancer")


def format_range(port_range: tuple[int, int]) -> str:
    return f"{port_range[0]}-{port_range[1]}"
