"""Ingress rules that take every host, or every name under a domain."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings
from .routing import ingress_rules

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value.get("spec")
    if not isinstance(spec, dict):
        return
    for index, rule in ingress_rules(spec):
        host = rule.get("host")
        if not isinstance(host, str) or not host:
            yield Hit(("spec", "rules", index), "rule has no host: it takes requests for every host name "
                      "that reaches the controller")
        elif host.startswith("*."):
            yield Hit(("spec", "rules", index, "host"), f"wildcard host {host} takes requests for every "
                      f"name directly under {host[2:]}")
