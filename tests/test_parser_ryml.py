"""--parser rapidyaml (issue 13): the same documents, values, errors and output as libyaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from strict_values import strict

from kexlint import loader

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("KEXLINT_PARSER", None)


def kexlint(*args: str, env: dict | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kexlint", *args], capture_output=True, cwd=ROOT, timeout=120,
                          env=env or ENV, input=stdin)


def test_missing_rapidyaml_is_one_line_and_exit_2() -> None:
    # The module hidden as if it were not installed: `import ryml` raises ImportError.
    code = ("import sys; sys.modules['ryml'] = None; from kexlint.cli import main; "
            "sys.exit(main(['--no-config', '--parser', 'rapidyaml', 'examples/']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60, env=ENV)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode() == ("kexlint: error: --parser rapidyaml needs the rapidyaml package: "
                                    "pip install 'kexlint[rapidyaml]'\n")


def test_unknown_parser_in_the_environment() -> None:
    proc = kexlint("--no-config", "examples/", env={**ENV, "KEXLINT_PARSER": "pyyaml"})
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines() == [
        "kexlint: error: KEXLINT_PARSER: unknown parser 'pyyaml' (choose from libyaml, rapidyaml)"]


def test_lint_imports_no_rapidyaml_unless_selected() -> None:
    code = ("import sys; from kexlint.cli import main; main(['--no-config', '-q', 'examples/']); "
            "print(sorted(m for m in ('ryml', 'flask', 'cryptography') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60, env=ENV)
    assert proc.stdout.decode().splitlines()[-1] == "[]"


ryml = pytest.importorskip("ryml", reason="rapidyaml is not installed (pip install -e '.[rapidyaml]')")
from kexlint import loader_ryml  # noqa: E402 - needs rapidyaml


def both(text: str) -> tuple[list, list, int]:
    """Both readings of a stream, and how many documents rapidyaml built itself."""
    def read(documents):
        out = []
        for doc in documents:
            if isinstance(doc, loader.InputError):
                out.append(("error", doc.message, doc.line, doc.column))
            else:
                out.append((doc.index, doc.line, strict(doc.value),
                            [(d.pointer, d.line, d.column) for d in doc.duplicates], doc.locate(("spec",))))
        return out

    before = loader_ryml.STATS["rapidyaml"]
    theirs = read(loader_ryml.yaml_documents(text, "t.yaml"))
    return read(loader.libyaml_documents(text, "t.yaml")), theirs, loader_ryml.STATS["rapidyaml"] - before


PLAIN = ["on", "yes", "y", "N", "Off", "True", "TRUE", "0o17", "017", "08080", "1_000", "-1_0", ".inf", "-.Inf",
         ".NaN", "~", "null", "Null", "0x1F", "-0x1F", "+1", "80", "-0", "0.", "1.", "-.5", "1e4", "1E+3", "12:30",
         "2024-01-01", "10.0.0.1", "1.2.3", "0x", "1e", "", "123456789012345678901234567890", "9" * 400]


@pytest.mark.parametrize("scalar", PLAIN)
@pytest.mark.parametrize("style", ["plain", "double", "single", "key", "flow"])
def test_scalars_read_as_kubernetes_reads_them(scalar, style) -> None:
    text = {"plain": f"kind: Pod\nv: {scalar}\n", "double": f'kind: Pod\nv: "{scalar}"\n',
            "single": f"kind: Pod\nv: '{scalar}'\n", "key": f"kind: Pod\n{scalar or '_'}: v\n",
            "flow": f"kind: Pod\nv: [{scalar}, {{k: {scalar}}}]\n"}[style]
    ours, theirs, _ = both(text)
    assert theirs == ours


def test_the_fast_path_is_taken_and_agrees() -> None:
    # Ordinary manifests are rapidyaml's: a test that only ever compared libyaml with itself could not fail.
    text = ('apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: "80"}}\nspec:\n  type: NodePort\n'
            '  ports:\n  - port: 80\n    targetPort: "8080"\n    nodePort: 30080\n  note: |\n    a\n    b\n'
            '---\n# Source: x\nkind: Pod\nspec:\n  hostNetwork: true\n  f: 1.5\n  e: ""\n  nil:\n')
    ours, theirs, built = both(text)
    assert theirs == ours
    assert built == 2


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",  # duplicate key, with its line
    "x: &a {p: 1}\ny: *a\n",  # anchors and aliases
    "base: &b {hostNetwork: true}\nspec:\n  hostNetwork: false\n  <<: *b\n",  # go-yaml's merge order
    "v: !!python/object:os.system x\n",  # a tag refused
    "a: 1\n---\na: b: c\n---\nk: v\n",  # an error, and the next document still read
    "a:\tb\n",  # a tab rapidyaml reads as part of a plain scalar
    "a: @x\n",  # libyaml refuses, rapidyaml accepts
    "m:\n  a: |  # expect: x\n    y\n  b: 1\n",  # rapidyaml drops the line break
    "a: |\n x",  # rapidyaml adds one at the end of the stream
    "# only\n# comments\n",
    "---\n---\nk: v\n...\n%YAML 1.1\n---\nk: w\n",
    "\ufeffk: v\n---\n\ufeffk: w\n",
    "k: 'x\n",
    "- a\n- b\n",
    "---x: 1\n---\n----: 2\n--- # c\nk: v\n--- {a: 1}\n---",  # separators and what only looks like one
    "k: v\r\n---\r\nk: w\r\n",
    "k: \"\\x01\\0\"\n",  # rapidyaml's emitter stops at NUL
])
def test_what_rapidyaml_hands_to_libyaml_reads_the_same(text) -> None:
    ours, theirs, _ = both(text)
    assert theirs == ours


@pytest.mark.parametrize("text", [
    "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "a: " + "[" * 600 + "]" * 600 + "\n",
    "".join(" " * i + "k:\n" for i in range(700)),
    "- " * 700 + "x\n",
])
def test_deep_nesting_never_reaches_rapidyaml(text) -> None:
    before = loader_ryml.STATS["rapidyaml"]
    ours, theirs, _ = both(text)
    assert theirs == ours
    assert ours[0][1] == f"nesting deeper than {loader.MAX_DEPTH} levels"
    assert loader_ryml.STATS["rapidyaml"] == before


def test_invalid_yaml_prints_nothing_from_rapidyaml() -> None:
    # rapidyaml prints its own errors to stderr before raising; only kexlint's line may appear.
    proc = kexlint("--no-config", "--parser", "rapidyaml", "-q", "--stdin-filename", "x.yaml", "-",
                   stdin=b"kind: Pod\nmetadata: {name: [\n")
    assert proc.returncode == 2
    assert proc.stderr == b""
    assert proc.stdout.decode().startswith("x.yaml:3:1: error ")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_fixtures_lint_the_same_through_both_parsers(fmt) -> None:
    paths = ["tests/fixtures", "examples"]
    ours = kexlint("--no-config", "--jobs", "1", "--format", fmt, *paths)
    theirs = kexlint("--no-config", "--jobs", "1", "--format", fmt, "--parser", "rapidyaml", *paths)
    assert ours.returncode in (0, 1, 2)
    assert (theirs.returncode, theirs.stdout, theirs.stderr) == (ours.returncode, ours.stdout, ours.stderr)
    assert len(ours.stdout) > 10_000


def test_the_environment_selects_rapidyaml() -> None:
    code = "from kexlint import loader; print(loader.selected_parser())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60,
                          env={**ENV, "KEXLINT_PARSER": "rapidyaml"})
    assert proc.stdout == b"rapidyaml\n"


# --- differential fuzzing: random streams of the shapes manifests take, both readings compared ----

_ATOMS = ["a", "b c", "80", "-1", "1.5", "1e3", "0x1F", "017", "yes", "on", "~", "null", "true", "", "x#y", "'q'",
          '"q"', '"a\\tb"', "'it''s'", "[1, 2]", "{k: v}", "{}", "[]", "http://x/y?a=b&c=d", "\"*.x\"", "10.0.0.1",
          "1:30", "2024-01-01", "é", "a  b", "|", ">"]
_BROKEN = ["-", "?", ":", ",", "'", '"', "\\", "%", "@", "`", "x: y: z", "a: b", "- x", "*.example.com"]


def _block(rnd, atoms, indent, depth):
    lines = []
    for _ in range(rnd.randint(1, 4)):
        key = rnd.choice(["k", "key", "a b", "80", "on", "'q'", '"d"', "x-y"])
        roll = rnd.random()
        if depth < 3 and roll < 0.3:
            lines.append(" " * indent + key + ":")
            lines += _block(rnd, atoms, indent + rnd.choice([0, 1, 2, 4]), depth + 1)
        elif depth < 3 and roll < 0.45:
            lines.append(" " * indent + key + ":")
            lines += [" " * (indent + rnd.choice([0, 2])) + "- " + rnd.choice(atoms) for _ in range(rnd.randint(1, 3))]
        elif roll < 0.55:
            lines.append(" " * indent + key + ": " + rnd.choice(["|", ">", "|-", "|+", ">-", "|2"])
                         + rnd.choice(["", " # c", "  # expect: x"]))
            lines += [" " * (indent + rnd.choice([1, 2, 3])) + rnd.choice(["text", "more: x", "", "  deeper", "# not"])
                      for _ in range(rnd.randint(0, 3))]
        else:
            lines.append(" " * indent + key + ": " + rnd.choice(atoms) + rnd.choice(["", "", " # c", "  #c"]))
    return lines


@pytest.mark.parametrize("broken", [False, True], ids=["manifest-like", "with-broken-tokens"])
def test_random_streams_read_the_same(broken) -> None:
    # Found `- :` ({"": null} to rapidyaml, an error to libyaml) and `|2` over a line of spaces.
    import random

    rnd = random.Random(13)
    atoms = _ATOMS + (_BROKEN if broken else [])
    built = 0
    for _ in range(1500):
        docs = ["\n".join(_block(rnd, atoms, 0, 0)) + rnd.choice(["\n", "\n\n"]) for _ in range(rnd.randint(1, 3))]
        text = rnd.choice(["", "---\n", "# c\n"]) + "---\n".join(docs)
        if rnd.random() < 0.1:
            text = text.rstrip("\n")
        ours, theirs, fast = both(text)
        assert theirs == ours, text
        built += fast
    assert built > 200  # the fast path was exercised, not only the hand-over
