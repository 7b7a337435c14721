"""Suppression annotations that suppress nothing: a rule id kexlint does not know (a typo, or a rule
of another tool) or an empty reason. Either way the author believes a finding is silenced."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

PREFIX = "ignore.kexlint.io/"


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    from ..registry import rules_by_id  # the registry loads this module: import it when checking

    annotations = target.obj.annotations
    keys = [key for key in annotations if isinstance(key, str) and key.startswith(PREFIX)]
    if not keys:
        return
    known = rules_by_id()
    for key in keys:
        rule_id = key[len(PREFIX):]
        reason = annotations[key]
        path = ("metadata", "annotations", key)
        if rule_id not in known:
            yield Hit(path, f"annotation {key} names no kexlint rule, so it suppresses nothing "
                            "(`kexlint rules` lists them)")
        elif not isinstance(reason, str) or not reason.strip():
            yield Hit(path, f"annotation {key} has an empty reason, so it suppresses nothing; "
                            "write why the finding is accepted")
