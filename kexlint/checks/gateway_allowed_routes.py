"""Listeners (and Gateways' ListenerSet attachment) open to every namespace of the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings
from .routing import listeners, spec_of, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def _from(section: Any) -> str:
    namespaces = section.get("namespaces") if isinstance(section, dict) else None
    return text(namespaces.get("from")) if isinstance(namespaces, dict) else ""


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    for path, listener in listeners(target.value):
        if _from(listener.get("allowedRoutes")) == "All":
            name = text(listener.get("name")) or "?"
            yield Hit((*path, "allowedRoutes", "namespaces", "from"), f"listener {name} accepts routes "
                      "from all namespaces: anyone who may create an HTTPRoute anywhere can publish on "
                      "this address")
    spec = spec_of(target.value)
    if target.obj.ref.kind == "Gateway" and spec and _from(spec.get("allowedListeners")) == "All":
        yield Hit(("spec", "allowedListeners", "namespaces", "from"), "Gateway accepts ListenerSets from "
                  "all namespaces: anyone who may create a ListenerSet anywhere can open listeners on "
                  "this address")
