"""Keys written twice in one mapping: the apiserver refuses them, YAML tools keep the last one."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    obj = target.obj
    doc = obj.doc
    if doc is None or not doc.duplicates:
        return
    prefix = obj.prefix
    for duplicate in doc.duplicates:
        if duplicate.pointer[:len(prefix)] != prefix:
            continue
        first = doc.first_occurrence(duplicate.pointer)
        earlier = f" (first at line {first[0]})" if first else ""
        key = duplicate.pointer[-1]
        yield Hit(duplicate.pointer[len(prefix):],
                  f"key {key!r} is repeated in the same mapping{earlier}; the apiserver rejects duplicate "
                  "fields, and tools that accept them silently keep only the last value")
