"""spec.externalIPs outside the addresses the cluster's owners allow (CVE-2020-8554)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    import ipaddress
    from typing import Any


def _allowed(ip: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    import ipaddress  # here: the module costs ~1.5 ms of start-up to import, and few objects need it

    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False  # not an address: invalid-spec's business, never an allowed one
    return any(address in network for network in networks)


@cache
def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    import ipaddress  # here: the module costs ~1.5 ms of start-up to import, and few objects need it

    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise ValueError(f"param allowed-cidrs: {cidr!r} is not a CIDR") from None
    return networks


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value.get("spec")
    ips = spec.get("externalIPs") if isinstance(spec, dict) else None
    if not isinstance(ips, list):
        return
    # Like Gatekeeper's allowedIPs, but as networks, so a team's whole range is one entry.
    networks = _networks(tuple(params.get("allowed-cidrs") or ()))
    for index, ip in enumerate(ips):
        if isinstance(ip, str) and _allowed(ip, networks):
            continue
        shown = ip if isinstance(ip, str) else repr(ip)
        scope = " (outside the allowed-cidrs param)" if networks else ""
        yield Hit(("spec", "externalIPs", index), f"externalIP {shown}{scope} makes kube-proxy capture "
                  "traffic for this address on every node")
