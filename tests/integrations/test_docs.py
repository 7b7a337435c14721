"""docs/rules is generated from the rule files; this fails when the checked-in pages are stale."""

from __future__ import annotations

import subprocess
import sys

from kexlint import docs
from kexlint.registry import builtin_rules

from .conftest import ROOT

RULES_DOCS = ROOT / "docs" / "rules"


def test_checked_in_rule_docs_are_current() -> None:
    stale = docs.stale(RULES_DOCS, docs.render_all())
    assert not stale, f"stale rule docs {stale}: run `python -m kexlint.docs` and commit docs/rules"


def test_every_rule_has_a_page_with_every_section() -> None:
    pages = docs.render_all()
    for rule in builtin_rules():
        page = pages[f"{rule.id}.md"]
        for heading in ("## What it catches", "## Why it matters", "## How to fix", "## Example",
                        "## How to suppress"):
            assert heading in page, (rule.id, heading)
        assert f"ignore.kexlint.io/{rule.id}" in page
        assert f"]({rule.id}.md)" in pages["README.md"]


def test_docs_module_stays_off_the_lint_import_path() -> None:
    code = "import sys, kexlint.cli, kexlint.lint, kexlint.reporters.sarif; print('kexlint.docs' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_check_mode_reports_a_stale_page(tmp_path) -> None:
    assert docs.main(["--out", str(tmp_path)]) == 0
    assert docs.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "host-network.md").write_text("edited by hand\n")
    (tmp_path / "removed-rule.md").write_text("a rule that no longer exists\n")
    assert docs.main(["--out", str(tmp_path), "--check"]) == 1
    assert docs.stale(tmp_path, docs.render_all()) == ["host-network.md", "removed-rule.md"]
    assert docs.main(["--out", str(tmp_path)]) == 0
    assert docs.stale(tmp_path, docs.render_all()) == []
