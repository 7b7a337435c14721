"""What people read from the text output and the rough edges around it: excerpts with a caret, the
fix once per rule, --quiet/--no-fix, the progress line, --color, -o, FIFOs, sockets and devices, empty JSON,
wording."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
\thostNetwork: true
  containers:
  - name: web
    image: nginx
""".replace("\t", "  ")


def _pods(folder: Path, count: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"pod{index}.yaml").write_text(POD.format(name=f"web{index}"))


def _kexlint(*args: str, cwd: Path, stdin: bytes | None = None, env: dict | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kexlint", *args], input=stdin, capture_output=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1",
                                                **(env or {})})


def test_source_line_and_caret_under_the_column(tmp_path: Path, run_cli) -> None:
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
                                       "  type: NodePort\n  ports: [{port: 80,\tnodePort: 80}]\n")
    code, out, _ = run_cli("--no-config", str(tmp_path / "svc.yaml"))
    lines = out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'svc.yaml'}:6:22: error node-port-range")
    assert lines[1] == "  6 |   ports: [{port: 80,\tnodePort: 80}]"
    # The caret sits under column 22; the tab before it stays a tab so it lines up in any terminal.
    assert lines[2] == "    | " + " " * 20 + "\t^"
    assert lines[2].index("^") == lines[1].index("nodePort") and code == 1


def test_fix_hint_once_per_rule_and_no_fix_and_quiet(tmp_path: Path, run_cli) -> None:
    _pods(tmp_path, 3)
    code, out, _ = run_cli("--no-config", str(tmp_path))
    assert code == 1
    assert out.count("  fix: ") == 1 and out.count(" error host-network ") == 3
    code, out, _ = run_cli("--no-config", "--no-fix", str(tmp_path))
    assert "fix:" not in out and out.count(" | ") == 6 and out.rstrip().endswith("from 3 files")
    code, out, _ = run_cli("--no-config", "--quiet", str(tmp_path))
    assert code == 1
    assert [line.split(":", 1)[0] for line in out.splitlines()] == [str(tmp_path / f"pod{i}.yaml") for i in range(3)]
    code, out, _ = run_cli("--no-config", "-q", str(ROOT / "examples" / "clean"))
    assert code == 0 and out == ""


def test_summary_wording_is_singular_for_one(tmp_path: Path, run_cli) -> None:
    _pods(tmp_path, 1)
    (tmp_path / "broken.yaml").write_text("a: [\n")
    _, out, _ = run_cli("--no-config", str(tmp_path))
    assert out.splitlines()[-1] == "1 error, 0 warnings, 0 suppressed, 1 input error in 1 object from 2 files"
    _, out, _ = run_cli("--no-config", "-f", "github", str(tmp_path))
    assert out.splitlines()[-1] == ("kexlint: 1 error, 0 warnings, 0 suppressed, 1 input error in 1 object "
                                    "from 2 files")


def test_progress_line_on_a_tty_only(tmp_path: Path) -> None:
    _pods(tmp_path, 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "KEXLINT_PROGRESS_DELAY": "0"}
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "kexlint", "--no-config", str(tmp_path)], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=follower, env=env)
        os.close(follower)
        follower = -1
        out, _ = proc.communicate(timeout=60)
        seen = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert b"kexlint: 1 file, 1 object linted" in seen
    assert seen.endswith(b"\r\x1b[K")  # erased before the report
    assert b"\x1b[K" not in out and proc.returncode == 1
    # Not a TTY: nothing on stderr.
    piped = _kexlint("--no-config", str(tmp_path), cwd=tmp_path, env={"KEXLINT_PROGRESS_DELAY": "0"})
    assert piped.stderr == b""


@pytest.mark.parametrize("args, colored", [
    (["--color"], True), (["--color", "always"], True), (["--color=never"], False),
    (["--color", "auto"], False), ([], False),
])
def test_color_choices_and_bare_color_never_swallows_a_path(tmp_path: Path, args, colored) -> None:
    _pods(tmp_path, 1)
    # `--color PATH`: the path is still linted (argparse would have taken it as the colour).
    done = _kexlint("--no-config", *args, "pod0.yaml", cwd=tmp_path, env={"NO_COLOR": ""})
    assert done.returncode == 1, done.stderr
    assert (b"\x1b[31merror" in done.stdout) is colored
    assert b"from 1 file" in done.stdout


def test_color_rejects_an_unknown_word_with_the_choices(tmp_path: Path, run_cli) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--color=sometimes", "x.yaml")
    assert exit_info.value.code == 2


