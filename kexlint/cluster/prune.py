"""Keep only the fields of a live object that the rules read.

A Pod from the API is mostly status, managedFields, volumes, env and probes, none of which any
exposure rule looks at. Context objects (and the CLI's ``--cluster`` lists) keep:

- ``apiVersion``, ``kind``;
- ``metadata``: name, generateName, namespace, uid, labels, ownerReferences, and the annotations rules
  or the engine read: suppressions (``*.kexlint.io/*``), and on Services and Ingresses all of them
  (load-balancer and ingress-class annotations are rule input and are small). The large
  ``kubectl.kubernetes.io/last-applied-configuration`` is always dropped (``kexlint audit`` reads it
  from the full object, not from pruned ones);
- a pod spec (wherever the kind keeps it, see ``model.POD_SPEC_PATHS``): ``hostNetwork``,
  ``nodeSelector``, the *required* node affinity, and of every container, init container and
  ephemeral container its ``name`` and ``ports``; the path down to it (template metadata is dropped);
- ``spec`` of Services, Ingresses, IngressClasses and the Gateway API kinds, whole (rules read most of it).

Status is dropped everywhere. Tests check that every rule gives the same findings on pruned and full
objects, so a rule that starts reading a new field fails there until this list is extended.
"""

from __future__ import annotations

from typing import Any

from ..model import CONTAINER_LISTS, GENERIC_POD_SPEC_PATH, POD_SPEC_PATHS

_WHOLE_SPEC = {"Service", "Ingress", "IngressClass", "Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute",
               "ReferenceGrant", "ListenerSet"}
_ALL_ANNOTATIONS = {"Service", "Ingress", "IngressClass"}
_METADATA = ("name", "generateName", "namespace", "uid", "labels", "ownerReferences")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def prune(obj: dict[str, Any]) -> dict[str, Any]:
    """A new, smaller object with the fields listed in this module's docstring; ``obj`` is untouched."""
    kind = obj.get("kind")
    out: dict[str, Any] = {k: obj[k] for k in ("apiVersion", "kind") if k in obj}
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        kept = {k: metadata[k] for k in _METADATA if k in metadata}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            kept_annotations = {k: v for k, v in annotations.items() if k != _LAST_APPLIED and (
                kind in _ALL_ANNOTATIONS or "kexlint.io/" in str(k))}
            if kept_annotations:
                kept["annotations"] = kept_annotations
        out["metadata"] = kept
    if kind in _WHOLE_SPEC:
        if "spec" in obj:
            out["spec"] = obj["spec"]
        return out
    path = POD_SPEC_PATHS.get(kind if isinstance(kind, str) else "", GENERIC_POD_SPEC_PATH)
    spec = _dig(obj, path)
    if isinstance(spec, dict):
        _put(out, path, _prune_pod_spec(spec))
    return out


def _prune_pod_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: spec[k] for k in ("hostNetwork", "nodeSelector") if k in spec}
    affinity = spec.get("affinity")
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    if isinstance(node_affinity, dict) and "requiredDuringSchedulingIgnoredDuringExecution" in node_affinity:
        out["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                                            node_affinity["requiredDuringSchedulingIgnoredDuringExecution"]}}
    for list_name in CONTAINER_LISTS:
        containers = spec.get(list_name)
        if isinstance(containers, list):
            out[list_name] = [{k: c[k] for k in ("name", "ports") if k in c} if isinstance(c, dict) else c
                              for c in containers]
        elif list_name in spec:
            out[list_name] = containers  # a malformed value stays, so invalid-spec still reports it
    return out


def _dig(value: Any, path: tuple) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _put(out: dict[str, Any], path: tuple, value: Any) -> None:
    for key in path[:-1]:
        out = out.setdefault(key, {})
    out[path[-1]] = value
