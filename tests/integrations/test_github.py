"""`--format github`: workflow commands the Actions runner parses back to exactly what we meant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_kexlint

_COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def _unescape(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    # The runner's order: each escape sequence in turn, %25 last (ActionCommand.Unescape*).
    for token, escaped in mappings:
        text = text.replace(escaped, token)
    return text


DATA = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
PROPERTY = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command line as the runner reads it: command, properties, message."""
    match = _COMMAND.match(line)
    assert match, f"not a workflow command: {line!r}"
    props: dict[str, str] = {}
    for item in (match.group(2) or "").split(","):
        key, _, value = item.partition("=")
        assert key and value, f"bad property {item!r} in {line!r}"
        props[key] = _unescape(value, PROPERTY)
    return match.group(1), props, _unescape(match.group(3), DATA)


def _annotations(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    lines = stdout.splitlines()
    assert lines[-1].startswith("kexlint: "), "the summary is a plain log line"
    return [parse(line) for line in lines[:-1]]


def test_tricky_names_and_messages_round_trip(tmp_path: Path) -> None:
    # A file name with the property separators and an escape-looking sequence, and an object name
    # with % sequences, a colon and a comma: all must come back verbatim, on one line each.
    name = "odd dir/we%0Aird,na:me%25.yaml"
    manifest = ('apiVersion: v1\nkind: Pod\nmetadata:\n  name: "p%0D%,x:y"\nspec:\n  hostNetwork: true\n'
                "  containers:\n  - name: c\n    image: x\n")
    done = run_kexlint("-f", "github", "--no-config", "--stdin-filename", name, "-", stdin=manifest, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    [(command, props, message)] = _annotations(done.stdout)
    assert command == "error"
    assert props == {"file": name, "line": "6", "col": "3", "title": "kexlint host-network"}
    first, second = message.split("\n")
    assert first.endswith("(Pod p%0D%,x:y)")
    assert second.startswith("fix: Remove `hostNetwork: true`")


def test_newlines_in_a_file_name_stay_on_one_line(tmp_path: Path) -> None:
    manifest = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  ports:\n" \
               "  - port: 80\n    nodePort: 80\n"
    done = run_kexlint("-f", "github", "--no-config", "--stdin-filename", "a\r\nb.yaml", "-", stdin=manifest,
                       cwd=tmp_path)
    annotations = _annotations(done.stdout)
    assert annotations and all(props["file"] == "a\r\nb.yaml" for _, props, _ in annotations)
    assert {command for command, _, _ in annotations} <= {"error", "warning", "notice"}


def test_levels_and_input_errors(tmp_path: Path) -> None:
    (tmp_path / "ing.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n"
        "  - host: web.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n"
        "        backend: {service: {name: web, port: {number: 80}}}\n")
    (tmp_path / "bad.yaml").write_text("kind: [\n")
    done = run_kexlint("-f", "github", "--no-config", "ing.yaml", "bad.yaml", cwd=tmp_path)
    annotations = _annotations(done.stdout)
    by_title = {props["title"]: (command, props) for command, props, _ in annotations}
    assert by_title["kexlint ingress-tls"][0] == "warning"
    command, props = by_title["kexlint: input error"]
    assert command == "error" and props["file"] == "bad.yaml" and props["line"] == "2"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_rendered_sources_are_annotated_on_the_kustomization_file(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (tmp_path / "base" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n"
        "  containers: [{name: c, image: x}]\n")
    done = run_kexlint("-f", "github", "--no-config", "base", cwd=tmp_path)
    [(command, props, message)] = _annotations(done.stdout)
    assert props == {"file": "base/kustomization.yaml", "title": "kexlint host-network"}
    match = re.match(r"base \(kustomize\), line (\d+) of the rendered output: hostNetwork: true", message)
    assert match, message
    # The line is one of `kubectl kustomize base`'s output, which kustomize reformats.
    rendered = subprocess.run(["kubectl", "kustomize", "base"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120).stdout.splitlines()
    assert rendered[int(match.group(1)) - 1].strip() == "hostNetwork: true"
