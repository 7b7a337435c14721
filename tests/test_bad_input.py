"""Bad input: one clear error line naming file and line, never a traceback or a hang, and the
other files and documents are still linted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

GOOD_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  hostNetwork: true\n  containers: []\n"

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
apiVersion: v1
kind: Pod
"""

CASES: dict[str, tuple[bytes, str, int]] = {
    # name: (content, expected message fragment, expected line)
    "unparsable.yaml": (b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n", "expected", 5),
    "tabs.yaml": (b"apiVersion: v1\nkind: Pod\nspec:\n\thostNetwork: true\n", "cannot start any token", 4),
    "unparsable.json": (b'{"apiVersion": "v1",\n "kind": }', "invalid JSON", 2),
    "binary.yaml": (bytes(range(256)) * 4, "not a text file", 2),
    "latin1.yaml": ("apiVersion: v1\nkind: Pod\nmetadata: {name: café}\n".encode("latin-1"), "invalid UTF-8", 3),
    "nul.yaml": (b"apiVersion: v1\nkind: Pod\x00\n", "character #x0000 is not allowed", 2),
    "bomb.yaml": (BILLION_LAUGHS.encode(), "alias bomb", 7),
    "deep.yaml": (b"apiVersion: v1\nkind: Pod\nspec: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
                  "nesting deeper than 512 levels", 3),
    "deep-block.yaml": (b"apiVersion: v1\nkind: Pod\nspec:\n" + b"".join(
        b"  " * i + b"k:\n" for i in range(1, 1200)), "nesting deeper than 512 levels", 515),
    "python-tag.yaml": (b"apiVersion: v1\nkind: Pod\nspec: !!python/object/apply:os.system [echo hi]\n",
                        "unsupported YAML tag", 3),
    "missing-api-version.yaml": (b"kind: Pod\nmetadata: {name: x}\n", "object has no apiVersion", 1),
    "unknown-alias.yaml": (b"apiVersion: v1\nkind: Pod\nspec: *nowhere\n", "unknown", 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_one_error_line_and_others_still_linted(tmp_path: Path, run_cli, name: str) -> None:
    content, fragment, line = CASES[name]
    (tmp_path / name).write_bytes(content)
    (tmp_path / "zz-good.yaml").write_text(GOOD_POD)
    start = time.monotonic()
    code, out, err = run_cli("--no-config", "--format", "json", str(tmp_path))
    assert time.monotonic() - start < 5
    assert code == 2
    assert "Traceback" not in out + err
    data = json.loads(out)
    assert len(data["errors"]) == 1, data["errors"]
    error = data["errors"][0]
    assert error["file"] == str(tmp_path / name)
    assert fragment in error["message"], error
    assert error["line"] == line, error
    assert "\n" not in error["message"]
    assert [f["rule"] for f in data["findings"] if f["file"].endswith("zz-good.yaml")] == ["host-network"]


def test_text_error_line_format(tmp_path: Path, run_cli) -> None:
    (tmp_path / "bad.yaml").write_bytes(CASES["unparsable.yaml"][0])
    code, out, _ = run_cli("--no-config", str(tmp_path / "bad.yaml"))
    assert code == 2
    first = out.split("\n")[0]
    assert first.startswith(f"{tmp_path / 'bad.yaml'}:5:1: error input ")


def test_documents_after_a_broken_one_are_still_linted(tmp_path: Path, lint_json) -> None:
    stream = GOOD_POD + "---\nbroken: [\n---\n" + GOOD_POD.replace("good", "after")
    (tmp_path / "stream.yaml").write_text(stream)
    code, data = lint_json(str(tmp_path))
    assert code == 2
    assert [e["line"] for e in data["errors"]] == [9]
    names = [f["object"]["name"] for f in data["findings"]]
    assert names == ["good", "after"]
    assert data["findings"][1]["line"] == 14


def test_documents_after_a_broken_one_are_still_linted_in_a_crlf_file(tmp_path: Path, lint_json) -> None:
    # Seen: `---\r\n` was not taken for a separator, so nothing after the error was linted.
    stream = GOOD_POD + "---\nbroken: [\n---\n" + GOOD_POD.replace("good", "after")
    (tmp_path / "stream.yaml").write_bytes(stream.replace("\n", "\r\n").encode())
    code, data = lint_json(str(tmp_path))
    assert code == 2 and [e["line"] for e in data["errors"]] == [9]
    assert [(f["object"]["name"], f["line"]) for f in data["findings"]] == [("good", 5), ("after", 14)]


def test_non_mapping_documents(tmp_path: Path, lint_json) -> None:
    # Beside Kubernetes objects, a list or scalar document is an error…
    (tmp_path / "mixed.yaml").write_text(GOOD_POD + "---\n- just\n- a list\n---\nplain scalar\n")
    # …but a YAML file with no Kubernetes object at all (an Ansible playbook, Helm values) is not ours.
    (tmp_path / "playbook.yml").write_text("- hosts: all\n  tasks: []\n")
    (tmp_path / "values.yaml").write_text("replicaCount: 1\nservice: {type: NodePort}\n")
    code, data = lint_json(str(tmp_path))
    assert code == 2
    assert [(e["file"].rsplit("/", 1)[1], e["line"]) for e in data["errors"]] == [
        ("mixed.yaml", 8), ("mixed.yaml", 11)]
    assert "document 2 is a list" in data["errors"][0]["message"]


def test_huge_file_refused_quickly(tmp_path: Path, lint_json) -> None:
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.truncate(100 * 2**20)  # 100 MiB, sparse
    (tmp_path / "zz-good.yaml").write_text(GOOD_POD)
    start = time.monotonic()
    code, data = lint_json(str(tmp_path))
    assert time.monotonic() - start < 2
    assert code == 2
    assert "over the 64 MiB limit" in data["errors"][0]["message"]
    assert data["summary"]["errors"] == 1


def test_max_file_size_flag(tmp_path: Path, lint_json) -> None:
    (tmp_path / "pod.yaml").write_text(GOOD_POD * 1)
    code, data = lint_json("--max-file-size", "0.00001", str(tmp_path))
    assert code == 2 and "limit" in data["errors"][0]["message"]


def test_utf16_with_bom_is_read(tmp_path: Path, lint_json) -> None:
    (tmp_path / "pod.yaml").write_bytes(GOOD_POD.encode("utf-16"))
    code, data = lint_json(str(tmp_path))
    assert data["errors"] == []
    assert [f["line"] for f in data["findings"]] == [5]


def test_empty_and_comment_only_files(tmp_path: Path, lint_json) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "comments.yaml").write_text("# nothing here\n---\n# still nothing\n...\n")
    code, data = lint_json(str(tmp_path))
    assert code == 0 and data["errors"] == [] and data["summary"]["files"] == 2
