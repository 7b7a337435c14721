"""Hostile input: bombs, deep nesting, huge and binary files, duplicate keys, merge keys, tags, odd
numbers and very many objects. Each gets a clear error or finding, fast and in bounded memory, as a
file, on stdin and (where it has a plain-object form) through Engine.check_object as the admission
webhook calls it; a good file linted alongside keeps its finding.

Time and memory are measured on a fresh `python -m kexlint` per case: its wall time minus the
interpreter's start-up (measured once on a trivial run), so a loaded CI machine does not turn import
time into failures, and its peak RSS as VmHWM, which the child writes at exit. Not ru_maxrss from
wait4/RUSAGE_CHILDREN: Linux carries the high-water mark across fork and exec, so it would report the
size of this pytest process (~120 MB once the 10 MB cases are built) rather than the linter's.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kexlint.config import Config
from kexlint.engine import Engine
from kexlint.findings import Finding
from kexlint.lint import Linter
from kexlint.loader import MAX_DEPTH, InputError
from kexlint.model import K8sObject, object_ref
from kexlint.registry import builtin_rules

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 2.0
MAX_RSS_MB = 200

GOOD_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  hostNetwork: true\n  containers: []\n"
HEAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: hostile}\n"


# --- running kexlint in a fresh process ----------------------------------------------------------

@dataclass
class Run:
    code: int
    data: dict[str, Any]
    seconds: float
    rss_mb: float
    stderr: str


# `python -m kexlint …` that writes its peak RSS (kB) to $KEXLINT_HWM when it exits.
_LAUNCH = """\
import atexit, os, runpy, sys
def _hwm():
    with open("/proc/self/status") as status, open(os.environ["KEXLINT_HWM"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_hwm)
sys.argv[0] = "kexlint"
runpy.run_module("kexlint", run_name="__main__", alter_sys=True)
"""


def _kexlint(args: list[str], stdin: Path | None = None) -> Run:
    with tempfile.TemporaryDirectory() as scratch, open(stdin or os.devnull, "rb") as source:
        hwm = Path(scratch) / "hwm"
        # PYTHONPATH: this tree, not whatever kexlint is installed.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KEXLINT_HWM": str(hwm)}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", _LAUNCH, "--no-config", "--format", "json", *args],
                              stdin=source, capture_output=True, cwd=ROOT, env=env, timeout=60)
        seconds = time.monotonic() - start
        rss_mb = int(hwm.read_text()) / 1024
    stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in stdout + stderr, stderr
    return Run(proc.returncode, json.loads(stdout), seconds, rss_mb, stderr)


@pytest.fixture(scope="module")
def startup(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Wall time of a trivial run: interpreter start-up and imports."""
    good = tmp_path_factory.mktemp("startup") / "good.yaml"
    good.write_text(GOOD_POD)
    return min(_kexlint([str(good)]).seconds for _ in range(2))


def _assert_bounded(run: Run, startup: float) -> None:
    assert run.seconds - startup < MAX_SECONDS, f"{run.seconds:.2f}s (start-up {startup:.2f}s)"
    assert run.rss_mb < MAX_RSS_MB, f"{run.rss_mb:.0f} MB"


def _good_finding_kept(run: Run, good: str) -> None:
    assert [(f["rule"], f["line"]) for f in run.data["findings"] if f["file"] == good] == [("host-network", 5)]


# --- the hostile texts ---------------------------------------------------------------------------

def _laughs(level: Callable[[str, str], str], first: str) -> str:
    """Nine levels, each repeating the previous one nine times: 9^9 values once expanded."""
    lines = [f"l0: &l0 {first}"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} {level(f'l{i - 1}', str(i))}")
    return "\n".join(lines) + "\n"


LIST_BOMB = _laughs(lambda prev, _: "[" + ", ".join([f"*{prev}"] * 9) + "]", "[" + ", ".join(["lol"] * 9) + "]")
MAP_BOMB = _laughs(lambda prev, _: "{" + ", ".join(f"k{j}: *{prev}" for j in range(9)) + "}",
                   "{" + ", ".join(f"k{j}: lol" for j in range(9)) + "}")
# Keys are aliases of anchored scalars (allowed), values aliases of the level before.
KEY_BOMB = "".join(f"- &k{j} key{j}\n" for j in range(9)).join(["keys:\n", ""]) + _laughs(
    lambda prev, _: "{" + ", ".join(f"*k{j} : *{prev}" for j in range(9)) + "}", "{a: lol}")
MERGE_BOMB = _laughs(lambda prev, i: "{<<: [" + ", ".join([f"*{prev}"] * 9) + f"], x{i}: [" +
                     ", ".join([f"*{prev}"] * 9) + "]}", "{" + ", ".join(f"k{j}: lol" for j in range(9)) + "}")
WIDE_BOMB = "wide: &w [" + ",".join(["x"] * 100_000) + "]\nrefs: [" + ",".join(["*w"] * 100) + "]\n"

DEPTH = 100_000
DEEPER = f"nesting deeper than {MAX_DEPTH} levels"


def _block_mapping(depth: int) -> str:
    # `a:` on ever deeper lines; indentation makes it quadratic in size, so a little past the limit
    # is what stands for 10^5.
    return "".join("  " * i + "a:\n" for i in range(1, depth + 1))


@dataclass(frozen=True)
class Case:
    text: bytes
    fragment: str  # of the one error message
    line: int  # of the error
    findings: tuple[tuple[str, int], ...] = ()  # (rule, line) expected besides the error, in this file


def _case(text: str | bytes, fragment: str, line: int, *findings: tuple[str, int]) -> Case:
    return Case(text.encode() if isinstance(text, str) else text, fragment, line, findings)


TEN_MB = 10 * 2**20
POD_HN = HEAD + "spec:\n  hostNetwork: true\n"

ERROR_CASES: dict[str, Case] = {
    "bomb-lists": _case(LIST_BOMB + HEAD, "alias bomb", 7),
    "bomb-mappings": _case(MAP_BOMB + HEAD, "alias bomb", 6),
    "bomb-alias-keys": _case(KEY_BOMB + HEAD, "alias bomb", 17),
    "alias-key-to-a-list": _case("l: &l [a, b]\nm: {*l : x}\n" + HEAD, "mapping keys must be scalars", 2),
    "complex-key": _case(HEAD + "spec:\n  ? {a: b}\n  : x\n", "mapping keys must be scalars", 5),
    "bomb-merge-keys": _case(MERGE_BOMB + HEAD, "alias bomb", 5),
    "bomb-wide": _case(WIDE_BOMB + HEAD, "alias bomb", 2),
    # The first document is still linted; the bomb is in the second.
    "bomb-in-later-document": _case(POD_HN + "---\n" + LIST_BOMB + HEAD, "alias bomb", 13, ("host-network", 5)),
    "deep-flow-sequence": _case(HEAD + "spec: " + "[" * DEPTH + "]" * DEPTH + "\n", DEEPER, 4),
    "deep-flow-mapping": _case(HEAD + "spec: " + "{a: " * DEPTH + "1" + "}" * DEPTH + "\n",
                               DEEPER, 4),
    "deep-block-mapping": _case(HEAD + "spec:\n" + _block_mapping(MAX_DEPTH + 100), DEEPER, MAX_DEPTH + 4),
    "deep-block-sequence": _case(HEAD + "spec:\n  " + "- " * DEPTH + "x\n", DEEPER, 5),
    "ten-mb-flow-mapping-of-keys": _case(
        HEAD + "spec: {" + ", ".join(f"k{i}: v" for i in range(TEN_MB // 10)) + "}\n",
        "a mapping with more than 250,000 entries", 4),
    "binary": _case(random.Random(5).randbytes(64 * 1024), "not a text file", 1),
    "utf16le-without-bom": _case(POD_HN.encode("utf-16-le"), "UTF-16 text without a byte order mark", 1),
    "utf16be-without-bom": _case(POD_HN.encode("utf-16-be"), "UTF-16 text without a byte order mark", 1),
    "invalid-utf8": _case(HEAD.encode() + b"spec: {a: \xc3\x28}\n", "invalid UTF-8", 4),
    "nul-in-the-middle": _case(HEAD.encode() + b"spec:\n  host\x00Network: true\n", "#x0000 is not allowed", 5),
}
JSON_ERROR_CASES: dict[str, Case] = {
    "deep-json-array": _case('{"apiVersion": "v1", "kind": "Pod", "spec": ' + "[" * DEPTH + "]" * DEPTH + "}",
                             "nesting too deep", 1),
    "deep-json-object": _case('{"apiVersion": "v1", "kind": "Pod", "spec": ' + '{"a": ' * DEPTH + "1" +
                              "}" * DEPTH + "}", "nesting too deep", 1),
}
FINDING_CASES: dict[str, Case] = {
    "ten-mb-plain-scalar": _case(HEAD.replace("{name: hostile}", "{name: hostile, annotations: {a: " + "x" * TEN_MB
                                              + "}}") + "spec:\n  hostNetwork: true\n", "", 0, ("host-network", 5)),
    "ten-mb-flow-mapping-line": _case("{apiVersion: v1, kind: Pod, metadata: {name: p, annotations: {a: " + "x" * TEN_MB
                                      + "}}, spec: {hostNetwork: true}}\n", "", 0, ("host-network", 1)),
    "utf16-with-bom": _case(POD_HN.encode("utf-16"), "", 0, ("host-network", 5)),
}


def _check(run: Run, name: str, case: Case, good: str) -> None:
    mine = [e for e in run.data["errors"] if e["file"] == name]
    if case.fragment:
        assert run.code == 2
        assert len(mine) == 1, mine
        assert case.fragment in mine[0]["message"] and "\n" not in mine[0]["message"], mine[0]
        assert mine[0]["line"] == case.line, mine[0]
    else:
        assert mine == []
    assert [(f["rule"], f["line"]) for f in run.data["findings"] if f["file"] == name] == list(case.findings)
    _good_finding_kept(run, good)


ALL_CASES = {**ERROR_CASES, **FINDING_CASES}


@pytest.mark.parametrize("name", sorted(ALL_CASES) + sorted(JSON_ERROR_CASES))
def test_hostile_file(tmp_path: Path, startup: float, name: str) -> None:
    case = ALL_CASES.get(name) or JSON_ERROR_CASES[name]
    path = tmp_path / (name + (".json" if name in JSON_ERROR_CASES else ".yaml"))
    path.write_bytes(case.text)
    good = tmp_path / "zz-good.yaml"
    good.write_text(GOOD_POD)
    run = _kexlint([str(path), str(good)])
    _check(run, str(path), case, str(good))
    _assert_bounded(run, startup)


@pytest.mark.parametrize("name", sorted(ALL_CASES) + sorted(JSON_ERROR_CASES))
def test_hostile_stdin(tmp_path: Path, startup: float, name: str) -> None:
    case = ALL_CASES.get(name) or JSON_ERROR_CASES[name]
    path = tmp_path / "input"
    path.write_bytes(case.text)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_POD)
    run = _kexlint(["--stdin-filename", "in", "-", str(good)], stdin=path)
    _check(run, "in", case, str(good))
    _assert_bounded(run, startup)


def test_hundred_mb_refused_as_file_and_on_stdin(tmp_path: Path, startup: float) -> None:
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.truncate(100 * 2**20)  # sparse: NUL bytes
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_POD)
    for args, stdin, name in (([str(huge), str(good)], None, str(huge)),
                              (["-", str(good)], huge, "<stdin>")):
        run = _kexlint(args, stdin)
        assert run.code == 2
        assert [e["message"] for e in run.data["errors"] if e["file"] == name] == [
            "file is 100.0 MiB, over the 64 MiB limit (raise it with --max-file-size)"] or stdin is not None
        assert any("over the 64 MiB limit" in e["message"] for e in run.data["errors"])
        _good_finding_kept(run, str(good))
        _assert_bounded(run, startup)


def test_raised_max_file_size_reads_the_file_and_stays_bounded(tmp_path: Path, startup: float) -> None:
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.truncate(100 * 2**20)
    run = _kexlint(["--max-file-size", "200", str(huge)])
    # 100 MiB of NUL: read and decoded, then refused at its first character. Reading and decoding
    # 100 MiB is the cost here, so only the error and a sane ceiling are asserted.
    assert run.code == 2
    assert "#x0000 is not allowed" in run.data["errors"][0]["message"]
    assert run.seconds - startup < 10
    assert run.rss_mb < 600


# --- in-process: duplicates, merges, tags, numbers ------------------------------------------------

def _lint(tmp_path: Path, lint_json, name: str, text: str) -> tuple[int, dict]:
    (tmp_path / name).write_text(text)
    (tmp_path / "zz-good.yaml").write_text(GOOD_POD)
    code, data = lint_json(str(tmp_path))
    _good_finding_kept(Run(code, data, 0, 0, ""), str(tmp_path / "zz-good.yaml"))
    return code, data


def _rules(data: dict, name: str) -> list[tuple[str, int]]:
    return [(f["rule"], f["line"]) for f in data["findings"] if f["file"].endswith("/" + name)]


POD_WITH_PORTS = """\
apiVersion: v1
kind: Pod
metadata:
  name: dup
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - containerPort: 80
"""

DUPLICATES_YAML = {
    # where: (text, line of the repeated key)
    "top level": (POD_WITH_PORTS.replace("kind: Pod\n", "kind: Pod\nkind: Pod\n"), 3),
    "metadata": (POD_WITH_PORTS.replace("  name: dup\n", "  name: dup\n  name: dup2\n"), 5),
    "spec": (POD_WITH_PORTS.replace("spec:\n", "spec:\n  restartPolicy: Always\n  restartPolicy: Never\n"), 7),
    "containers item": (POD_WITH_PORTS.replace("    image: nginx\n", "    image: nginx\n    image: redis\n"), 9),
    "ports item": (POD_WITH_PORTS + "      containerPort: 81\n", 11),
    "flow mapping": (POD_WITH_PORTS.replace("name: dup\n", "name: dup\n  labels: {a: 1, b: 2, a: 3}\n"), 5),
}


@pytest.mark.parametrize("where", sorted(DUPLICATES_YAML))
def test_duplicate_keys_yaml(tmp_path: Path, lint_json, where: str) -> None:
    text, line = DUPLICATES_YAML[where]
    _, data = _lint(tmp_path, lint_json, "dup.yaml", text)
    assert ("duplicate-key", line) in _rules(data, "dup.yaml")
    assert [rule for rule, _ in _rules(data, "dup.yaml")].count("duplicate-key") == 1


DUPLICATES_JSON = {
    "top level": ('{"apiVersion": "v1",\n "kind": "Pod",\n "kind": "Pod",\n "metadata": {"name": "d"}}', 3),
    "metadata": ('{"apiVersion": "v1", "kind": "Pod",\n "metadata": {"name": "d",\n  "name": "e"}}', 3),
    "spec": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"},\n "spec": {"hostNetwork": false,\n'
             '  "hostNetwork": true}}', 3),
    "containers item": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"},\n "spec": {"containers": [\n'
                        '  {"name": "c",\n   "name": "d"}]}}', 4),
    "ports item": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"},\n "spec": {"containers": [\n'
                   '  {"name": "c", "ports": [{"containerPort": 80,\n    "containerPort": 81}]}]}}', 4),
}


