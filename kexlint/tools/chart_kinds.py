"""Regenerate the chart's copy of the custom-kinds table: `python -m kexlint.tools.chart_kinds`.

Helm renders the chart without kexlint, so the chart cannot read rules/data/pod-templates.yaml: it
carries webhook/chart/files/custom-kinds.yaml (name → API group and resource), the part of the table
the ValidatingWebhookConfiguration needs for `webhook.custom-kinds`. tests/webhook/test_chart.py fails
when the copy is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from kexlint.model import custom_kinds

CHART_TABLE = Path(__file__).resolve().parent.parent.parent / "webhook" / "chart" / "files" / "custom-kinds.yaml"
HEADER = ("# Generated from rules/data/pod-templates.yaml by `python -m kexlint.tools.chart_kinds`; do not edit.\n"
          "# The kinds `webhook.custom-kinds` may name, with what the webhook configuration registers for each.\n")


def chart_table() -> str:
    kinds = {entry.name: {"group": entry.group, "resource": entry.resource}
             for entry in sorted(custom_kinds().values(), key=lambda e: e.name)}
    return HEADER + yaml.safe_dump({"kinds": kinds}, sort_keys=False, default_flow_style=None, width=120)


def main() -> int:
    CHART_TABLE.parent.mkdir(exist_ok=True)
    CHART_TABLE.write_text(chart_table(), encoding="utf-8")
    print(f"wrote {CHART_TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
