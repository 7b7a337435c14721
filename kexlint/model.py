"""Kubernetes objects and the targets rules look at: pod specs, containers, services, ingresses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache

import yaml

from .findings import ObjectRef
from .loader import Document, Pointer
from .records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

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
            # A kind of the pod-templates table has its pod specs in pod_specs(), not one here.
            self._pod_spec = None if _table_entry(self) else _find_pod_spec(self.value, self.ref.kind)
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


@dataclass(frozen=True)
class PodSpec:
    """One pod an object runs. For most kinds `value` is a PodSpec found at `path`. For an Argo
    template it is a view put together from the places that make up the pod (the workflow's
    hostNetwork, the template's containers): `places` maps each key path of the view to where it is
    written, so findings point at the real line."""

    path: Pointer
    value: dict[str, Any]
    places: tuple[tuple[Pointer, Pointer], ...] | None = None

    def resolve(self, relative: Pointer) -> Pointer:
        """Where a path relative to `value` is in the object."""
        relative = tuple(relative)
        if self.places is None:
            return (*self.path, *relative)
        for prefix, real in self.places:  # longest first
            if relative[:len(prefix)] == prefix:
                return (*real, *relative[len(prefix):])
        return self.path


@dataclass(frozen=True)
class CustomKind:
    """An entry of rules/data/pod-templates.yaml."""

    group: str
    kind: str
    resource: str  # the plural, as the webhook registers it
    pod_specs: tuple[str, ...]
    workflow_specs: tuple[str, ...]
    cite: str

    @property
    def name(self) -> str:
        """How `webhook.custom-kinds` names it: group/Kind."""
        return f"{self.group}/{self.kind}"


def pod_templates_file() -> str:
    from .registry import rules_folder  # registry imports model: import late
    return os.path.join(rules_folder(), "data", "pod-templates.yaml")


@cache
def custom_kinds() -> dict[str, CustomKind]:
    """The pod-templates table by kind name (names do not collide across the listed projects)."""
    with open(pod_templates_file(), encoding="utf-8") as handle:
        text = handle.read()
    data = _table_data(text)
    table = {}
    for entry in data["kinds"]:
        table[entry["kind"]] = CustomKind(entry["group"], entry["kind"], entry["resource"],
                                          tuple(entry.get("pod-specs", ())),
                                          tuple(entry.get("workflow-specs", ())), entry["cite"])
    return table


def _table_data(text: str) -> Any:
    """The table as PyYAML reads it, kept under the cache by its text's digest: the pure-Python
    SafeLoader took ~15 ms of a one-file lint for this 5 kB file, reading it back 0.05."""
    from . import validated

    name = f"pod-templates-{validated.digest(text)}-yaml{yaml.__version__}"
    data = validated.read_data(name)
    if data is None:
        data = yaml.safe_load(text)
        validated.write_data(name, data)
    return data


def _expand(value: Any, path: str) -> Iterator[tuple[Pointer, Any]]:
    """Every (pointer, value) a table path names: `a.b[].c` walks each item of b, `*` each value."""
    found: list[tuple[Pointer, Any]] = [((), value)]
    for part in path.split("."):
        each = part.endswith("[]")
        key = part[:-2] if each else part
        step: list[tuple[Pointer, Any]] = []
        for where, current in found:
            if not isinstance(current, dict):
                continue
            if key == "*":
                step.extend(((*where, k), v) for k, v in current.items())
            elif key in current:
                step.append(((*where, key), current[key]))
        if each:
            step = [((*where, index), item) for where, items in step if isinstance(items, list)
                    for index, item in enumerate(items)]
        found = step
    yield from found


# The keys of an Argo template that hold the containers of its pod: main container or script, the
# containers of a containerSet, sidecars (which run beside the main container), and init containers.
_ARGO_CONTAINERS: tuple[tuple[Pointer, str], ...] = (
    (("container",), "containers"), (("script",), "containers"),
    (("containerSet", "containers"), "containers[]"), (("sidecars",), "containers[]"),
    (("initContainers",), "initContainers[]"),
)


def _patched_host_network(patch: Any) -> bool:
    """Whether a podSpecPatch string sets hostNetwork (a patch with {{ }} or not YAML is not read)."""
    if not isinstance(patch, str) or "hostNetwork" not in patch:
        return False
    try:
        parsed = yaml.safe_load(patch)
    except yaml.YAMLError:
        return False
    return isinstance(parsed, dict) and "hostNetwork" in parsed


def _argo_pods(workflow: dict, where: Pointer) -> Iterator[PodSpec]:
    host: tuple[Pointer, Any] | None = None
    if "hostNetwork" in workflow:
        host = ((*where, "hostNetwork"), workflow["hostNetwork"])
    if _patched_host_network(workflow.get("podSpecPatch")):
        host = ((*where, "podSpecPatch"), yaml.safe_load(workflow["podSpecPatch"])["hostNetwork"])
    templates = workflow.get("templates")
    for index, template in enumerate(templates if isinstance(templates, list) else []):
        if not isinstance(template, dict):
            continue
        t_path = (*where, "templates", index)
        t_host = host
        if _patched_host_network(template.get("podSpecPatch")):
            t_host = ((*t_path, "podSpecPatch"), yaml.safe_load(template["podSpecPatch"])["hostNetwork"])
        view: dict[str, Any] = {}
        places: list[tuple[Pointer, Pointer]] = []
        for keys, target in _ARGO_CONTAINERS:
            value = _dig(template, keys)
            if value is None:
                continue
            name = target.rstrip("[]")
            items = view.setdefault(name, [])
            if target.endswith("[]"):
                if not isinstance(value, list):
                    continue
                for c_index, container in enumerate(value):
                    places.append(((name, len(items)), (*t_path, *keys, c_index)))
                    items.append(container)
            else:
                places.append(((name, len(items)), (*t_path, *keys)))
                items.append(value)
        if not view:
            continue  # steps, dag, resource, suspend...: no pod of the user's containers
        if t_host is not None:
            view["hostNetwork"] = t_host[1]
            places.append((("hostNetwork",), t_host[0]))
        places.sort(key=lambda place: -len(place[0]))
        yield PodSpec(t_path, view, tuple(places))


def pod_specs(obj: K8sObject) -> list[PodSpec]:
    """Every pod spec of an object: the one of a built-in or generic kind, or those the
    pod-templates table lists for its kind."""
    entry = _table_entry(obj)
    if entry is None:
        found = obj.pod_spec()
        return [] if found is None else [PodSpec(*found)]
    found_specs: list[PodSpec] = []
    for path in entry.pod_specs:
        found_specs.extend(PodSpec(where, spec) for where, spec in _expand(obj.value, path)
                           if isinstance(spec, dict))
    for path in entry.workflow_specs:
        for where, workflow in _expand(obj.value, path):
            if isinstance(workflow, dict):
                found_specs.extend(_argo_pods(workflow, where))
    return found_specs


def _table_entry(obj: K8sObject) -> CustomKind | None:
    entry = custom_kinds().get(obj.ref.kind or "")
    return entry if entry is not None and _group(obj.ref.api_version) == entry.group else None


def _group(api_version: str | None) -> str:
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


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
    pod: PodSpec | None = None  # set for a pod-spec target that is a view (an Argo template's pod)

    def resolve(self, relative: Pointer) -> Pointer:
        """Where a path relative to the target's value is in the object."""
        return self.pod.resolve(relative) if self.pod is not None else (*self.path, *relative)


def targets(obj: K8sObject, kind: str) -> Iterator[Target]:
    if kind == "object":
        yield Target(obj, (), obj.value)
    elif kind == "pod-spec":
        for pod in pod_specs(obj):
            yield Target(obj, pod.path, pod.value, pod if pod.places is not None else None)
    elif kind == "container":
        for pod in pod_specs(obj):
            for list_name in CONTAINER_LISTS:
                containers = pod.value.get(list_name)
                if isinstance(containers, list):
                    for index, container in enumerate(containers):
                        if isinstance(container, dict):
                            yield Target(obj, pod.resolve((list_name, index)), container)
    elif kind in WHOLE_OBJECT_TARGETS:
        if obj.ref.kind in WHOLE_OBJECT_TARGETS[kind]:
            yield Target(obj, (), obj.value)
    else:  # pragma: no cover - rule files are validated against TARGET_KINDS
        raise ValueError(f"unknown target {kind!r}")
