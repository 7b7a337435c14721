"""apiVersion/kind pairs Kubernetes deprecated or stopped serving; the table is the rule's params."""

from __future__ import annotations

from collections.abc import Iterator

from ..config import parse_kube_version
from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

_indexes: dict[int, tuple[list, dict[tuple[str, str], dict]]] = {}


def _index(apis: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    cached = _indexes.get(id(apis))
    if cached is None or cached[0] is not apis:
        cached = (apis, {(entry["apiVersion"], entry["kind"]): entry for entry in apis})
        _indexes[id(apis)] = cached
    return cached[1]


def _version(text: str) -> str:
    return ".".join(map(str, parse_kube_version(text)))


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    ref = target.obj.ref
    entry = _index(params["apis"]).get((ref.api_version or "", ref.kind or ""))
    if entry is None:
        return
    if entry.get("project"):
        yield from _project_hit(ref.api_version, ref.kind, entry, settings.gateway_api_version)
        return
    target_version = settings.kube_version
    shown_target = ".".join(map(str, target_version))
    replacement = entry.get("replacement")
    use = f"; use {replacement}" if replacement else "; it has no replacement"
    notes = f" {entry['notes']}" if entry.get("notes") else ""
    removed = entry.get("removed")
    if removed and parse_kube_version(removed) <= target_version:
        yield Hit(("apiVersion",), f"{ref.api_version} {ref.kind} is no longer served since Kubernetes "
                  f"{_version(removed)} (target {shown_target}){use}.{notes}", level="error")
        return
    introduced = entry.get("introduced")
    if introduced and parse_kube_version(introduced) > target_version:
        return  # not yet in the target release: another rule's business, not a deprecation
    if entry.get("stage") == "alpha":
        # Alpha APIs are off by default but a cluster can enable them (--runtime-config and a feature
        # gate), so until the release that removes them they are "not served unless enabled".
        yield Hit(("apiVersion",), f"{ref.api_version} {ref.kind} is an alpha API, not served unless enabled "
                  f"on the cluster (target {shown_target}{_until(removed)}){use}.{notes}", level="warning")
        return
    deprecated = entry.get("deprecated")
    if deprecated and parse_kube_version(deprecated) > target_version:
        return
    yield Hit(("apiVersion",), f"{ref.api_version} {ref.kind} is deprecated (target {shown_target}"
              f"{_until(removed)}){use}.{notes}", level="warning")


def project_status(entry: dict[str, Any], target: tuple[int, int]) -> str | None:
    """"removed", "deprecated" or None: what a project's release `target` (Gateway API's, from
    --gateway-api-version) makes of a table entry of that project. Shared with `kexlint fix`, which
    converts exactly what this rule reports."""
    introduced = entry.get("introduced")
    if introduced and parse_kube_version(introduced) > target:
        return None  # the target release does not define this version yet: nothing supersedes it
    for status in ("removed", "deprecated"):
        if entry.get(status) and parse_kube_version(entry[status]) <= target:
            return status
    return None


def _project_hit(api_version: str | None, kind: str | None, entry: dict[str, Any],
                 target: tuple[int, int]) -> Iterator[Hit]:
    """An API a CRD project serves (Gateway API): its releases, not the Kubernetes version, decide.

    The target is the project's release the cluster installed (--gateway-api-version): a version that
    release no longer serves is an error, one it serves beside its replacement a warning, and one that
    is superseded only in a later release than the target is not reported (its replacement would not
    be served there)."""
    status = project_status(entry, target)
    if status is None:
        return
    project = entry["project"]
    shown = f"target {project} v{'.'.join(map(str, target))}"
    replacement = entry.get("replacement")
    use = f"; use {replacement}" if replacement else "; it has no replacement"
    notes = f" {entry['notes']}" if entry.get("notes") else ""
    if status == "removed":
        yield Hit(("apiVersion",), f"{api_version} {kind} is no longer served since {project} "
                  f"v{_version(entry['removed'])} ({shown}){use}.{notes}", level="error")
    else:
        yield Hit(("apiVersion",), f"{api_version} {kind} is superseded since {project} "
                  f"v{_version(entry['deprecated'])} ({shown}{_until(entry.get('removed'))}){use}.{notes}",
                  level="warning")


def _until(removed: str | None) -> str:
    return f", removal planned in {_version(removed)}" if removed else ""