@pytest.mark.parametrize("where", sorted(DUPLICATES_JSON))
def test_duplicate_keys_json(tmp_path: Path, lint_json, where: str) -> None:
    text, line = DUPLICATES_JSON[where]
    _, data = _lint(tmp_path, lint_json, "dup.json", text)
    assert [r for r in _rules(data, "dup.json") if r[0] == "duplicate-key"] == [("duplicate-key", line)]


HOSTNET = "hn: &hn {hostNetwork: true}\n"
HOSTPORT = "hp: &hp {containerPort: 80, hostPort: 8080}\n"
MERGES = {
    # name: (text, expected (rule, line) findings)
    "alias": (HOSTNET + HEAD + "spec:\n  <<: *hn\n", [("host-network", 6)]),
    "list of aliases": (HOSTNET + "x: &x {dnsPolicy: Default}\n" + HEAD + "spec:\n  <<: [*x, *hn]\n",
                        [("host-network", 7)]),
    "inline mapping": (HEAD + "spec:\n  <<: {hostNetwork: true}\n", [("host-network", 5)]),
    "nested merge": (HOSTNET + "mid: &mid {<<: *hn}\n" + HEAD + "spec:\n  <<: *mid\n", [("host-network", 7)]),
    "tagged !!merge": (HOSTNET + HEAD + "spec:\n  !!merge <<: *hn\n", [("host-network", 6)]),
    # go-yaml v2 (kubectl, the apiserver) applies the merge where it is written: it overrides the
    # explicit false before it...
    "merge after explicit false": (HOSTNET + HEAD + "spec:\n  hostNetwork: false\n  <<: *hn\n",
                                   [("host-network", 7)]),
    # ...and is overridden by an explicit false after it.
    "explicit false after merge": (HOSTNET + HEAD + "spec:\n  <<: *hn\n  hostNetwork: false\n", []),
    "hostPort": (HOSTPORT + HEAD + "spec:\n  containers:\n  - name: c\n    ports:\n    - <<: *hp\n",
                 [("host-port", 9)]),
    "hostPort in a list merge": (HOSTPORT + "n: &n {name: http}\n" + HEAD +
                                 "spec:\n  containers:\n  - name: c\n    ports:\n    - <<: [*n, *hp]\n",
                                 [("host-port", 10)]),
    # A quoted '<<' is an ordinary key for go-yaml too: no merge, no finding, no error.
    "quoted key": (HOSTNET + HEAD + "spec:\n  '<<': *hn\n", []),
}


