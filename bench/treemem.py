"""Peak memory of a process and all its descendants together, sampled from /proc.

ru_maxrss is one process's own peak: it cannot see a pool's workers, and summing the workers' RSS
counts the pages they share with the parent after fork once per process. PSS (proportional set
size, /proc/PID/smaps_rollup) splits each shared page between the processes mapping it, so the sum
over the tree is the memory the tree really holds. Sampled every few milliseconds from a thread of
the harness; a peak shorter than the interval can be missed.
"""

from __future__ import annotations

import os
import threading
import time


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass  # exited between listing and reading
    return 0


def tree_pss_kib(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kib(pid)
        todo.extend(_children(pid))
    return total


def available() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/smaps_rollup") and bool(
        os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"))


class PeakSampler:
    """with PeakSampler(pid) as peak: ... ; peak.kib is the largest tree PSS seen."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid = pid
        self.interval = interval
        self.kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            self.kib = max(self.kib, tree_pss_kib(self.pid))
            self.samples += 1
            # Reading smaps_rollup walks the page tables: every 5 ms of a 700 MB checkov took a
            # quarter of a core. A run of minutes is sampled more sparsely (0.5% of its age so far).
            time.sleep(max(self.interval, (time.perf_counter() - start) / 200))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
