"""Facts' places located after the conclusions (spots.py) give the lines locating them at once gives."""

from __future__ import annotations

from pathlib import Path

from kexlint.config import load_config
from kexlint.engine import Engine
from kexlint.lint import Linter
from kexlint.registry import builtin_rules, rules_by_id
from kexlint.spots import deferrable

# A parse error first (the reader resumes after it, on a later chunk of the text), then a List whose
# item's hostPort collides with the Pod of the other file.
FIRST = """# a leading comment
---
apiVersion: v1
kind: Pod
metadata: {name: broken
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: exporter
    spec:
      template:
        spec:
          containers:
            - name: c
              image: x
              ports:
                - containerPort: 9100
                  hostPort: 9100
"""
SECOND = """apiVersion: v1
kind: Pod
metadata:
  name: other
spec:
  containers:
    - name: c
      image: x
      ports:
        - containerPort: 9100
          hostPort: 9100
---
apiVersion: v1
kind: Service
metadata:
  name: one
spec:
  type: NodePort
  ports:
    - port: 80
      nodePort: 30080
---
apiVersion: v1
kind: Service
metadata:
  name: two
spec:
  type: NodePort
  ports:
    - {port: 80, nodePort: 30080}
"""


def lint(folder: Path) -> list[tuple]:
    linter = Linter(Engine(builtin_rules(), load_config(None, set(rules_by_id()))))
    for name in ("first.yaml", "second.yaml"):
        linter.lint_path(str(folder / name))
    result = linter.finish()
    return [(f.rule, Path(f.file).name, f.line, f.column, f.message.replace(str(folder), "DIR"),
             tuple(r.replace(str(folder), "DIR") for r in f.related)) for f in result.findings]


def write(folder: Path, newline: str, first: str = FIRST) -> Path:
    folder.mkdir()
    for name, text in (("first.yaml", first), ("second.yaml", SECOND)):
        (folder / name).write_bytes(text.replace("\n", newline).encode())
    return folder


# Without the parse error: main's reader does not resume after one in a CRLF file (it finds no
# `---` line there), which would make the two readings differ for another reason.
UNBROKEN = FIRST.replace("kind: Pod\nmetadata: {name: broken\n", "kind: Pod\nmetadata: {name: fine}\n")


def test_deferred_lines_equal_the_lines_found_at_once(tmp_path: Path) -> None:
    # CRLF files are located at once (a lone \r would count lines differently), LF files at the end.
    lf, crlf = write(tmp_path / "lf", "\n", UNBROKEN), write(tmp_path / "crlf", "\r\n", UNBROKEN)
    assert deferrable(FIRST, "first.yaml") and not deferrable(FIRST.replace("\n", "\r\n"), "first.yaml")
    assert lint(lf) == lint(crlf)
    assert any(rule == "host-port-conflict" for rule, *_ in lint(lf))


def test_deferred_lines_after_a_parse_error_and_in_a_list(tmp_path: Path) -> None:
    deferred = lint(write(tmp_path / "lf", "\n"))
    conflicts = {(rule, name, line, column, related) for rule, name, line, column, _, related in deferred
                 if rule.endswith("-conflict")}
    assert conflicts == {
        ("host-port-conflict", "first.yaml", 22, 19, ("DIR/second.yaml:11",)),
        ("host-port-conflict", "second.yaml", 11, 11, ("DIR/first.yaml:22",)),
        ("node-port-conflict", "second.yaml", 21, 7, ("DIR/second.yaml:30",)),
        ("node-port-conflict", "second.yaml", 30, 18, ("DIR/second.yaml:21",)),
    }
    assert any("(DIR/second.yaml:11)" in message for *_, message, _ in deferred)
    assert not any("\x00" in message for *_, message, _ in deferred)


def test_a_file_gone_before_the_end_gives_the_documents_line(tmp_path: Path) -> None:
    folder = write(tmp_path / "lf", "\n")
    linter = Linter(Engine(builtin_rules(), load_config(None, set(rules_by_id()))))
    for name in ("first.yaml", "second.yaml"):
        linter.lint_path(str(folder / name))
    (folder / "first.yaml").unlink()
    lines = {(Path(f.file).name, f.line) for f in linter.finish().findings if f.rule == "host-port-conflict"}
    assert lines == {("first.yaml", 7), ("second.yaml", 11)}  # 7: where the List document starts