@pytest.mark.parametrize("name", sorted(MERGES))
def test_merge_keys_cannot_hide_exposure(tmp_path: Path, lint_json, name: str) -> None:
    text, expected = MERGES[name]
    _, data = _lint(tmp_path, lint_json, "merge.yaml", text)
    assert data["errors"] == []
    assert _rules(data, "merge.yaml") == expected


MARKER = Path(tempfile.gettempdir()) / "kexlint-hostile-pwned"
TAGS = {
    # name: (value written at spec, error fragment or None when it is read as data)
    "python/object/apply": (f"!!python/object/apply:os.system ['touch {MARKER}']", "unsupported YAML tag"),
    "python/object/apply mapping": (f"!!python/object/apply:os.system {{args: ['touch {MARKER}']}}",
                                    "unsupported YAML tag"),
    "python/object/new": (f"!!python/object/new:subprocess.check_call [[touch, '{MARKER}']]", "unsupported YAML tag"),
    "python/name": ("!!python/name:os.system", "unsupported YAML tag"),
    "python/name as a key": ("{!!python/name:os.system x: 1}", "unsupported YAML tag"),
    "binary": ("{hostNetwork: true, data: !!binary aGVsbG8=}", None),
    "set": ("!!set {hostNetwork, x}", None),
    "custom mapping": ("!foo {hostNetwork: true}", "unsupported YAML tag '!foo'"),
    "custom scalar": ("{hostNetwork: !foo true}", "unsupported YAML tag '!foo'"),
    "bad !!int": ("{hostNetwork: !!int abc}", "is not a valid int"),
    "bad !!bool": ("{hostNetwork: !!bool abc}", "is not a valid bool"),
    "bad !!float": ("{hostNetwork: !!float abc}", "is not a valid float"),
}


