"""Services that open ports on the nodes or get an external address (kube-linter's exposed-services)."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from ..model import Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

EXPOSING = {
    "NodePort": "opens its ports on every node of the cluster",
    "LoadBalancer": "gets an external load balancer address (and node ports on every node)",
}


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value.get("spec")
    if not isinstance(spec, dict):
        return
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in EXPOSING or kind in params.get("allowed-types", []):
        return
    namespace = target.obj.ref.namespace or ""
    if any(fnmatchcase(namespace, glob) for glob in params.get("allowed-namespaces", [])):
        return
    yield Hit(("spec", "type"), f"Service of type {kind} {EXPOSING[kind]}")
