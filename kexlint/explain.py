"""A rule's documentation as text, in fixed sections (shared by `kexlint explain` and docs/)."""

from __future__ import annotations

import textwrap

from .registry import Rule

SUPPRESS_DEFAULT = ("Annotate the object with `ignore.kexlint.io/{id}: \"<reason>\"` (the reason is required); "
                    "on a workload, annotate its pod template to reach the Pods it creates too.")


def _wrap(text: str) -> str:
    return "\n".join(textwrap.fill(p, 100) for p in text.strip().split("\n\n"))


def explain(rule: Rule) -> str:
    docs = rule.docs
    parts = [
        f"{rule.id} ({rule.level}{'' if rule.enabled else ', disabled by default'}): {rule.summary}",
        "",
        "What it does", _wrap(docs["what"]), "",
        "Why it matters", _wrap(docs["why"]), "",
        "How to fix", _wrap(rule.fix), "",
        "Example", textwrap.indent(docs["example"].rstrip(), "    "), "",
        "Use instead", textwrap.indent(docs["instead"].rstrip(), "    "), "",
        "Suppress", _wrap(docs.get("suppress") or SUPPRESS_DEFAULT.format(id=rule.id)),
    ]
    if docs.get("references"):
        parts += ["", "References", *(f"  - {ref}" for ref in docs["references"])]
    return "\n".join(parts) + "\n"
