"""Values compared with their types: shared by the parser comparisons in tests and bench."""

from __future__ import annotations

import math
from typing import Any


def strict(value: Any) -> tuple:
    """A value with its types spelled out, so that True != 1 and 1.0 != 1, and NaN equals NaN."""
    if isinstance(value, dict):
        return ("dict", [(k, strict(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [strict(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)
