"""Conversions of one object, edited in place on ruamel's round-trip maps.

Every conversion checks everything it needs before it changes anything and raises Unfixable
instead, so an object is either converted completely or left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq


class Unfixable(Exception):
    """The object cannot be converted without guessing; the message says why."""


Converter = Callable[[CommentedMap], list[str]]  # edits the object, returns notes for the user


@dataclass(frozen=True)
class Conversion:
    replacement: str
    since: tuple[int, int]  # first release that serves the replacement: Kubernetes', or project's
    convert: Converter
    project: str | None = None  # "Gateway API": since counts its releases (--gateway-api-version)


# --- editing helpers -------------------------------------------------------------------------------

def _is_map(value: Any) -> bool:
    return isinstance(value, CommentedMap)


def _new_map(like: CommentedMap, *items: tuple[str, Any]) -> CommentedMap:
    """A new mapping written in the same (flow or block) style as the one it goes into."""
    new = CommentedMap(items)
    if like.fa.flow_style():
        new.fa.set_flow_style()
    return new


def _take_comment(mapping: CommentedMap, key: Any) -> Any:
    """The comments ruamel keeps after key's value (end of line and full lines below), removed."""
    return mapping.ca.items.pop(key, None)


def _give_comment(mapping: CommentedMap, key: Any, comment: Any) -> None:
    if comment is not None:
        mapping.ca.items[key] = comment


def _rename(mapping: CommentedMap, old: str, new: str, value: Any = None) -> None:
    """Rename a key where it stands, keeping its comments; optionally give it a new value."""
    position = list(mapping).index(old)
    comment = _take_comment(mapping, old)
    current = mapping.pop(old)
    mapping.insert(position, new, current if value is None else value)
    _give_comment(mapping, new, comment)


def _same_style(old: Any, new: str) -> Any:
    """new in old's quoting: ruamel keeps quotes by making quoted strings str subclasses."""
    return type(old)(new) if isinstance(old, str) and type(old) is not str else new


def _set_api_version(obj: CommentedMap, api_version: str) -> None:
    obj["apiVersion"] = _same_style(obj["apiVersion"], api_version)


def _swap_only(replacement: str) -> Converter:
    def convert(obj: CommentedMap) -> list[str]:
        _set_api_version(obj, replacement)
        return []

    return convert


# --- Ingress ---------------------------------------------------------------------------------------

def _port(value: Any, where: str) -> tuple[str, Any]:
    """servicePort → ("number", int) or ("name", str). A quoted "8080" is a number, not a name."""
    if isinstance(value, bool) or value is None:
        raise Unfixable(f"{where}.servicePort is {value!r}, neither a port number nor a port name")
    if isinstance(value, int):
        return "number", int(value)
    if isinstance(value, str):
        if value.strip().isdigit():
            return "number", int(value)
        if value:
            return "name", value
    raise Unfixable(f"{where}.servicePort {value!r} is neither a port number nor a port name")


def _backend_plan(backend: Any, where: str) -> Callable[[], None] | None:
    """Check one Ingress backend; return the edit that converts it (None: nothing to do)."""
    if not _is_map(backend):
        raise Unfixable(f"{where} is not a mapping")
    has_service = "serviceName" in backend or "servicePort" in backend
    if not has_service:
        if "service" in backend or "resource" in backend:
            return None  # already the v1 shape, or a resource backend, which v1 keeps as is
        raise Unfixable(f"{where} has neither serviceName/servicePort nor resource")
    if "resource" in backend or "service" in backend:
        raise Unfixable(f"{where} mixes serviceName/servicePort with resource or service")
    if "serviceName" not in backend or "servicePort" not in backend:
        missing = "serviceName" if "serviceName" not in backend else "servicePort"
        raise Unfixable(f"{where} has no {missing}, which networking.k8s.io/v1 requires")
    name = backend["serviceName"]
    if not isinstance(name, str) or not name:
        raise Unfixable(f"{where}.serviceName {name!r} is not a Service name")
    port_key, port_value = _port(backend["servicePort"], where)

    def apply() -> None:
        keys = list(backend)
        position = min(keys.index("serviceName"), keys.index("servicePort"))
        name_comment = _take_comment(backend, "serviceName")
        port_comment = _take_comment(backend, "servicePort")
        port = _new_map(backend, (port_key, port_value))
        # A comment that followed servicePort now follows the port it described.
        _give_comment(port, port_key, port_comment)
        service = _new_map(backend, ("name", name), ("port", port))
        _give_comment(service, "name", name_comment)
        del backend["serviceName"]
        del backend["servicePort"]
        backend.insert(position, "service", service)

    return apply


