"""Facts about hosts, paths and backends shared by the Ingress and Gateway API checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..loader import Pointer
from ..records import dataclass
from . import is_int

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def ingress_host_covers(pattern: str, host: str) -> bool:
    """Whether an Ingress host (or a tls[].hosts entry) covers host, as IngressRule.host defines a
    wildcard: `*.foo.com` matches `bar.foo.com` but neither `baz.bar.foo.com` nor `foo.com` (one
    DNS label only). Equal names, wildcards included, always cover; case does not matter."""
    pattern, host = pattern.lower(), host.lower()
    if pattern == host:
        return True
    if pattern.startswith("*.") and not host.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def normalize_prefix(path: str) -> str:
    """Prefix matching is element by element and ignores a trailing slash (the Ingress spec:
    `/foo` and `/foo/` match the same requests; Gateway API's PathPrefix is defined the same way),
    so two prefixes equal after this claim exactly the same requests."""
    collapsed = re.sub("/+", "/", path)
    return collapsed.rstrip("/") or "/"


@dataclass(frozen=True)
class BackendRef:
    """A Service an Ingress sends traffic to: name and port (number or name), where it is written."""

    path: Pointer
    name: str
    port: int | str | None


def _service_backend(backend: Any, path: Pointer) -> BackendRef | None:
    if not isinstance(backend, dict):
        return None
    service = backend.get("service")
    if isinstance(service, dict) and isinstance(service.get("name"), str):
        port = service.get("port")
        value: int | str | None = None
        if isinstance(port, dict):
            if is_int(port.get("number")):
                value = port["number"]
            elif isinstance(port.get("name"), str):
                value = port["name"]
        return BackendRef((*path, "service", "name"), service["name"], value)
    # extensions/v1beta1 and networking.k8s.io/v1beta1: serviceName and servicePort (int or string)
    if isinstance(backend.get("serviceName"), str):
        port = backend.get("servicePort")
        return BackendRef((*path, "serviceName"), backend["serviceName"],
                          port if is_int(port) or isinstance(port, str) else None)
    return None  # a resource backend (or nothing): not a Service


def ingress_rules(spec: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    rules = spec.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict):
            yield index, rule


@dataclass(frozen=True)
class IngressPath:
    rule: int
    path: Pointer  # of the path entry
    host: str  # "" for a rule without host
    value: str  # the path ("" when unset)
    path_type: str


def ingress_paths(spec: dict[str, Any]) -> Iterator[IngressPath]:
    for index, rule in ingress_rules(spec):
        host = rule.get("host") if isinstance(rule.get("host"), str) else ""
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, dict) else None
        for p_index, entry in enumerate(paths if isinstance(paths, list) else []):
            if not isinstance(entry, dict):
                continue
            value = entry.get("path") if isinstance(entry.get("path"), str) else ""
            path_type = entry.get("pathType") if isinstance(entry.get("pathType"), str) else "ImplementationSpecific"
            yield IngressPath(index, ("spec", "rules", index, "http", "paths", p_index), host, value, path_type)


def default_backend_key(spec: dict[str, Any]) -> str | None:
    """`defaultBackend` in networking.k8s.io/v1, `backend` in the beta APIs."""
    for key in ("defaultBackend", "backend"):
        if isinstance(spec.get(key), dict):
            return key
    return None


def ingress_backends(spec: dict[str, Any]) -> Iterator[BackendRef]:
    key = default_backend_key(spec)
    if key is not None:
        found = _service_backend(spec[key], ("spec", key))
        if found:
            yield found
    for entry in ingress_paths(spec):
        http_path = entry.path
        rules = spec["rules"]
        backend = rules[entry.rule]["http"]["paths"][http_path[-1]].get("backend")
        found = _service_backend(backend, (*http_path, "backend"))
        if found:
            yield found


def spec_of(value: Any) -> dict[str, Any] | None:
    spec = value.get("spec") if isinstance(value, dict) else None
    return spec if isinstance(spec, dict) else None


def listeners(value: dict[str, Any]) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    """The listeners of a Gateway or a ListenerSet, with their paths."""
    spec = spec_of(value)
    found = spec.get("listeners") if spec else None
    for index, listener in enumerate(found if isinstance(found, list) else []):
        if isinstance(listener, dict):
            yield ("spec", "listeners", index), listener


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


Namespace = str | tuple[str, str]


def namespace_of(obj: Any) -> Namespace:
    """The namespace an object lands in. A manifest without one lands wherever `kubectl -n` (or
    Helm's release namespace) puts it: the set shows only that the objects of one file (one apply,
    one rendered chart) share it, so those count as one namespace per source, never as "default"
    together with unrelated files."""
    return obj.ref.namespace or ("", obj.source or "")


def namespace_label(namespace: Namespace) -> str:
    return f"namespace {namespace}" if isinstance(namespace, str) and namespace else "its namespace"


def namespace_text(namespace: Namespace) -> str:
    return namespace if isinstance(namespace, str) and namespace else "(unset)"


def pod_labels(obj: Any) -> tuple[Pointer, dict[str, str]] | None:
    """The labels of the pods a workload runs: the Pod's own, or its template's."""
    found = obj.pod_spec()
    if found is None:
        if obj.ref.kind != "Pod":
            return None
        path: Pointer = ("metadata", "labels")
    else:
        spec_path = found[0]
        path = ("metadata", "labels") if obj.ref.kind == "Pod" else (*spec_path[:-1], "metadata", "labels")
    value: Any = obj.value
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return path, string_map(value)


def string_map(value: Any) -> dict[str, str]:
    """A map[string]string field (labels, a selector): entries of other types are the apiserver's
    to reject and match nothing here (never str() of a nested value, which may be deep)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def declared_ports(obj: Any) -> tuple[tuple[str, int, str], ...]:
    """(name, containerPort, protocol) of every port the pod's containers declare."""
    found = obj.pod_spec()
    if found is None:
        return ()
    spec = found[1]
    result = []
    for list_name in ("containers", "initContainers"):  # sidecars are init containers that keep running
        containers = spec.get(list_name)
        for container in containers if isinstance(containers, list) else []:
            ports = container.get("ports") if isinstance(container, dict) else None
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict) and is_int(port.get("containerPort")):
                    result.append((text(port.get("name")), port["containerPort"], text(port.get("protocol")) or "TCP"))
    return tuple(result)


