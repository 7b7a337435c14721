"""Rule documentation as Markdown, generated from the rule files: `python -m kexlint.docs`.

Writes docs/rules/<rule-id>.md for every rule and docs/rules/README.md as the index; `--check`
exits 1 when the checked-in pages differ from what the rule files say (the test suite does the
same in memory). Kept off the lint path: nothing the CLI imports imports this module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .explain import SUPPRESS_DEFAULT
from .registry import Rule, builtin_rules

GENERATED = "<!-- Generated from rules/{id}.yaml by `python -m kexlint.docs`; edit the rule file, not this page. -->"
TARGETS = {
    "object": "every object",
    "pod-spec": "pod specs (Pods, workload pod templates, CronJob job templates, custom resources with a pod template)",
    "container": "every container, init container and ephemeral container of a pod spec",
    "service": "Services",
    "ingress": "Ingresses",
    "ingressclass": "IngressClasses",
    "gateway": "Gateways and ListenerSets (Gateway API)",
    "route": "HTTPRoutes, GRPCRoutes, TLSRoutes, TCPRoutes and UDPRoutes (Gateway API)",
}


def _yaml_block(text: str) -> list[str]:
    return ["```yaml", text.rstrip("\n"), "```"]


def rule_page(rule: Rule) -> str:
    docs = rule.docs
    default = "on by default" if rule.enabled else "off by default (turn it on in .kexlint.yaml)"
    lines = [
        GENERATED.format(id=rule.id),
        f"# {rule.id}",
        "",
        f"**{rule.summary}**",
        "",
        f"- Level: `{rule.level}`, {default}",
        f"- Looks at: {TARGETS[rule.target]}"
        + (f"; kinds {', '.join(f'`{k}`' for k in sorted(rule.kinds))}" if rule.kinds else ""),
        f"- Rule file: [`rules/{rule.id}.yaml`](../../rules/{rule.id}.yaml)",
        "",
        "## What it catches",
        "",
        docs["what"].strip(),
        "",
        "## Why it matters",
        "",
        docs["why"].strip(),
        "",
        "## How to fix",
        "",
        rule.fix.strip(),
        "",
        "## Example",
        "",
        "Flagged:",
        "",
        *_yaml_block(docs["example"]),
        "",
        "Use instead:",
        "",
        *_yaml_block(docs["instead"]),
        "",
        "## How to suppress",
        "",
        (docs.get("suppress") or SUPPRESS_DEFAULT.format(id=rule.id)).strip(),
        "",
        "Per object, with a reason (shown by `--show-suppressed` and in SARIF as a suppression):",
        "",
        *_yaml_block(f"metadata:\n  annotations:\n    ignore.kexlint.io/{rule.id}: \"<why this is fine>\""),
        "",
        "For a path, namespace, kind or name pattern, in `.kexlint.yaml`:",
        "",
        *_yaml_block(f"exclude:\n- rules: [{rule.id}]\n  path: \"system/**\"\n  reason: \"<why this is fine>\""),
        "",
        "Everywhere: `kexlint --disable " + rule.id + "`, or in `.kexlint.yaml`:",
        "",
        *_yaml_block(f"rules:\n  {rule.id}: off"),
    ]
    if docs.get("references"):
        lines += ["", "## References", "", *(f"- <{ref}>" for ref in docs["references"])]
    return "\n".join(lines) + "\n"


def index_page(rules: tuple[Rule, ...]) -> str:
    lines = [
        "<!-- Generated from rules/*.yaml by `python -m kexlint.docs`; edit the rule files, not this page. -->",
        "# kexlint rules",
        "",
        "Every rule kexlint ships, generated from the rule files. `kexlint rules` lists them and",
        "`kexlint explain RULE` prints a page in the terminal.",
        "",
        "| rule | level | default | what it flags |",
        "| --- | --- | --- | --- |",
    ]
    for rule in sorted(rules, key=lambda r: r.id):  # by id, whatever order the registry keeps
        summary = rule.summary.replace("|", "\\|")  # a pipe would end the table cell
        lines.append(f"| [{rule.id}]({rule.id}.md) | {rule.level} | {'on' if rule.enabled else 'off'} | {summary} |")
    return "\n".join(lines) + "\n"


def render_all(rules: tuple[Rule, ...] | None = None) -> dict[str, str]:
    """File name → content of every page, in memory."""
    rules = builtin_rules() if rules is None else rules
    pages = {f"{rule.id}.md": rule_page(rule) for rule in rules}
    pages["README.md"] = index_page(rules)
    return pages


def stale(out: Path, pages: dict[str, str]) -> list[str]:
    """Pages missing, different or left over (a deleted rule's page) in `out`."""
    problems = [name for name, text in pages.items()
                if not (out / name).is_file() or (out / name).read_text("utf-8") != text]
    problems += [p.name for p in sorted(out.glob("*.md")) if p.name not in pages] if out.is_dir() else []
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kexlint.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/rules", help="folder for the pages (default %(default)s)")
    parser.add_argument("--check", action="store_true", help="only report stale pages; exit 1 if any")
    args = parser.parse_args(argv)
    out = Path(args.out)
    pages = render_all()
    if args.check:
        problems = stale(out, pages)
        for name in problems:
            print(f"{out / name}: stale; run python -m kexlint.docs", file=sys.stderr)
        return 1 if problems else 0
    out.mkdir(parents=True, exist_ok=True)
    for name in stale(out, pages):
        if name in pages:
            (out / name).write_text(pages[name], encoding="utf-8")
        else:
            (out / name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