def convert_ingress(obj: CommentedMap) -> list[str]:
    spec = obj.get("spec")
    edits: list[Callable[[], None]] = []
    if spec is not None:
        if not _is_map(spec):
            raise Unfixable("spec is not a mapping")
        if "backend" in spec and "defaultBackend" in spec:
            raise Unfixable("spec has both backend and defaultBackend")
        if "backend" in spec:
            edit = _backend_plan(spec["backend"], "spec.backend")
            edits.append(lambda: _rename(spec, "backend", "defaultBackend"))
            if edit:
                edits.append(edit)
        rules = spec.get("rules")
        if rules is not None and not isinstance(rules, CommentedSeq):
            raise Unfixable("spec.rules is not a list")
        for r, rule in enumerate(rules or ()):
            if not _is_map(rule):
                raise Unfixable(f"spec.rules[{r}] is not a mapping")
            http = rule.get("http")
            if http is None:
                continue
            paths = http.get("paths") if _is_map(http) else None
            if not isinstance(paths, CommentedSeq):
                raise Unfixable(f"spec.rules[{r}].http.paths is not a list")
            for p, item in enumerate(paths):
                where = f"spec.rules[{r}].http.paths[{p}]"
                if not _is_map(item):
                    raise Unfixable(f"{where} is not a mapping")
                edit = _backend_plan(item.get("backend"), f"{where}.backend")
                if edit:
                    edits.append(edit)
                if "pathType" not in item:
                    edits.append(lambda item=item: _add_path_type(item))
    for edit in edits:
        edit()
    _set_api_version(obj, "networking.k8s.io/v1")
    return []


def _add_path_type(item: CommentedMap) -> None:
    # ImplementationSpecific is what an Ingress without pathType meant: the controller decides.
    # Right after `path` (a comment on the path line stays with path), or first when there is none.
    position = list(item).index("path") + 1 if "path" in item else 0
    item.insert(position, "pathType", "ImplementationSpecific")


# --- workloads -------------------------------------------------------------------------------------

def _workload(kind: str, old_api: str) -> Converter:
    def convert(obj: CommentedMap) -> list[str]:
        spec = obj.get("spec")
        if not _is_map(spec):
            raise Unfixable("spec is missing or not a mapping")
        for field, why in (("rollbackTo", "apps/v1 has no rollbackTo; use `kubectl rollout undo`"),
                           ("templateGeneration", "apps/v1 has no templateGeneration")):
            if field in spec:
                raise Unfixable(f"spec.{field} is set ({why}); remove it first")
        notes = []
        selector = spec.get("selector")
        if not selector:
            template = spec.get("template")
            metadata = template.get("metadata") if _is_map(template) else None
            labels = metadata.get("labels") if _is_map(metadata) else None
            if not _is_map(labels) or not labels:
                raise Unfixable("apps/v1 requires spec.selector and there are no "
                                "spec.template.metadata.labels to build it from")
            # The old APIs defaulted the selector to the template's labels: say so explicitly.
            match_labels = _new_map(labels, *labels.items())
            new_selector = _new_map(spec, ("matchLabels", match_labels))
            if "selector" in spec:
                spec["selector"] = new_selector
            else:
                position = list(spec).index("template") if "template" in spec else len(spec)
                spec.insert(position, "selector", new_selector)
        old_default_on_delete = (kind == "DaemonSet" and old_api == "extensions/v1beta1") or (
            kind == "StatefulSet" and old_api == "apps/v1beta1")
        if old_default_on_delete and "updateStrategy" not in spec:
            notes.append("spec.updateStrategy now defaults to RollingUpdate (was OnDelete); "
                         "add `updateStrategy: {type: OnDelete}` to keep the old behaviour")
        _set_api_version(obj, "apps/v1")
        return notes

    return convert


# --- others ----------------------------------------------------------------------------------------

def convert_pdb(obj: CommentedMap) -> list[str]:
    spec = obj.get("spec")
    selector = spec.get("selector") if _is_map(spec) else None
    if _is_map(selector) and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        # policy/v1beta1: an empty selector selects no pods; policy/v1: every pod in the namespace.
        raise Unfixable("spec.selector is empty, which selects no pods in policy/v1beta1 but every "
                        "pod of the namespace in policy/v1")
    _set_api_version(obj, "policy/v1")
    return []


# --- Gateway API ------------------------------------------------------------------------------------

_GATEWAY = "gateway.networking.k8s.io"
_GATEWAY_API = "Gateway API"


def _rules(obj: CommentedMap) -> CommentedSeq:
    spec = obj.get("spec")
    if not _is_map(spec):
        raise Unfixable("spec is missing or not a mapping")
    rules = spec.get("rules")
    if not isinstance(rules, CommentedSeq):
        raise Unfixable("spec.rules is missing or not a list")
    return rules