def selector_of(service: dict[str, Any]) -> dict[str, str] | None:
    """A Service's non-empty selector; None for a Service without one (endpoints managed by hand)
    or an ExternalName Service."""
    spec = spec_of(service)
    if not spec or spec.get("type") == "ExternalName":
        return None
    selector = string_map(spec.get("selector"))
    return selector or None


def selects(selector: frozenset, labels: frozenset) -> bool:
    return selector <= labels


class LabelIndex:
    """Items (pods' label sets, with anything attached) found by selector without comparing the
    selector with every item: a namespace of a rendered corpus holds thousands of workloads and
    Services, and selector × workload comparisons were most of the conclusions' time."""

    def __init__(self, items: list[tuple[frozenset, Any]]) -> None:
        self.items = items
        self.by_label: dict[tuple, list[int]] = {}
        for index, (labels, _) in enumerate(items):
            for label in labels:
                self.by_label.setdefault(label, []).append(index)

    def matching(self, selector: frozenset) -> list[Any]:
        """What is attached to each item the selector selects, in the items' order."""
        if not selector:
            return [value for _, value in self.items]
        candidates = min((self.by_label.get(label, ()) for label in selector), key=len)
        return [self.items[i][1] for i in candidates if selects(selector, self.items[i][0])]


def service_ports(service: dict[str, Any]) -> tuple[tuple[int | None, str], ...]:
    """(port, name) of each port a Service exposes."""
    spec = spec_of(service)
    ports = spec.get("ports") if spec else None
    return tuple((p.get("port") if is_int(p.get("port")) else None, text(p.get("name")))
                 for p in (ports if isinstance(ports, list) else []) if isinstance(p, dict))


def count_of(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def more(count: int) -> str:
    return f" and {count} more" if count > 0 else ""


@dataclass(frozen=True)
class RouteRef:
    """A parentRef or backendRef of a Gateway API route, with its defaults applied."""

    path: Pointer
    group: str
    kind: str
    namespace: str | tuple[str, str]
    name: str
    section: str  # sectionName ("" for every listener)
    port: int | None


def _refs(items: Any, path: Pointer, namespace: str | tuple[str, str], group: str, kind: str
          ) -> Iterator[RouteRef]:
    for index, ref in enumerate(items if isinstance(items, list) else []):
        if isinstance(ref, dict) and text(ref.get("name")):
            port = ref.get("port")
            yield RouteRef((*path, index), text(ref.get("group")) if "group" in ref else group,
                           text(ref.get("kind")) or kind, text(ref.get("namespace")) or namespace,
                           ref["name"], text(ref.get("sectionName")), port if is_int(port) else None)


GATEWAY_PARENT_KINDS = ("Gateway", "ListenerSet")


def parent_refs(value: dict[str, Any], namespace: str | tuple[str, str]) -> Iterator[RouteRef]:
    """parentRefs naming a Gateway or ListenerSet (group gateway.networking.k8s.io by default);
    Services as parents (the GAMMA mesh) are not listeners."""
    spec = spec_of(value)
    for ref in _refs(spec.get("parentRefs") if spec else None, ("spec", "parentRefs"), namespace,
                     "gateway.networking.k8s.io", "Gateway"):
        if ref.group == "gateway.networking.k8s.io" and ref.kind in GATEWAY_PARENT_KINDS:
            yield ref


def route_rules(value: dict[str, Any]) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    spec = spec_of(value)
    rules = spec.get("rules") if spec else None
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict):
            yield ("spec", "rules", index), rule


def backend_refs(value: dict[str, Any], namespace: str | tuple[str, str]) -> Iterator[RouteRef]:
    """backendRefs naming a core Service (group "" and kind Service are the defaults)."""
    for path, rule in route_rules(value):
        for ref in _refs(rule.get("backendRefs"), (*path, "backendRefs"), namespace, "", "Service"):
            if ref.group == "" and ref.kind == "Service":
                yield ref
