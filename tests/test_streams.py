"""Streams read as kubectl reads them: concatenated JSON values, BOMs where documents start, a List
inside a List, and kinds spelled in the wrong case. Where the real kubectl is available, what it
applies is the reference (`kubectl label --local -f FILE x=y -o name` reads offline)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from k8s_tools import tool

from kexlint.loader import read_documents


def pod(name: str, host_network: bool = False) -> dict:
    spec: dict = {"containers": [{"name": "a", "image": "a"}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def compact(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


# name → (file name, content); every one holds the pods a, b and c, c with host networking.
STREAMS: dict[str, tuple[str, str]] = {
    "json-lines": ("s.json", "\n".join(compact(pod(n, n == "c")) for n in "abc") + "\n"),
    "json-glued": ("s.json", "".join(compact(pod(n, n == "c")) for n in "abc")),
    "json-pretty": ("s.json", "\n".join(json.dumps(pod(n, n == "c"), indent=2) for n in "abc")),
    "json-in-yaml": ("s.yaml", "\n".join(compact(pod(n, n == "c")) for n in "abc")),
    "bom-after-separator": ("s.yaml", "".join("---\n\ufeff" + yaml.safe_dump(pod(n, n == "c")) for n in "abc")),
    # kubectl fails on a BOM before JSON in the first document only (go-yaml's quirk): the others here.
    "bom-after-separator-json": ("s.yaml", "--- # a comment\n" + "--- # a comment\n\ufeff".join(
        json.dumps(pod(n, n == "c")) + "\n" for n in "abc")),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_object_of_the_stream_is_linted(tmp_path: Path, lint_json, name: str) -> None:
    file_name, content = STREAMS[name]
    path = tmp_path / file_name
    path.write_text(content)
    code, data = lint_json(str(path))
    assert data["errors"] == []
    assert data["summary"]["objects"] == 3
    assert [(f["rule"], f["object"]["name"]) for f in data["findings"]] == [("host-network", "c")]


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_kubectl_applies_the_same_objects(tmp_path: Path, name: str) -> None:
    kubectl = tool("kubectl")
    file_name, content = STREAMS[name]
    path = tmp_path / file_name
    path.write_text(content)
    proc = subprocess.run([kubectl, "label", "--local", "-f", str(path), "x=y", "-o", "name"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    ours = [doc.value["metadata"]["name"] for doc in read_documents(content, str(path))]
    assert proc.stdout.split() == [f"pod/{n}" for n in ours] == ["pod/a", "pod/b", "pod/c"]


def test_json_stream_on_stdin() -> None:
    stream = "".join(compact(pod(n, n == "b")) for n in "ab").encode()
    proc = subprocess.run([sys.executable, "-m", "kexlint", "--no-config", "--format", "json", "-"],
                          input=stream, capture_output=True, timeout=60)
    data = json.loads(proc.stdout)
    assert data["errors"] == [] and data["summary"]["objects"] == 2
    assert [f["object"]["name"] for f in data["findings"]] == ["b"]
    assert [f["object"]["name"] for f in data["findings"]] == ["b"]


def test_positions_and_duplicates_in_later_values() -> None:
    text = compact(pod("a")) + "\n" + '{"apiVersion": "v1", "kind": "Pod",\n "spec": {"hostNetwork": false,\n' \
        '  "hostNetwork": true}}' + compact(pod("c"))
    docs = list(read_documents(text, "s.json"))
    assert [(d.index, d.line) for d in docs] == [(0, 1), (1, 2), (2, 4)]
    assert docs[1].locate(("spec", "hostNetwork")) == (4, 3)
    assert [(dup.pointer, dup.line, dup.column) for dup in docs[1].duplicates] == [(("spec", "hostNetwork"), 4, 3)]
    assert docs[0].duplicates == [] and docs[2].duplicates == []
    # The value glued to the previous one on its line: columns count from the line's start.
    assert docs[2].locate(("kind",)) == (4, 25 + len('"apiVersion":"v1",'))


def test_an_invalid_later_value_is_one_error_with_its_line(tmp_path: Path, lint_json) -> None:
    (tmp_path / "s.json").write_text(compact(pod("a", True)) + "\n\n{\"kind\": }\n")
    code, data = lint_json(str(tmp_path / "s.json"))
    assert code == 2
    assert [(e["line"], e["message"].split(":")[0]) for e in data["errors"]] == [(3, "invalid JSON")]
    assert [f["object"]["name"] for f in data["findings"]] == ["a"]


def test_bom_before_a_separator_is_an_error_as_in_kubectl(tmp_path: Path, lint_json) -> None:
    # `cat a.yaml b.yaml` of files with BOMs: kubectl fails on the whole file ("could not find
    # expected ':'"), so a BOM is stripped only after a separator, never before one.
    (tmp_path / "s.yaml").write_text("".join("\ufeff---\n" + yaml.safe_dump(pod(n)) for n in "ab"))
    code, data = lint_json(str(tmp_path))
    assert code == 2 and len(data["errors"]) == 1


def test_a_yaml_flow_mapping_is_still_yaml() -> None:
    # Starts with `{` but is no JSON: the YAML reading stays.
    docs = list(read_documents("{apiVersion: v1, kind: Pod}\n", "p.yaml"))
    assert [d.value for d in docs] == [{"apiVersion": "v1", "kind": "Pod"}]


NESTED = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: first}
  spec: {containers: []}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: inner}
    spec: {hostNetwork: true, containers: []}
"""


