"""--jobs: a pool of workers gives exactly the output of --jobs 1; small inputs never start one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kexlint.parallel import MIN_BYTES_ENV, TRACE_ENV, batches, default_jobs

POD = """apiVersion: v1
kind: Pod
metadata:
  name: pod-{i}
  namespace: ns-{ns}
spec:
  containers:
    - name: app
      image: nginx:1.27
      ports:
        - containerPort: 80
          hostPort: {host_port}
"""

SERVICE = """---
apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: ns-{ns}
spec:
  type: NodePort
  selector:
    app: a
  ports:
    - port: 80
      nodePort: {node_port}
"""


def make_corpus(folder: Path) -> None:
    """40 files whose hostPorts and nodePorts collide across files (so across workers), plus bad input."""
    for i in range(40):
        text = POD.format(i=i, ns=i % 3, host_port=8000 + i % 4) + SERVICE.format(
            i=i, ns=i % 3, node_port=30000 + i % 5)
        (folder / f"app-{i:02}.yaml").write_text(text)
    (folder / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n")
    (folder / "dupkey.yaml").write_text("apiVersion: v1\nkind: Pod\nkind: Pod\nmetadata:\n  name: dup\n")
    (folder / "cluster.yaml").write_text(SERVICE.format(i="live", ns=0, node_port=30001))


def kexlint(args: list[str], env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kexlint", "--no-config", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, input=stdin, check=False)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_2_output_is_byte_identical_to_jobs_1(tmp_path: Path, fmt: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_corpus(corpus)
    context = corpus / "cluster.yaml"
    args = ["-f", fmt, "--context", str(context), str(corpus), "-"]
    forced = {MIN_BYTES_ENV: "0", TRACE_ENV: "1"}
    stdin = SERVICE.format(i="stdin", ns=1, node_port=30002)
    one = kexlint(["--jobs", "1", *args], forced, stdin)
    two = kexlint(["--jobs", "2", *args], forced, stdin)
    assert "pool of 2 workers" in two.stderr  # else this compares the sequential path with itself
    # The fields of the conflicts were located in the workers, not in the parent.
    assert "documents located in the pool" in two.stderr
    assert "pool" not in one.stderr
    assert one.stdout == two.stdout
    assert one.returncode == two.returncode == 2  # broken.yaml is an input problem
    # The conflicts across files, the context and stdin were all found.
    for expected in ("host-port-conflict", "node-port-conflict", "duplicate-key", "broken.yaml", "<stdin>"):
        assert expected in one.stdout
    # The other side of a conflict is named by file and line, located after the workers' facts
    # are merged.
    assert re.search(r"also (bound|requested) by [^(]*\(" + re.escape(str(corpus)) + r"/app-\d\d\.yaml:\d+\)",
                     two.stdout)
    assert "\x00" not in two.stdout


def test_one_small_file_never_starts_a_pool(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD.format(i=0, ns=0, host_port=8080))
    # Even with the size threshold off: the workers are capped by the number of files.
    result = kexlint(["--jobs", "2", str(path)], {TRACE_ENV: "1", MIN_BYTES_ENV: "0"})
    assert result.returncode == 1, result.stderr  # the hostPort finding
    assert "host-port" in result.stdout
    assert "pool" not in result.stderr


def test_small_corpus_below_threshold_stays_in_parent(tmp_path: Path) -> None:
    make_corpus(tmp_path)
    result = kexlint(["--jobs", "2", str(tmp_path)], {TRACE_ENV: "1"})
    assert "pool" not in result.stderr


def test_bad_jobs_is_one_line_usage_error() -> None:
    result = kexlint(["--jobs", "0", "x.yaml"])
    assert result.returncode == 2
    assert "--jobs" in result.stderr and "Traceback" not in result.stderr


def test_default_jobs_is_at_least_one() -> None:
    assert default_jobs() >= 1


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kustomize rendering needs kubectl")
def test_kustomization_directory_with_jobs_2(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_corpus(corpus)
    (corpus / "broken.yaml").unlink()
    (corpus / "dupkey.yaml").unlink()
    (corpus / "cluster.yaml").unlink()
    kust = tmp_path / "kust"
    kust.mkdir()
    (kust / "kustomization.yaml").write_text("resources:\n  - svc.yaml\n")
    (kust / "svc.yaml").write_text(SERVICE.format(i="kust", ns=2, node_port=30003).removeprefix("---\n"))
    args = ["-f", "json", str(kust), str(corpus)]
    forced = {MIN_BYTES_ENV: "0", TRACE_ENV: "1"}
    one = kexlint(["--jobs", "1", *args], forced)
    two = kexlint(["--jobs", "2", *args], forced)
    assert "pool of 2 workers" in two.stderr
    assert one.stdout == two.stdout and one.returncode == two.returncode == 1
    assert "svc-kust" in one.stdout  # the rendered Service conflicts with the files' nodePort 30003


def test_batches_keep_the_order_and_never_span_an_item_of_the_parent(tmp_path: Path) -> None:
    names = []
    for index, size in enumerate([10, 10, 50, 10, 10, 10]):
        path = tmp_path / f"f{index}.yaml"
        path.write_text("#" * size)
        names.append(str(path))
    items = [names[0], names[1], "-", names[2], names[2], names[3], str(tmp_path / "missing.yaml"),
             names[4], names[5]]
    runs = batches(items, 1)
    # Every file in order, the same file named twice linted twice, runs starting where they say.
    assert [path for _, run in runs for path in run] == [item for item in items if item != "-"]
    for start, run in runs:
        assert items[start:start + len(run)] == run
    assert all("-" not in run for _, run in runs)
