"""Facts about hosts, paths and backends shared by the Ingress and Gateway API checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..loader import Pointer
from . import is_int


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


def gateway_host_covers(pattern: str, host: str) -> bool:
    """Gateway API's wildcard: `*.example.com` matches any number of labels in front
    (`foo.bar.example.com` too), never `example.com` itself."""
    pattern, host = pattern.lower(), host.lower()
    if pattern == host:
        return True
    return pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1


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
