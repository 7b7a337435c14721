"""Kubernetes objects and the targets rules look at: pod specs, containers, services, ingresses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .findings import ObjectRef
from .loader import Document, Pointer

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# Where each built-in workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, Pointer] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
GATEWAY_API = "gateway.networking.k8s.io"
# Kinds holding listeners: a Gateway, and since Gateway API v1.5 the ListenerSets attached to it.
LISTENER_KINDS = ("Gateway", "ListenerSet")
# The route kinds of Gateway API (TCPRoute and UDPRoute are still experimental, same group).
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")
# The API group of every built-in kind the rules look at: the pod-spec kinds, Service, Ingress and
# IngressClass, and Gateway API's kinds. The admission webhook reviews exactly these (plus custom
# resources with a pod template).
BUILTIN_KIND_GROUPS: dict[str, str] = {
    "Pod": "", "PodTemplate": "", "ReplicationController": "", "Service": "",
    "Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps",
    "Job": "batch", "CronJob": "batch",
    "Ingress": "networking.k8s.io", "IngressClass": "networking.k8s.io",
    **{kind: GATEWAY_API for kind in (*LISTENER_KINDS, *ROUTE_KINDS, "ReferenceGrant")},
}
# The built-in kinds users write by hand, lower-cased → as the apiserver spells them: `kind: pod`
# is refused ("no matches for kind"), so it is reported with the right spelling instead of skipped.
BUILTIN_KIND_SPELLING: dict[str, str] = {kind.lower(): kind for kind in (
    *BUILTIN_KIND_GROUPS,
    "ConfigMap", "Secret", "Namespace", "ServiceAccount", "Endpoints", "PersistentVolume",
    "PersistentVolumeClaim", "LimitRange", "ResourceQuota", "Node", "Event",
    "ControllerRevision", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
    "EndpointSlice", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "StorageClass",
    "PriorityClass", "CustomResourceDefinition", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "APIService", "Lease", "RuntimeClass",
)}


def is_builtin_group(group: str) -> bool:
    """The core group, the unqualified ones (apps, batch, policy, autoscaling) and *.k8s.io: a custom
    resource group may well have a kind spelled `pod`, the built-in ones do not."""
    return "." not in group or group == "k8s.io" or group.endswith(".k8s.io")


# Custom resources (Argo Rollout, OpenKruise CloneSet, …) that embed a pod template.
GENERIC_POD_SPEC_PATH: Pointer = ("spec", "template", "spec")

TARGET_KINDS = ("object", "pod-spec", "container", "service", "ingress", "ingressclass", "gateway", "route")
# Targets that are a whole object of some kinds (the API group is not checked: a Gateway API kind
# under another group is a different resource, but kind names do not collide in practice).
WHOLE_OBJECT_TARGETS: dict[str, tuple[str, ...]] = {
    "service": ("Service",),
    "ingress": ("Ingress",),
    "ingressclass": ("IngressClass",),
    "gateway": LISTENER_KINDS,
    "route": ROUTE_KINDS,
}


@dataclass
class K8sObject:
    """One Kubernetes object: a document, or one item of a List document."""

    value: dict[str, Any]
    ref: ObjectRef
    doc: Document | None = None  # None for objects that came without a file (admission requests)
    prefix: Pointer = ()  # where the object sits in its document
    _pod_spec: tuple[Pointer, dict] | None | bool = field(default=False, repr=False)

    @property
    def source(self) -> str | None:
        return self.doc.source if self.doc else None

    def locate(self, path: Pointer) -> tuple[int | None, int | None]:
        if self.doc is None:
            return None, None
        return self.doc.locate(self.prefix + tuple(path))

    @property
    def annotations(self) -> dict[str, Any]:
        metadata = self.value.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        return annotations if isinstance(annotations, dict) else {}

    def pod_spec(self) -> tuple[Pointer, dict] | None:
        if self._pod_spec is False:
            self._pod_spec = _find_pod_spec(self.value, self.ref.kind)
        return self._pod_spec  # type: ignore[return-value]


def _dig(value: Any, path: Pointer) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _find_pod_spec(value: dict, kind: str | None) -> tuple[Pointer, dict] | None:
    path = POD_SPEC_PATHS.get(kind or "")
    if path is not None:
        spec = _dig(value, path)
        return (path, spec) if isinstance(spec, dict) else None
    spec = _dig(value, GENERIC_POD_SPEC_PATH)
    if isinstance(spec, dict) and isinstance(spec.get("containers"), list):
        return GENERIC_POD_SPEC_PATH, spec
    return None


def scalar_text(value: Any, empty_is_none: bool = True) -> str | None:
    """A field of the object's identity as text. Only scalars are spelled out: str() of a list or
    mapping nested 100,000 deep (a plain object from an admission request) raises RecursionError,
    and a large one would put megabytes into every message that names the object."""
    if value is None or (empty_is_none and value == ""):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return "<mapping>" if isinstance(value, dict) else "<list>"
    try:
        return str(value)
    except ValueError:  # an int past Python's 4300-digit str() limit
        return f"<{type(value).__name__}>"


def object_ref(value: dict[str, Any]) -> ObjectRef:
    metadata = value.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name") or metadata.get("generateName")
    return ObjectRef(scalar_text(value.get("apiVersion"), False), scalar_text(value.get("kind"), False),
                     scalar_text(metadata.get("namespace")), scalar_text(name))


def is_kubernetes_object(value: Any) -> bool:
    """A mapping with a `kind` (one without apiVersion is then reported). An apiVersion alone is not
    enough: Helm's Chart.yaml has one and is no Kubernetes object."""
    return isinstance(value, dict) and "kind" in value


def is_list_kind(value: dict) -> bool:
    kind = value.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and isinstance(value.get("items"), list)


@dataclass(frozen=True)
class Target:
    """A part of an object a rule inspects; path is relative to the object's root."""

    obj: K8sObject
    path: Pointer
    value: Any


def targets(obj: K8sObject, kind: str) -> Iterator[Target]:
    if kind == "object":
        yield Target(obj, (), obj.value)
    elif kind == "pod-spec":
        found = obj.pod_spec()
        if found is not None:
            yield Target(obj, *found)
    elif kind == "container":
        found = obj.pod_spec()
        if found is not None:
            path, spec = found
            for list_name in CONTAINER_LISTS:
                containers = spec.get(list_name)
                if isinstance(containers, list):
                    for index, container in enumerate(containers):
                        if isinstance(container, dict):
                            yield Target(obj, (*path, list_name, index), container)
    elif kind in WHOLE_OBJECT_TARGETS:
        if obj.ref.kind in WHOLE_OBJECT_TARGETS[kind]:
            yield Target(obj, (), obj.value)
    else:  # pragma: no cover - rule files are validated against TARGET_KINDS
        raise ValueError(f"unknown target {kind!r}")
