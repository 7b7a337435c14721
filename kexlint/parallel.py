"""`--jobs N`: lint files in worker processes, conclude the cross-object rules in the parent.

Workers get paths (never contents), lint them with a fresh Run and send back their LintResult and
Facts; the parent merges both in the order the files were named, so the sorted output is the one
`--jobs 1` gives. stdin and rendered sources (kustomize directories) stay in the parent: stdin can
be read only once, and a render is one stream anyway.

The pool uses the "fork" context: the Engine (rules loaded, schemas compiled) is inherited rather
than pickled or rebuilt in every worker, which is most of the start-up cost that decides whether a
pool pays off. The CLI starts no threads before linting, so fork's hazard (locks held by other
threads) does not arise. Where fork is missing (Windows) the files are linted in the parent.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

from .engine import Engine, Facts
from .lint import STDIN, Linter, LintResult

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any, BinaryIO

# Below this many bytes of files a pool costs more than it saves (forking, then merging and
# locating in the parent). bench/crossover.py, whole CLI wall time on 2 cores shared with other work
# (load average ~2, 2026-12-02), --jobs 2 / --jobs 1 on the first N medium files: 327 KB 1.27-1.37,
# 671 KB 1.54-1.76, 883 KB 1.24, 1.1 MB 1.00-1.26, 2.4 MB 1.05-1.26; 18 MB 0.7. An earlier, quieter
# measurement broke even near 250 KB. 1 MiB: where a loaded machine starts to break even, so a
# pre-commit run on a few files never waits for a pool; above it the pool's loss is small either way.
POOL_MIN_BYTES = 1024 * 1024
# Set to print "kexlint: pool of N workers" on stderr when a pool starts (tests, diagnosis).
TRACE_ENV = "KEXLINT_TRACE_POOL"
# Overrides POOL_MIN_BYTES, so that tests can run a pool on a small corpus.
MIN_BYTES_ENV = "KEXLINT_POOL_MIN_BYTES"

# Set in the parent just before the fork; workers inherit it.
_WORKER: tuple[Engine, dict[str, Any]] | None = None


def default_jobs() -> int:
    """The cores this process may run on, not the machine's (cgroups and taskset narrow them)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def in_parent(path: str) -> bool:
    """stdin, and sources rendered by helm or kubectl (directories, chart archives)."""
    return path == STDIN or os.path.isdir(path) or path.endswith((".tgz", ".tar.gz"))


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reported by the worker's read, as today


def _can_fork() -> bool:
    # Imported only once a pool may start: multiprocessing costs ~8 ms of a one-file lint.
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _lint_file(path: str) -> tuple[LintResult, Facts]:
    assert _WORKER is not None
    engine, options = _WORKER
    linter = Linter(engine, **options)
    linter.lint_path(path)
    return linter.result, linter.run.facts


def _merge(into: Linter, result: LintResult, facts: Facts) -> None:
    mine = into.result
    mine.findings.extend(result.findings)
    mine.problems.extend(result.problems)
    mine.files += result.files
    mine.objects += result.objects
    mine.origins.update(result.origins)
    mine.seen.extend(result.seen)
    mine.skipped.extend(result.skipped)
    mine.templates.update(result.templates)
    mine.excerpts.update(result.excerpts)
    into.run.merge_facts(facts)


def lint_items(linter: Linter, items: Iterable[Any], jobs: int | None, stdin: BinaryIO | None,
               stdin_name: str, tick: Callable[[], None] = lambda: None) -> None:
    """Lint expand_paths' items (paths, InputProblems, Skipped) into linter, with up to `jobs`
    workers (None: default_jobs()); tick() after each item, for the progress line."""
    items = list(items)
    files = [item for item in items if isinstance(item, str) and not in_parent(item)]
    workers = min(jobs or default_jobs(), len(files))
    min_bytes = int(os.environ.get(MIN_BYTES_ENV, POOL_MIN_BYTES))
    if workers < 2 or sum(_size(path) for path in files) < min_bytes or not _can_fork():
        for item in items:
            linter.add(item, stdin, stdin_name)
            tick()
        return
    global _WORKER
    _WORKER = (linter.engine, {"max_bytes": linter.max_bytes, "track_objects": linter.track_objects,
                               "helm": linter.helm, "excerpts": linter.excerpts})
    if os.environ.get(TRACE_ENV):
        print(f"kexlint: pool of {workers} workers", file=sys.stderr)
    import multiprocessing

    context = multiprocessing.get_context("fork")
    try:
        with context.Pool(workers) as pool:
            # imap keeps the order of the files; chunks amortise the round trips.
            results = pool.imap(_lint_file, files, chunksize=max(1, len(files) // (workers * 4)))
            for item in items:
                if isinstance(item, str) and not in_parent(item):
                    _merge(linter, *next(results))
                else:
                    linter.add(item, stdin, stdin_name)
                tick()
    finally:
        _WORKER = None
