"""`kexlint audit`: lint what runs in the cluster (or a snapshot of it) instead of files.

Every rule over every object; a controller-owned Pod, ReplicaSet or Job is reported through its
controller, whose template says the same. Findings carry no file: reporters name them by object.
Stored objects show only the storage apiVersion, so deprecated APIs are looked for where users'
manifests survive: kubectl's last-applied-configuration annotation and, with --helm-releases, the
manifests of the latest deployed Helm releases.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from .cli import UsageError, exit_code, open_output, resolve_config
from .config import DEFAULT_KUBE_VERSION
from .context import ContextError, add_connection_arguments, connect, listed, progress_line, warn
from .engine import Engine, RuleCrash, objects_of
from .findings import LEVELS, Finding, InputProblem
from .lint import STDIN, LintResult, expand_paths, read_source
from .loader import MAX_FILE_BYTES, Document, InputError, decode, read_documents
from .model import K8sObject, object_ref
from .registry import builtin_rules

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

# Owned objects whose controller is one of these is reported through it.
CONTROLLER_KINDS = ("ReplicationController", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
                    "CronJob")
DEPRECATION_CHECK = "deprecated_api"


def _parser() -> argparse.ArgumentParser:
    from .reporters import FORMATS

    parser = argparse.ArgumentParser(
        prog="kexlint audit",
        description="Lint what runs in the cluster (read-only): every rule over every object; deprecated "
                    "APIs from last-applied-configuration and, with --helm-releases, Helm releases.")
    parser.add_argument("-f", "--format", choices=FORMATS, default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("-c", "--config", metavar="FILE", help="config file (default: .kexlint.yaml)")
    parser.add_argument("--no-config", action="store_true", help="ignore any .kexlint.yaml")
    parser.add_argument("--kube-version", metavar="X.Y",
                        help=f"the cluster's Kubernetes version (default {DEFAULT_KUBE_VERSION})")
    parser.add_argument("--node-port-range", metavar="RANGE", help="the apiserver's --service-node-port-range")
    parser.add_argument("--fail-on", choices=(*LEVELS, "never"), help="lowest level that makes the exit code 1")
    parser.add_argument("--disable", action="append", default=[], metavar="RULE", help="turn a rule off")
    parser.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--from", dest="snapshots", action="append", default=[], metavar="PATH",
                        help="audit a snapshot (`kubectl get … -A -o yaml`; files, directories or -) "
                             "instead of the live cluster; repeatable")
    parser.add_argument("--helm-releases", action="store_true",
                        help="also check the manifests of the latest deployed Helm releases for deprecated "
                             "APIs (reads Secrets: needs get/list secrets)")
    add_connection_arguments(parser)
    return parser


class Audit:
    """One pass over the cluster's objects; keeps findings and facts, never the objects."""

    def __init__(self, engine: Engine, deprecations: Engine) -> None:
        self.engine = engine
        self.deprecations = deprecations
        self.run = engine.run()
        self.result = LintResult()

    def audit(self, value: dict[str, Any], source: str | None = None, obj: K8sObject | None = None) -> None:
        if owned_by_controller(value):
            return
        obj = obj or K8sObject(value, object_ref(value))
        self.result.objects += 1
        self._lint(self.run.lint_object, obj, source)
        applied = last_applied(value)
        if applied is not None and applied.get("apiVersion") != value.get("apiVersion"):
            # What the user sent, before the apiserver converted it: only its apiVersion is news.
            self._lint(self.deprecations.check_object, K8sObject(applied, object_ref(applied)), source)

    def deprecated_only(self, obj: K8sObject, source: str) -> None:
        self._lint(self.deprecations.check_object, obj, source)

    def _lint(self, lint: Any, obj: K8sObject, source: str | None) -> None:
        try:
            self.result.findings.extend(lint(obj))
        except (RuleCrash, InputError) as err:
            line, column = obj.locate(())
            self.result.problems.append(InputProblem(source or str(obj.ref), line or 0, column or 0, str(err)))

    def finish(self) -> LintResult:
        self.result.findings.extend(self.run.finish())
        self.result.findings.sort(key=lambda f: (str(f.object), *Finding.sort_key(f)))
        return self.result


def owned_by_controller(value: dict[str, Any]) -> bool:
    metadata = value.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    return isinstance(owners, list) and any(
        isinstance(o, dict) and o.get("controller") is True and o.get("kind") in CONTROLLER_KINDS for o in owners)


def last_applied(value: dict[str, Any]) -> dict[str, Any] | None:
    from .cluster.applied import last_applied as decode

    return decode(value)


def _snapshot_objects(paths: list[str], result: LintResult) -> Iterator[tuple[str, K8sObject]]:
    stdin = sys.stdin.buffer if STDIN in paths else None
    for item in expand_paths(paths):
        if isinstance(item, InputProblem):
            result.problems.append(item)
            continue
        source = "<stdin>" if item == STDIN else item
        result.files += 1
        try:
            text = decode(read_source(item, stdin, MAX_FILE_BYTES))
        except InputError as err:
            result.problems.append(InputProblem(source, err.line, err.column, err.message))
            continue
        for doc in read_documents(text, source):
            if isinstance(doc, InputError):
                result.problems.append(InputProblem(source, doc.line, doc.column, doc.message))
            elif isinstance(doc, Document) and isinstance(doc.value, dict):
                for obj in objects_of(doc):
                    if isinstance(obj, InputError):
                        result.problems.append(InputProblem(source, obj.line, obj.column, obj.message))
                    else:
                        yield source, obj


def _audit_cluster(audit: Audit, args: argparse.Namespace) -> None:
    from .cluster import CONTEXT_KINDS, KINDS
    from .cluster.helm import latest_deployed

    show = progress_line()
    with connect(args) as cluster:
        for _, item in listed(cluster, CONTEXT_KINDS, warn, show):
            # Whole, not pruned: every rule reads it, and it is dropped once linted.
            audit.audit(item)
        if args.helm_releases:
            secrets = (item for _, item in listed(cluster, (KINDS["Secret"],), warn, show))
            releases, problems = latest_deployed(secrets)
            for problem in problems:
                warn(problem)
            for release in releases:
                for doc in read_documents(release.manifest, release.source):
                    if isinstance(doc, Document) and isinstance(doc.value, dict):
                        for obj in objects_of(doc):
                            if isinstance(obj, K8sObject):
                                audit.deprecated_only(obj, release.source)
    if show is not None:
        sys.stderr.write("\r\x1b[K")


def run(argv: list[str]) -> int:
    from .cli import _use_color
    from .reporters import Report, render

    args = _parser().parse_args(argv)
    config = resolve_config(args)
    rules = builtin_rules()
    engine = Engine(rules, config)
    deprecations = Engine([r for r in rules if r.check == DEPRECATION_CHECK], config)
    audit = Audit(engine, deprecations)
    if args.snapshots:
        for source, obj in _snapshot_objects(args.snapshots, audit.result):
            audit.audit(obj.value, source, obj)
    else:
        try:
            _audit_cluster(audit, args)
        except ContextError as err:
            raise UsageError(str(err)) from None
    result = audit.finish()
    out = open_output(args.output) if args.output else sys.stdout
    try:
        out.write(render(args.format, Report(result, rules, args.show_suppressed, _use_color(args.color, out))))
    finally:
        if args.output:
            out.close()
    return exit_code(result, config.fail_on)
