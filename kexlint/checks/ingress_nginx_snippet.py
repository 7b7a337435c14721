"""Ingress annotations that hand raw NGINX configuration to the community ingress-nginx controller."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    names = set(params.get("annotations", []))
    prefixes = params.get("prefixes", [])
    for key, value in target.obj.annotations.items():
        if not isinstance(key, str) or "/" not in key:
            continue
        prefix, _, name = key.partition("/")
        if prefix in prefixes and name in names and isinstance(value, str) and value.strip():
            yield Hit(("metadata", "annotations", key), f"{key} injects raw NGINX configuration into the "
                      "controller, which runs it with its own rights and sees every Secret it can read")