@pytest.mark.parametrize("name", sorted(TAGS))
def test_tags_never_construct_anything(tmp_path: Path, lint_json, name: str) -> None:
    MARKER.unlink(missing_ok=True)
    value, fragment = TAGS[name]
    _, data = _lint(tmp_path, lint_json, "tags.yaml", HEAD + f"spec: {value}\n")
    assert not MARKER.exists()
    errors = [e for e in data["errors"] if e["file"].endswith("tags.yaml")]
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0]["message"] and errors[0]["line"] == 4, errors


NUMBERS = {
    # (containerPort, hostPort) as written → the invalid-spec messages expected
    "huge int": ("80", "99999999999999999999999999", ["hostPort 99999999999999999999999999 is outside 0-65535"]),
    # Integral floats reach the apiserver as JSON numbers that decode into int32 (issue 11).
    "float": ("8080.0", "8080.0", []),
    "exponent": ("8.08e3", "8.08e+3", []),
    "fraction": ("8080.5", "80.25", ["containerPort must be an integer, not number 8080.5",
                                     "hostPort must be an integer, not number 80.25"]),
    "inf": (".inf", "-.inf", ["containerPort must be an integer, not number inf",
                              "hostPort must be an integer, not number -inf"]),
    "nan": (".nan", ".NaN", ["containerPort must be an integer, not number nan",
                             "hostPort must be an integer, not number nan"]),
    "booleans": ("true", "yes", ["containerPort must be an integer, not boolean true",
                                 "hostPort must be an integer, not boolean true"]),
    "strings": ('"80"', "'8080'", ["containerPort must be an integer, not string '80'",
                                   "hostPort must be an integer, not string '8080'"]),
    "null": ("null", "~", ["containerPort must be an integer, not null"]),
    "negative": ("-1", "-8080", ["containerPort -1 is outside 1-65535", "hostPort -8080 is outside 0-65535"]),
}


