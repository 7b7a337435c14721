"""`kexlint fix` on files as users keep them: JSON, hard links, modes, read-only files, mixed CRLF/LF."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from kexlint.cli import main

CRONJOB = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "nightly"},
           "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "a", "image": "a"}]}}}}}}
DEPLOYMENT_OLD = ("apiVersion: apps/v1beta1\r\n"
                  "kind: Deployment\n"
                  "metadata:\r\n"
                  "  name: web\n"
                  "spec:\n"
                  "  selector: {matchLabels: {app: web}}\r\n"
                  "  template:\n"
                  "    metadata: {labels: {app: web}}\n"
                  "    spec:\r\n"
                  "      containers: [{name: a, image: a}]\n")


def run_fix(*args: str) -> int:
    return main(["fix", "--no-config", *args])


def test_json_diff_exits_1_and_fix_rewrites_keeping_the_indent(tmp_path: Path, capsys) -> None:
    path = tmp_path / "cron.json"
    for indent in (2, 4):
        path.write_text(json.dumps(CRONJOB, indent=indent) + "\n")
        assert run_fix("--diff", str(path)) == 1  # used to exit 0 with the removed API still there
        assert '-  "apiVersion": "batch/v1beta1",' in capsys.readouterr().out.replace(" " * (indent - 2), "", 1)
        assert run_fix(str(path)) == 0
        assert path.read_text() == json.dumps({**CRONJOB, "apiVersion": "batch/v1"}, indent=indent) + "\n"
        assert run_fix("--diff", str(path)) == 0
    # One line stays one line; directories are searched for .json too.
    path.write_text(json.dumps(CRONJOB))
    assert run_fix(str(tmp_path)) == 0
    assert path.read_text() == json.dumps({**CRONJOB, "apiVersion": "batch/v1"})


def test_json_that_cannot_be_converted_exits_1_on_diff(tmp_path: Path, capsys) -> None:
    path = tmp_path / "psp.json"
    path.write_text(json.dumps({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
                                "metadata": {"name": "p"}, "spec": {}}, indent=2))
    assert run_fix("--diff", str(path)) == 1
    assert "not converted" in capsys.readouterr().err


def test_hard_links_and_mode_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "cron.json"
    path.write_text(json.dumps(CRONJOB, indent=2))
    os.chmod(path, 0o640)
    link = tmp_path / "link.json"
    os.link(path, link)
    assert run_fix(str(path)) == 0
    assert os.path.samefile(path, link) and "batch/v1\"" in link.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_read_only_file_is_refused_with_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "cron.json"
    text = json.dumps(CRONJOB, indent=2)
    path.write_text(text)
    os.chmod(path, 0o444)
    assert run_fix(str(path)) == 2
    assert capsys.readouterr().err == (f"kexlint fix: {path}: read-only file, left unchanged "
                                       "(make it writable to fix it)\n")
    assert path.read_text() == text and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert run_fix("--diff", str(path)) == 1  # only reading: allowed


def test_mixed_crlf_and_lf_keep_each_line_ending(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_bytes(DEPLOYMENT_OLD.encode())
    assert run_fix(str(path)) == 0
    new = path.read_bytes().decode()
    assert new == DEPLOYMENT_OLD.replace("apps/v1beta1", "apps/v1")
