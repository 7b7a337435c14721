"""Context for a lint run: what already exists, from snapshot files (--context) or the live
cluster (--cluster), handed to the engine as context objects. CLI level: the engine never sees
where they came from, and only this module (and audit) imports kexlint.cluster."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator

from .engine import Engine, RuleCrash, Run, objects_of
from .findings import InputProblem
from .lint import STDIN, expand_paths, read_source
from .loader import Document, InputError, decode, read_documents

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any, BinaryIO

IN_THE_CLUSTER = "in the cluster"


class ContextError(Exception):
    """No cluster to read (no kubeconfig, unreachable, unauthorized, client missing): exit 2."""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig for --cluster / audit (default $KUBECONFIG or ~/.kube/config, "
                             "else the in-cluster service account)")
    parser.add_argument("--context-name", metavar="NAME", help="kubeconfig context to use (default: current)")


def add_context_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", action="append", default=[], metavar="PATH",
                        help="what already runs (a `kubectl get … -A -o yaml` snapshot; files, directories "
                             "or -): cross-object rules check against it, findings only on PATHs; repeatable")
    parser.add_argument("--cluster", action="store_true",
                        help="check cross-object rules against the live cluster (read-only; needs "
                             "kexlint[cluster])")
    add_connection_arguments(parser)


def add_snapshot(run: Run, paths: list[str], stdin: BinaryIO | None, max_bytes: int,
                 stdin_name: str = "<stdin>") -> list[InputProblem]:
    """Observe every object of the snapshot files as context; problems as lint reports them."""
    problems: list[InputProblem] = []
    for item in expand_paths(paths):
        if isinstance(item, InputProblem):
            problems.append(item)
            continue
        source = stdin_name if item == STDIN else item
        try:
            text = decode(read_source(item, stdin, max_bytes))
        except InputError as err:
            problems.append(InputProblem(source, err.line, err.column, err.message))
            continue
        for doc in read_documents(text, source):
            if isinstance(doc, InputError):
                problems.append(InputProblem(source, doc.line, doc.column, doc.message))
                continue
            if not isinstance(doc.value, dict):
                continue
            problems.extend(_observe_document(run, doc, source))
    return problems


def _observe_document(run: Run, doc: Document, source: str) -> Iterator[InputProblem]:
    for obj in objects_of(doc):
        if isinstance(obj, InputError):
            yield InputProblem(source, obj.line, obj.column, obj.message)
            continue
        try:
            run.add_context(obj)
        except (RuleCrash, InputError) as err:
            line, column = obj.locate(())
            yield InputProblem(source, line or 0, column or 0, str(err))


def connect(args: argparse.Namespace) -> Any:
    """A Cluster for the connection options, or ContextError with one line."""
    try:
        from .cluster import ClusterError
        from .cluster import connect as cluster_connect
    except ImportError as err:  # kexlint.cluster imports its client lazily; this is a broken install
        raise ContextError(f"reading a cluster needs kexlint[cluster]: {err}") from None
    try:
        return cluster_connect(args.kubeconfig, args.context_name)
    except ClusterError as err:
        raise ContextError(str(err)) from None


def listed(cluster: Any, kinds: tuple, warn: Callable[[str], None],
           progress: Callable[[str], None] | None = None) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(kind, item) for every object of the kinds, page by page. A kind RBAC forbids is a warning and
    skipped; any other failure (unreachable, unauthorized) is a ContextError."""
    from .cluster import ClusterError, Forbidden

    count = 0
    for kind in kinds:
        try:
            for item in cluster.list(kind):
                count += 1
                if progress is not None and count % 1000 == 0:
                    progress(f"{count} objects read ({kind})")
                yield kind, item
        except Forbidden as err:
            warn(f"cannot list {kind} ({err}); not checked against them")
        except ClusterError as err:
            raise ContextError(str(err)) from None


def add_cluster(run: Run, engine: Engine, args: argparse.Namespace,
                warn: Callable[[str], None]) -> int:
    """Observe what the cluster runs, for the active cross-object rules only: just the kinds they
    read (from their targets and kinds), pruned to the fields rules read, kept only as facts."""
    from .cluster import prune
    from .cluster.live import owned_by_watched, watched_kinds

    kinds = watched_kinds(engine)
    if not kinds:
        return 0
    names = {k.kind for k in kinds}
    seen = 0
    with connect(args) as cluster:
        for _, item in listed(cluster, kinds, warn, progress_line()):
            seen += 1
            # A controller-owned Pod says what its owner's template says; its owner is listed too.
            if owned_by_watched(item, names):
                continue
            try:
                run.add_context(prune(item), where=IN_THE_CLUSTER)
            except (RuleCrash, InputError) as err:
                warn(f"{item.get('kind')} {item.get('metadata', {}).get('name')}: {err}")
    return seen


def progress_line() -> Callable[[str], None] | None:
    """A progress line on stderr, rewritten in place, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(text: str) -> None:
        sys.stderr.write(f"\rkexlint: {text}\x1b[K")
        sys.stderr.flush()

    return show


def use_context(run: Run, engine: Engine, args: argparse.Namespace, stdin: BinaryIO | None,
                max_bytes: int) -> list[InputProblem]:
    """Add the --context snapshots and the --cluster state to the run; problems of the snapshot files."""
    problems = add_snapshot(run, args.context, stdin, max_bytes, args.stdin_filename) if args.context else []
    if args.cluster:
        add_cluster(run, engine, args, warn)
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[K")
    return problems


def warn(message: str) -> None:
    print(f"kexlint: warning: {message}", file=sys.stderr)
