"""LoadBalancer Services reachable from the whole internet."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    import ipaddress
    from typing import Any

ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


def _network(cidr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    import ipaddress  # here: the module costs ~1.5 ms of start-up to import, and few objects need it

    if not isinstance(cidr, str):
        return None
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def _open_to_all(cidr: Any) -> bool:
    network = _network(cidr)
    return network is not None and network.prefixlen == 0


def _covers_everything(cidrs: list[Any]) -> str | None:
    """`0.0.0.0/1` plus `128.0.0.0/1` is the whole internet too: the family whose ranges together
    collapse to /0, if any (each /0 on its own is reported where it is written)."""
    import ipaddress  # here: the module costs ~1.5 ms of start-up to import, and few objects need it

    for version in (4, 6):
        networks = [n for n in map(_network, cidrs) if n is not None and n.version == version]
        if len(networks) > 1 and all(n.prefixlen for n in networks):
            if any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(networks)):
                return "IPv4" if version == 4 else "IPv6"
    return None


def _internal(annotations: dict[str, Any], params: dict[str, Any]) -> bool:
    """Cloud annotations that put the load balancer on a private network only.

    A marker with a `value` needs that value; one without takes any value but those in its
    `except` list: AWS's in-tree provider reads `aws-load-balancer-internal: "false"` as
    internet-facing and any other non-empty value as internal."""
    for marker in params.get("internal-annotations", []):
        value = annotations.get(marker["annotation"])
        if value is None:
            continue
        text = str(value).strip().lower()
        if marker.get("value") is not None:
            if text == str(marker["value"]).lower():
                return True
        elif text and text not in {str(v).lower() for v in marker.get("except", ())}:
            return True
    return False


def _open_ranges(cidrs: list[Any], label: str) -> Iterator[tuple[int | None, str]]:
    """(index of the offending range or None for the list as a whole, message)."""
    everyone = "the load balancer accepts traffic from the whole internet"
    for index, cidr in enumerate(cidrs):
        if _open_to_all(cidr):
            yield index, f"{label} contains {cidr.strip()}: {everyone}"
    family = _covers_everything(cidrs)
    if family:
        yield None, f"{label} ranges together cover every {family} address: {everyone}"


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value.get("spec")
    if not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
        return
    annotations = target.obj.annotations
    if _internal(annotations, params):
        return
    ranges = spec.get("loadBalancerSourceRanges")
    if isinstance(ranges, list) and ranges:
        # The field wins over the annotation when both are set.
        field = ("spec", "loadBalancerSourceRanges")
        for index, message in _open_ranges(ranges, "loadBalancerSourceRanges"):
            yield Hit(field if index is None else (*field, index), message)
        return
    legacy = annotations.get(ANNOTATION)
    if isinstance(legacy, str) and legacy.strip():
        for _, message in _open_ranges(legacy.split(","), ANNOTATION):
            yield Hit(("metadata", "annotations", ANNOTATION), message)
        return
    yield Hit(("spec", "type"), "LoadBalancer Service sets no loadBalancerSourceRanges: its external IP "
              "accepts traffic from the whole internet")
