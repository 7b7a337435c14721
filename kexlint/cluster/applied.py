"""What users applied, as kubectl recorded it: the last-applied-configuration annotation.

The apiserver stores every object in its storage version, so a Deployment applied as
extensions/v1beta1 comes back as apps/v1; the annotation kubectl client-side apply writes keeps the
manifest as sent, which is where deprecated API versions are still visible.
"""

from __future__ import annotations

import json
from typing import Any

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def last_applied(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The applied manifest, or None when there is none (or it is not a JSON object)."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    text = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not isinstance(text, str):
        return None
    try:
        applied = json.loads(text)
    except ValueError:
        return None
    return applied if isinstance(applied, dict) and "kind" in applied else None
