"""`--jobs N`: lint files in N processes (the parent and N-1 workers), conclude in the parent.

The files are cut into runs of about equal bytes. Workers get runs of paths (never contents), lint
each with a fresh Linter and send back its LintResult and Facts; the parent lints a run itself
whenever the result it needs next is not ready, and merges all of them in the order the files were
named, so the sorted output is the one `--jobs 1` gives. stdin and rendered sources (kustomize
directories) stay in the parent: stdin can be read only once, and a render is one stream anyway.
The pool stays up until the conclusions' fields are located (spots.py), in it too.

The pool uses the "fork" context: the Engine (rules loaded, schemas compiled) is inherited rather
than pickled or rebuilt in every worker, which is most of the start-up cost that decides whether a
pool pays off. The CLI starts no threads before linting, so fork's hazard (locks held by other
threads) does not arise. Where fork is missing (Windows) the files are linted in the parent.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping

from .engine import Engine, Facts
from .lint import STDIN, Linter, LintResult, relocate

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any, BinaryIO

    from .spots import Position, Spot

# Below this many bytes of files a pool costs more than it saves (forking, then merging and
# locating in the parent). bench/crossover.py, whole CLI wall time on 2 cores shared with other work
# (load average ~2, 2026-12-02), --jobs 2 / --jobs 1 on the first N medium files: 327 KB 1.27-1.37,
# 671 KB 1.54-1.76, 883 KB 1.24, 1.1 MB 1.00-1.26, 2.4 MB 1.05-1.26; 18 MB 0.7. An earlier, quieter
# measurement broke even near 250 KB. 1 MiB: where a loaded machine starts to break even, so a
# pre-commit run on a few files never waits for a pool; above it the pool's loss is small either way.
POOL_MIN_BYTES = 1024 * 1024
# Set to print "kexlint: pool of N workers" on stderr when a pool starts (N: the processes that lint,
# the parent included), and how many documents it locates (tests, diagnosis).
TRACE_ENV = "KEXLINT_TRACE_POOL"
# Overrides POOL_MIN_BYTES, so that tests can run a pool on a small corpus.
MIN_BYTES_ENV = "KEXLINT_POOL_MIN_BYTES"

# Set in the parent just before the fork (workers inherit it) and until the pool ends.
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


# Files per task: contiguous runs of about equal bytes, many per worker, so that no worker idles
# long at the end while another finishes a big chunk (medium: 1,000 files from 2 KB to 90 KB).
BATCHES_PER_WORKER = 16
# Below this many documents to locate for the conclusions, the parent locates them itself: sending
# them to the pool costs a round trip, and a few documents take less.
POOL_LOCATE_MIN_DOCUMENTS = 64


def _lint_batch(paths: list[str]) -> tuple[LintResult, Facts]:
    """One Linter over a run of files: its result and facts are what merging the files' one by one
    would give (every field is a list extended or a dict updated in order), in one message."""
    assert _WORKER is not None
    engine, options = _WORKER
    linter = Linter(engine, **options)
    for path in paths:
        linter.lint_path(path)
    return linter.result, linter.run.facts


def _locate_batch(spots: dict[str, Spot]) -> dict[str, Position]:
    assert _WORKER is not None
    return relocate(spots, _WORKER[1]["max_bytes"])


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


def batches(items: list[Any], workers: int) -> list[tuple[int, list[str]]]:
    """The files the workers lint, in order, cut into runs of about equal bytes: (index in items of
    the run's first file, its files). A run never spans an item linted in the parent (stdin, a
    render), so that merging the runs keeps the order of `items`."""
    sizes = [_size(item) if isinstance(item, str) and not in_parent(item) else None for item in items]
    target = max(1, sum(size for size in sizes if size is not None) // (workers * BATCHES_PER_WORKER))
    runs: list[tuple[int, list[str]]] = []
    run: list[str] = []
    run_bytes = 0
    for index, (item, size) in enumerate(zip(items, sizes, strict=True)):
        if size is None:
            if run:
                runs.append((index - len(run), run))
                run, run_bytes = [], 0
            continue
        run.append(item)
        run_bytes += size
        if run_bytes >= target:
            runs.append((index + 1 - len(run), run))
            run, run_bytes = [], 0
    if run:
        runs.append((len(items) - len(run), run))
    return runs


def _shared(pool: Any, func: Callable[[Any], Any], tasks: list[Any], depth: int) -> Iterator[Any]:
    """func over tasks, results in order, in the pool's workers and in this process: while the
    result needed next is not ready, the parent runs the next task not yet handed out itself, rather
    than wait (it would otherwise idle beside its workers; and what it does itself is not pickled).
    `depth`: tasks handed to the workers ahead, so that none of them waits for the parent."""
    pending: dict[int, Any] = {}
    local: dict[int, Any] = {}
    handed = 0
    for index in range(len(tasks)):
        while True:
            while handed < len(tasks) and len(pending) < depth:
                pending[handed] = pool.apply_async(func, (tasks[handed],))
                handed += 1
            if index in local:
                yield local.pop(index)
                break
            job = pending[index]
            if handed == len(tasks) or job.ready():
                del pending[index]
                yield job.get()
                break
            local[handed] = func(tasks[handed])
            handed += 1


class _PoolLocator:
    """Run.locator for a linter whose files the pool read: the documents the conclusions show are
    parsed again in the workers, in parallel, instead of in the parent alone after everything else."""

    def __init__(self, pool: Any, processes: int, max_bytes: int) -> None:
        self.pool = pool
        self.processes = processes  # the workers and the parent
        self.max_bytes = max_bytes

    def __call__(self, spots: Mapping[str, Spot]) -> dict[str, Position]:
        by_source: dict[str, dict[str, Spot]] = {}
        for key, spot in spots.items():
            by_source.setdefault(spot[0], {})[key] = spot
        documents = {source: len({(spot[1], spot[2]) for spot in wanted.values()})
                     for source, wanted in by_source.items()}
        total = sum(documents.values())
        if total < POOL_LOCATE_MIN_DOCUMENTS:
            return relocate(spots, self.max_bytes)
        # A file is read and decoded once: its spots stay in one task.
        per_task = max(1, total // (self.processes * 4))
        tasks: list[dict[str, Spot]] = []
        task: dict[str, Spot] = {}
        count = 0
        for source, wanted in by_source.items():
            task.update(wanted)
            count += documents[source]
            if count >= per_task:
                tasks.append(task)
                task, count = {}, 0
        if task:
            tasks.append(task)
        if os.environ.get(TRACE_ENV):
            print(f"kexlint: {total} documents located in the pool", file=sys.stderr)
        found: dict[str, Position] = {}
        for positions in _shared(self.pool, _locate_batch, tasks, 2 * (self.processes - 1)):
            found.update(positions)
        return found


def lint_items(linter: Linter, items: Iterable[Any], jobs: int | None, stdin: BinaryIO | None,
               stdin_name: str, tick: Callable[[], None] = lambda: None) -> None:
    """Lint expand_paths' items (paths, InputProblems, Skipped) into linter, with up to `jobs`
    workers (None: default_jobs()); tick() after each item, for the progress line.

    With a pool, the pool stays up until linter.finish(), which locates the conclusions' fields in
    it; the linter's close() ends it (finish() does too)."""
    # Linting makes next to no cyclic garbage (48 objects in 300 medium files: refcounting frees
    # the rest), yet collections ran all along, scanning the facts and findings kept so far: 0.7%
    # of a --jobs 1 run's instructions, 3% of --jobs 2's (a forked worker's first collections also
    # write to every page it shares with the parent), and 0.2 of the parent's 0.3 s of CPU
    # unpickling the workers' facts. So none while linting: workers, forked meanwhile, never do.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _lint_items(linter, items, jobs, stdin, stdin_name, tick)
    finally:
        if collecting:
            gc.enable()


def _lint_items(linter: Linter, items: Iterable[Any], jobs: int | None, stdin: BinaryIO | None,
                stdin_name: str, tick: Callable[[], None]) -> None:
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

    runs = batches(items, workers)
    starts = {start for start, _ in runs}
    context = multiprocessing.get_context("fork")
    # The parent is one of the `workers`: it lints runs itself whenever it would wait (_shared).
    pool = context.Pool(workers - 1)

    def close() -> None:
        global _WORKER
        pool.terminate()
        _WORKER = None

    try:
        # In the order of the runs, and so of the files.
        results = _shared(pool, _lint_batch, [run for _, run in runs], 2 * (workers - 1))
        for index, item in enumerate(items):
            if isinstance(item, str) and not in_parent(item):
                if index in starts:
                    _merge(linter, *next(results))
            else:
                linter.add(item, stdin, stdin_name)
            tick()
    except BaseException:
        close()
        raise
    linter.run.locator = _PoolLocator(pool, workers, linter.max_bytes)
    linter.closing.append(close)