def _port_pod(container_port: str, host_port: str) -> str:
    return POD_WITH_PORTS.replace("containerPort: 80\n", f"containerPort: {container_port}\n"
                                  f"      hostPort: {host_port}\n")


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_odd_port_numbers_are_invalid_spec(tmp_path: Path, lint_json, name: str) -> None:
    container_port, host_port, messages = NUMBERS[name]
    _, data = _lint(tmp_path, lint_json, "ports.yaml", _port_pod(container_port, host_port))
    assert data["errors"] == []
    found = [f["message"] for f in data["findings"] if f["rule"] == "invalid-spec"]
    assert found == messages


def test_integer_past_python_digit_limit_is_an_error(tmp_path: Path, lint_json) -> None:
    _, data = _lint(tmp_path, lint_json, "ports.yaml", _port_pod("80", "9" * 5000))
    assert [(e["line"], "not a valid int" in e["message"]) for e in data["errors"]] == [(11, True)]


def test_service_ports_odd_numbers(tmp_path: Path, lint_json) -> None:
    text = ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  ports:\n"
            "  - port: .nan\n    nodePort: 99999999999999999999999999\n  - port: true\n    nodePort: '30000'\n"
            "  - port: null\n    nodePort: 3.0e4\n")
    _, data = _lint(tmp_path, lint_json, "svc.yaml", text)
    assert data["errors"] == []
    assert [(f["line"], f["message"]) for f in data["findings"] if f["rule"] == "invalid-spec"] == [
        (7, "port must be an integer, not number nan"),
        (8, "nodePort 99999999999999999999999999 is outside 0-65535"),
        (9, "port must be an integer, not boolean true"),
        (10, "nodePort must be an integer, not string '30000'"),
        (11, "port must be an integer, not null"),
        # 3.0e4 is go-yaml's float 30000, a JSON number that decodes into int32: valid (issue 11).
    ]


