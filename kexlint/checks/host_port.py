"""Non-zero hostPorts, except the one the apiserver writes itself under hostNetwork.

A schema on each container cannot see the pod's `hostNetwork`: under it the apiserver defaults every
Pod port's hostPort to its containerPort (pkg/apis/core/v1/defaults.go), so a Pod it sends the webhook
carries hostPorts the author never wrote, while the same Deployment's template does not. Such a port is
already open on the node because of hostNetwork: it belongs to the host-network finding, and skipping
it here lets the CLI (template) and the webhook (defaulted Pod) agree. host-port-conflict still counts
it as a binding.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings, is_int
from .ports import container_ports

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value
    if not isinstance(spec, dict):
        return
    host_network = spec.get("hostNetwork") is True
    for path, port in container_ports(spec):
        host_port = port.get("hostPort")
        # A hostPort that is no integer ("8080") is invalid-spec's: the apiserver rejects it.
        if not is_int(host_port) or host_port == 0:
            continue
        if host_network and host_port == port.get("containerPort"):
            continue
        yield Hit((*path, "hostPort"), f"hostPort {int(host_port)} publishes this container port on the IP of "
                  "whichever node runs the pod")
