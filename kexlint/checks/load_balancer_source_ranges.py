"""LoadBalancer Services reachable from the whole internet."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from ..model import Target
from . import Hit, Settings

ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


def _open_to_all(cidr: Any) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _internal(annotations: dict[str, Any], params: dict[str, Any]) -> bool:
    """Cloud annotations that put the load balancer on a private network only."""
    for marker in params.get("internal-annotations", []):
        value = annotations.get(marker["annotation"])
        if value is not None and (marker.get("value") is None or str(value).lower() == marker["value"]):
            return True
    return False


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
        for index, cidr in enumerate(ranges):
            if _open_to_all(cidr):
                yield Hit(("spec", "loadBalancerSourceRanges", index),
                          f"loadBalancerSourceRanges contains {cidr.strip()}: the load balancer accepts "
                          "traffic from the whole internet")
        return
    legacy = annotations.get(ANNOTATION)
    if isinstance(legacy, str) and legacy.strip():
        for cidr in legacy.split(","):
            if _open_to_all(cidr):
                yield Hit(("metadata", "annotations", ANNOTATION),
                          f"{ANNOTATION} contains {cidr.strip()}: the load balancer accepts traffic from "
                          "the whole internet")
        return
    yield Hit(("spec", "type"), "LoadBalancer Service sets no loadBalancerSourceRanges: its external IP "
              "accepts traffic from the whole internet")