# --- plain objects through the engine, as the webhook passes them ----------------------------------

@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(builtin_rules(), Config())


def _nested(depth: int, leaf: Any, mapping: bool) -> Any:
    value = leaf
    for _ in range(depth):  # built iteratively: json.loads itself stops at ~1000 levels
        value = {"a": value} if mapping else [value]
    return value


def _pod(spec: Any, metadata: Any = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata or {"name": "p"}, "spec": spec}


def _service(spec: dict[str, Any], annotations: Any = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "annotations": annotations or {}},
            "spec": spec}


def _deep(mapping: bool) -> Any:
    return _nested(DEPTH, 1, mapping)


DEEP_OBJECTS: dict[str, Callable[[], dict[str, Any]]] = {
    "spec": lambda: _pod(_deep(True)),
    "hostNetwork": lambda: _pod({"hostNetwork": _deep(False)}),
    "containers": lambda: _pod({"containers": _deep(False)}),
    "ports": lambda: _pod({"containers": [{"name": "c", "ports": _deep(False)}]}),
    "hostPort": lambda: _pod({"containers": [{"name": "c", "ports": [
        {"containerPort": 80, "hostPort": _deep(False)}]}]}),
    "name and kind": lambda: {"apiVersion": _deep(False), "kind": _deep(True), "metadata": {"name": _deep(False)}},
    "annotations": lambda: _pod({}, {"name": "p", "annotations": {"ignore.kexlint.io/host-network": _deep(True)}}),
    "service fields": lambda: _service({
        "type": "LoadBalancer", "ports": [{"port": _deep(False), "nodePort": _deep(True), "protocol": _deep(False)}],
        "loadBalancerSourceRanges": _deep(False), "externalIPs": [_deep(True)]}),
    "service annotation": lambda: _service({"type": "LoadBalancer"}, {
        "service.beta.kubernetes.io/load-balancer-source-ranges": _deep(False)}),
    "ingress": lambda: {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
                        "spec": {"tls": [_deep(True)], "rules": _deep(False)}},
}


