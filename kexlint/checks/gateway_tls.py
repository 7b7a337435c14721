"""Gateway and ListenerSet listeners that serve plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings
from .routing import listeners, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    for path, listener in listeners(target.value):
        # Core protocol names are upper case; ListenerSet's validation compares them case-insensitively.
        if text(listener.get("protocol")).upper() != "HTTP":
            continue
        name = text(listener.get("name")) or "?"
        host = text(listener.get("hostname")) or "every host"
        port = listener.get("port")
        yield Hit((*path, "protocol"), f"listener {name} serves plain HTTP on port {port} for {host}")