@pytest.mark.parametrize("target", ["missing-dir/report.txt", "a-directory", "read-only/report.txt"])
def test_output_file_that_cannot_be_written_is_one_line(tmp_path: Path, target: str) -> None:
    _pods(tmp_path / "in", 1)
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "read-only").mkdir(mode=0o555)
    if target.startswith("read-only") and os.geteuid() == 0:
        # Root ignores a folder's mode, but sysfs lets nobody create a file: the same EACCES.
        if not Path("/sys/kernel").is_dir():
            pytest.skip("root writes into a read-only folder, and there is no /sys to refuse it")
        target = "/sys/kernel/report.txt"
    done = _kexlint("--no-config", "-o", target, "in", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kexlint: error: -o {target}: cannot write: ")
    assert b"Traceback" not in done.stderr
    if "report" in target and not target.startswith("missing"):
        assert lines[0].endswith("Permission denied")


def test_output_file_unwritable_as_root_via_a_file_in_the_way(tmp_path: Path) -> None:
    # Root ignores modes; a file where a folder should be fails for everybody.
    _pods(tmp_path / "in", 1)
    (tmp_path / "plain").write_text("")
    done = _kexlint("--no-config", "-o", "plain/report.txt", "in", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode() == "kexlint: error: -o plain/report.txt: cannot write: Not a directory\n"


def test_fifo_is_refused_named_or_met_in_a_directory(tmp_path: Path) -> None:
    _pods(tmp_path / "in", 1)
    os.mkfifo(tmp_path / "in" / "pipe.yaml")
    os.mkfifo(tmp_path / "named.yaml")
    done = _kexlint("--no-config", "named.yaml", "in", cwd=tmp_path, timeout=30)  # used to hang forever
    assert done.returncode == 2
    out = done.stdout.decode().splitlines()
    message = "error input refused: a FIFO, not a regular file (pipe it in with `-` instead)"
    assert f"in/pipe.yaml: {message}" in out and f"named.yaml: {message}" in out
    assert " error host-network " in done.stdout.decode()  # the rest is still linted


def test_sockets_and_devices_are_refused_named_or_met_in_a_directory(tmp_path: Path) -> None:
    _pods(tmp_path / "in", 1)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "in" / "agent.yaml"))  # a socket where a manifest would be
    try:
        done = _kexlint("--no-config", "/dev/null", "/dev/zero", "in", cwd=tmp_path, timeout=30)
    finally:
        listening.close()
    assert done.returncode == 2
    out = done.stdout.decode().splitlines()
    refused = "error input refused: {}, not a regular file (pipe it in with `-` instead)"
    assert f"in/agent.yaml: {refused.format('a socket')}" in out, out
    # /dev/zero would never end; /dev/null is refused like any other device.
    assert f"/dev/zero: {refused.format('a device')}" in out and f"/dev/null: {refused.format('a device')}" in out
    assert " error host-network " in done.stdout.decode()  # the rest is still linted


def test_dev_stdin_still_works(tmp_path: Path) -> None:
    done = _kexlint("--no-config", "/dev/stdin", cwd=tmp_path, stdin=POD.format(name="web").encode())
    assert done.returncode == 1, done.stdout + done.stderr
    assert b"/dev/stdin:6:3: error host-network" in done.stdout


def test_empty_json_is_like_empty_yaml(tmp_path: Path, run_cli) -> None:
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "blank.json").write_text("\n  \n")
    (tmp_path / "empty.yaml").write_text("")
    code, out, _ = run_cli("--no-config", "-f", "json", str(tmp_path))
    data = json.loads(out)
    assert code == 0 and data["errors"] == [] and data["summary"]["files"] == 3


def test_alias_bomb_config_fails_fast_with_one_line(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append("rules: {host-network: *a9}")
    (tmp_path / ".kexlint.yaml").write_text("\n".join(lines) + "\n")
    _pods(tmp_path / "in", 1)
    started = time.monotonic()
    done = _kexlint("in", cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 20  # used to take over 2.4 GiB and 30 s
    assert done.returncode == 2
    err = done.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith(f"kexlint: error: {tmp_path / '.kexlint.yaml'}:")
    assert "alias" in err[0]


def test_config_yaml_errors_still_name_file_and_line(tmp_path: Path, run_cli) -> None:
    config = tmp_path / ".kexlint.yaml"
    config.write_text("fail-on: error\nfail-on: warning\n")
    code, _, err = run_cli("--config", str(config), str(ROOT / "examples" / "clean"))
    assert code == 2 and err == f"kexlint: error: {config}:2:1: key 'fail-on' is written twice\n"