@pytest.mark.parametrize("name", sorted(DEEP_OBJECTS))
def test_engine_deep_object_is_a_finding_or_clear_error(engine: Engine, name: str) -> None:
    value = DEEP_OBJECTS[name]()
    start = time.monotonic()
    try:
        findings = engine.check_object(K8sObject(value, object_ref(value)))
    except InputError as err:
        assert "nests too deeply to be checked" in err.message
    else:
        assert all(isinstance(f, Finding) and f.message for f in findings)
    assert time.monotonic() - start < MAX_SECONDS


def test_engine_deep_json_body_fails_in_json_loads_only() -> None:
    # What the webhook must turn into a clean refusal: the json module's own limit.
    with pytest.raises(RecursionError):
        json.loads('{"spec": ' + "[" * DEPTH + "]" * DEPTH + "}")


def test_engine_shared_reference_bomb(engine: Engine) -> None:
    # A Python caller can build what an alias bomb expands to, without the expansion: 9^9 paths.
    value: Any = ["lol"] * 9
    for _ in range(8):
        value = [value] * 9
    pod = _pod({"hostNetwork": True, "containers": [{"name": "c", "args": value}] * 9, "volumes": value},
               {"name": "p", "annotations": {"a": value}})
    start = time.monotonic()
    findings = engine.check_object(K8sObject(pod, object_ref(pod)))
    assert time.monotonic() - start < MAX_SECONDS
    assert [f.rule for f in findings] == ["host-network"]