def test_list_inside_a_list_is_an_input_error(tmp_path: Path, lint_json) -> None:
    (tmp_path / "nested.yaml").write_text(NESTED)
    code, data = lint_json(str(tmp_path / "nested.yaml"))
    assert code == 2
    assert [(e["line"], e["message"]) for e in data["errors"]] == [
        (8, "item 1 of List is itself a List: kubectl cannot read a List inside a List")]
    assert data["findings"] == []


def test_kubectl_refuses_a_list_inside_a_list(tmp_path: Path) -> None:
    kubectl = tool("kubectl")
    (tmp_path / "nested.yaml").write_text(NESTED)
    proc = subprocess.run([kubectl, "label", "--local", "-f", str(tmp_path / "nested.yaml"), "x=y", "-o", "name"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "is not a list" in proc.stderr


@pytest.mark.parametrize(("api_version", "kind", "right"), [
    ("v1", "pod", "Pod"), ("apps/v1", "deployment", "Deployment"), ("v1", "SERVICE", "Service"),
    ("gateway.networking.k8s.io/v1", "httproute", "HTTPRoute"), ("v1", "configmap", "ConfigMap"),
])
def test_kind_in_the_wrong_case_is_reported(tmp_path: Path, lint_json, api_version: str, kind: str,
                                            right: str) -> None:
    (tmp_path / "p.yaml").write_text(f"apiVersion: {api_version}\nmetadata: {{name: x}}\nkind: {kind}\n"
                                     "spec: {hostNetwork: true, containers: []}\n")
    code, data = lint_json(str(tmp_path))
    assert code == 2
    assert [(e["line"], e["message"]) for e in data["errors"]] == [
        (3, f"kind {kind!r} is not a Kubernetes kind: kinds are case-sensitive, did you mean {right!r}?")]


def test_lower_case_kind_of_a_custom_group_is_not_ours_to_judge() -> None:
    from kexlint.engine import objects_of

    (doc,) = read_documents("apiVersion: example.com/v1\nkind: pod\nmetadata: {name: x}\n", "p.yaml")
    assert [obj.ref.kind for obj in objects_of(doc)] == ["pod"]


def test_bom_at_the_file_start_and_mid_stream_via_stdin(run_cli, monkeypatch) -> None:
    stream = ("\ufeff" + "---\n\ufeff".join(yaml.safe_dump(pod(n, n == "b")) for n in "ab")).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stream)))
    code, out, _ = run_cli("--no-config", "--format", "json", "-")
    data = json.loads(out)
    assert data["errors"] == [] and data["summary"]["objects"] == 2
    assert [f["object"]["name"] for f in data["findings"]] == ["b"]
