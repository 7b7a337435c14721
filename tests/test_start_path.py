"""What `python -m kexlint FILE` imports, once the rule cache is warm: a one-file lint's time is
mostly start-up (issue 13: at most 2x `python -c "import yaml"`), and each of these modules costs
milliseconds to import. A check on sys.modules rather than a timed test, which a loaded machine
would fail at random."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Prints the modules loaded before kexlint is and those loaded when the process exits.
PROBE = """
import atexit, runpy, sys
before = set(sys.modules)
atexit.register(lambda: print("MODULES", " ".join(sorted(set(sys.modules) - before)), file=sys.stderr))
sys.argv = ["kexlint", *sys.argv[1:]]
runpy.run_module("kexlint", run_name="__main__", alter_sys=True)
"""

# Never needed to lint a YAML file without a config file, with the rule cache warm.
NEVER = {
    # the general validator: the fast path (kexlint.schemafast) decides the shipped schema rules
    "jsonschema", "referencing", "rpds",
    # the extras, and the commands and options that use them
    "flask", "werkzeug", "cryptography", "gunicorn", "prometheus_client", "kubernetes", "ruamel", "ryml",
    "kexlint.cluster", "kexlint.webhook", "kexlint.fix", "kexlint.audit", "kexlint.explain", "kexlint.docs",
    "kexlint.loader_ryml", "kexlint.reporters.json", "kexlint.reporters.sarif", "kexlint.reporters.junit",
    # standard modules whose import cost 3-15 ms each on the start path (see the commits of issue 13)
    "typing", "dataclasses", "inspect", "ast", "dis", "tokenize", "pathlib", "urllib.parse", "json",
    "ipaddress", "shutil", "hashlib", "_hashlib", "threading", "subprocess", "multiprocessing",
}


def imported(cache: Path, *args: str) -> tuple[set[str], str]:
    """The modules the second of two runs imported, and what it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    env.pop("KEXLINT_NO_CACHE", None)
    env.pop("KEXLINT_PARSER", None)
    for _ in range(2):  # the first run validates the rules and fills the cache
        proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cache,
                              env=env, timeout=120)
    line = next(line for line in proc.stderr.splitlines() if line.startswith("MODULES"))
    return set(line.split()[1:]), proc.stdout


def top(modules: set[str]) -> set[str]:
    """Each module and the packages it is in: `jsonschema.validators` counts as `jsonschema`."""
    return {".".join(name.split(".")[:depth]) for name in modules for depth in range(1, name.count(".") + 2)}


@pytest.mark.parametrize("example, expected", [
    ("examples/clean/influxdb.yaml", "0 errors"),
    ("examples/influxdb-hostport.yaml", "error host-port"),  # a Python check's finding
    ("examples/influxdb-hostnetwork.yaml", "error host-network"),  # a JSON Schema rule's finding
])
def test_a_one_file_lint_imports_only_what_it_uses(tmp_path: Path, example: str, expected: str) -> None:
    modules, out = imported(tmp_path, "--no-config", str(ROOT / example))
    assert expected in out and "kexlint.cli" in modules  # the probe saw the lint
    assert not top(modules) & NEVER, sorted(top(modules) & NEVER)


def test_the_schema_rule_is_decided_by_the_fast_path(tmp_path: Path) -> None:
    modules, _ = imported(tmp_path, "--no-config", str(ROOT / "examples/influxdb-hostnetwork.yaml"))
    assert "kexlint.schemafast" in modules and "jsonschema" not in top(modules)


def test_a_config_file_still_keeps_jsonschema_out_once_validated(tmp_path: Path) -> None:
    (tmp_path / ".kexlint.yaml").write_text("fail-on: warning\n")
    modules, out = imported(tmp_path, str(ROOT / "examples/clean/influxdb.yaml"))
    assert "0 errors" in out
    assert "kexlint.config" in modules and not top(modules) & {"jsonschema", "pathlib", "typing", "dataclasses"}