HOST_PORT_8080 = "hostPort 8080 publishes this container port on the IP of whichever node runs the pod"
JSON_BODIES = {
    # JSON-decoded admission objects with odd numbers: (json text of the port, expected message)
    "huge int": ("99999999999999999999999999", "hostPort 99999999999999999999999999 is outside 0-65535"),
    # An integral JSON number decodes into the int32 field: a host port, not a type error (issue 11).
    "float": ("8080.0", "host-port:" + HOST_PORT_8080),
    "exponent": ("8.08e3", "host-port:" + HOST_PORT_8080),
    "fraction": ("8080.5", "hostPort must be an integer, not number 8080.5"),
    "boolean": ("true", "hostPort must be an integer, not boolean true"),
    "string": ('"8080"', "hostPort must be an integer, not string '8080'"),
    "list": ("[8080]", "hostPort must be an integer, not a list"),
}


@pytest.mark.parametrize("name", sorted(JSON_BODIES))
def test_engine_json_body_odd_ports(engine: Engine, name: str) -> None:
    port, message = JSON_BODIES[name]
    value = json.loads('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
                       f'[{{"name": "c", "ports": [{{"containerPort": 80, "hostPort": {port}}}]}}]}}}}')
    findings = engine.check_object(K8sObject(value, object_ref(value)))
    rule, _, message = message.rpartition(":") if message.startswith("host-port:") else ("invalid-spec", "", message)
    assert message in [f.message for f in findings if f.rule == rule]
    assert all(f.line is None for f in findings)


def test_engine_merged_value_fires(engine: Engine) -> None:
    # The webhook gets JSON, which has no merge keys: what a merge produced arrives as a plain field.
    from kexlint.loader import read_documents

    doc = next(iter(read_documents(MERGES["merge after explicit false"][0], "m.yaml")))
    assert not isinstance(doc, InputError)
    value = json.loads(json.dumps(doc.value))
    assert [f.rule for f in engine.check_object(K8sObject(value, object_ref(value)))] == ["host-network"]


# --- many objects: conflict detection stays linear-ish --------------------------------------------

def _many_containers(n: int) -> str:
    lines = ["apiVersion: apps/v1", "kind: DaemonSet", "metadata: {name: big}", "spec:", "  template:",
             "    spec:", "      containers:"]
    for c in range(n):
        lines.append(f"      - name: c{c}")
        lines.append("        ports:")
        for p in range(4):
            port = 1024 + (c * 4 + p) % 20000  # repeats once n > 5000: in-pod conflicts too
            lines.append(f"        - {{containerPort: {port}, hostPort: {port}}}")
    return "\n".join(lines) + "\n"


def _many_services(n: int) -> str:
    docs = []
    for i in range(n):
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\nspec:\n  type: NodePort\n"
                    f"  ports:\n  - port: 80\n    nodePort: {30000 + i % 2767}\n")
    return "---\n".join(docs)


def _lint_seconds(text: str) -> tuple[float, int]:
    linter = Linter(Engine(builtin_rules(), Config()))
    start = time.monotonic()
    linter.lint_text(text, "many.yaml")
    result = linter.finish()
    assert result.problems == []
    return time.monotonic() - start, len(result.findings)


@pytest.mark.parametrize("build,n", [(_many_containers, 1250), (_many_services, 5000)],
                         ids=["containers-x4-ports", "nodeport-services"])
def test_conflict_detection_scales_linearly(build: Callable[[int], str], n: int) -> None:
    small, big = build(n), build(4 * n)  # 4N: 5,000 containers × 4 ports; 20,000 Services
    _lint_seconds(small)  # warm caches (rule modules, compiled schemas)
    t_small, f_small = _lint_seconds(small)
    t_big, f_big = _lint_seconds(big)
    # One object's findings per rule are capped (engine.MAX_FINDINGS_PER_RULE): equal counts are fine.
    assert f_big >= f_small > 0
    # Quadratic would be 16x; allow for noise on a shared machine.
    assert t_big / max(t_small, 0.05) < 8, (t_small, t_big)
    assert t_big < 20