def _one_rule(obj: CommentedMap, kind: str) -> None:
    """v1 TLSRoute and TCPRoute take exactly one rule with at least one backendRef; the older versions
    took up to 16 rules. Merging rules would change which backends get traffic, so it is the user's call."""
    rules = _rules(obj)
    if len(rules) != 1:
        raise Unfixable(f"{kind} v1 allows exactly one rule and spec.rules has {len(rules)}; split it into "
                        "one route per rule first")
    rule = rules[0]
    if not _is_map(rule) or not isinstance(rule.get("backendRefs"), CommentedSeq) or not rule["backendRefs"]:
        raise Unfixable(f"{kind} v1 requires spec.rules[0].backendRefs (at least one)")


def convert_tlsroute(obj: CommentedMap) -> list[str]:
    _one_rule(obj, "TLSRoute")
    hostnames = obj["spec"].get("hostnames")
    if not isinstance(hostnames, CommentedSeq) or not hostnames:
        # v1alpha2 without hostnames matched every SNI the listener accepts; v1 requires at least one
        # and the names to put there are only the user's to know.
        raise Unfixable("TLSRoute v1 requires spec.hostnames (the SNI names to match) and there are none")
    _set_api_version(obj, f"{_GATEWAY}/v1")
    return []


def convert_tcproute(obj: CommentedMap) -> list[str]:
    _one_rule(obj, "TCPRoute")
    _set_api_version(obj, f"{_GATEWAY}/v1")
    return []


CONVERSIONS: dict[tuple[str, str], Conversion] = {
    ("extensions/v1beta1", "Ingress"): Conversion("networking.k8s.io/v1", (1, 19), convert_ingress),
    ("networking.k8s.io/v1beta1", "Ingress"): Conversion("networking.k8s.io/v1", (1, 19), convert_ingress),
    **{
        (api, kind): Conversion("apps/v1", (1, 9), _workload(kind, api))
        for api in ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")
        for kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
    },
    ("extensions/v1beta1", "NetworkPolicy"): Conversion("networking.k8s.io/v1", (1, 7),
                                                        _swap_only("networking.k8s.io/v1")),
    ("policy/v1beta1", "PodDisruptionBudget"): Conversion("policy/v1", (1, 21), convert_pdb),
    ("batch/v1beta1", "CronJob"): Conversion("batch/v1", (1, 21), _swap_only("batch/v1")),
    # Same fields under both versions (the rule's table says "No notable changes"):
    ("networking.k8s.io/v1beta1", "IngressClass"): Conversion("networking.k8s.io/v1", (1, 19),
                                                              _swap_only("networking.k8s.io/v1")),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): Conversion("scheduling.k8s.io/v1", (1, 14),
                                                               _swap_only("scheduling.k8s.io/v1")),
    **{
        ("rbac.authorization.k8s.io/v1beta1", kind): Conversion(
            "rbac.authorization.k8s.io/v1", (1, 8), _swap_only("rbac.authorization.k8s.io/v1"))
        for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
    # Gateway API: since is the Gateway API release that serves the replacement (v1 since v1.0,
    # GRPCRoute v1 since v1.1, ReferenceGrant v1beta1 since v0.6, TLSRoute and ReferenceGrant v1 since
    # v1.5, TCPRoute v1 since v1.6), compared with --gateway-api-version, not --kube-version.
    **{
        (f"{_GATEWAY}/{api}", kind): Conversion(f"{_GATEWAY}/{new}", since, _swap_only(f"{_GATEWAY}/{new}"),
                                                _GATEWAY_API)
        for api, kind, new, since in (("v1beta1", "Gateway", "v1", (1, 0)), ("v1beta1", "GatewayClass", "v1", (1, 0)),
                                      ("v1beta1", "HTTPRoute", "v1", (1, 0)), ("v1alpha2", "GRPCRoute", "v1", (1, 1)),
                                      ("v1alpha2", "ReferenceGrant", "v1beta1", (0, 6)),
                                      ("v1beta1", "ReferenceGrant", "v1", (1, 5)))
    },
    **{
        (f"{_GATEWAY}/{api}", "TLSRoute"): Conversion(f"{_GATEWAY}/v1", (1, 5), convert_tlsroute, _GATEWAY_API)
        for api in ("v1alpha2", "v1alpha3")
    },
    (f"{_GATEWAY}/v1alpha2", "TCPRoute"): Conversion(f"{_GATEWAY}/v1", (1, 6), convert_tcproute, _GATEWAY_API),
    # Not converted, reported instead: UDPRoute v1 (v1.6), whose field changes from v1alpha2 kexlint has not
    # checked, and XListenerSet, which became another kind in another group (ListenerSet, v1.5).
}
