"""Values the apiserver rejects, on the fields the exposure rules read.

Mirrors pkg/apis/core/validation (validateContainerPorts, validateHostNetwork, ValidateService)
and the JSON decoding of typed fields: a quoted number or boolean is a type error there, not a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Target, pod_specs
from . import Hit, Settings, is_int
from .ports import PROTOCOLS, container_ports

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def _is_cidr(value: str) -> bool:
    """As the apiserver's IsValidCIDR (netutils.ParseCIDRSloppy): an address and a prefix length,
    host bits allowed, IPv4 octets with leading zeros allowed (Python refuses those, Go's sloppy
    parser does not)."""
    import ipaddress  # here: the module costs ~1.5 ms of start-up to import, and few objects need it

    address, slash, prefix = value.partition("/")
    if not slash or not prefix.isdigit():
        return False
    if ":" not in address:
        address = _LEADING_ZEROS.sub("", address)
    try:
        ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    except ValueError:
        return False
    return True


def _source_ranges(service: dict[str, Any], spec: dict[str, Any]) -> Iterator[Hit]:
    """ValidateService: each spec range (spaces around it allowed, a historical accident), or else
    each comma-separated range of the legacy annotation, must be a CIDR."""
    ranges = spec.get("loadBalancerSourceRanges")
    if isinstance(ranges, list) and ranges:
        for index, value in enumerate(ranges):
            if not isinstance(value, str):
                yield Hit(("spec", "loadBalancerSourceRanges", index),
                          f"a source range must be a string, not {_kind_of(value)}")
            elif not _is_cidr(value.strip()):
                yield Hit(("spec", "loadBalancerSourceRanges", index), f"loadBalancerSourceRanges "
                          f"entry {value.strip()!r} is not a valid CIDR (e.g. 10.240.0.0/24); the "
                          "apiserver rejects it")
        return
    metadata = service.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    legacy = annotations.get(SOURCE_RANGES_ANNOTATION) if isinstance(annotations, dict) else None
    if isinstance(legacy, str) and legacy.strip():
        bad = [v.strip() for v in legacy.strip().split(",") if not _is_cidr(v.strip())]
        if bad:
            yield Hit(("metadata", "annotations", SOURCE_RANGES_ANNOTATION),
                      f"{SOURCE_RANGES_ANNOTATION} holds {', '.join(map(repr, bad))}, not a list of "
                      "CIDRs (e.g. 10.240.0.0/24,10.250.0.0/24); the apiserver rejects it")


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, float):
        return f"number {value!r}"
    if value is None:
        return "null"
    return type(value).__name__ if not isinstance(value, (dict, list)) else (
        "a mapping" if isinstance(value, dict) else "a list")


def _port(value: Any, field: str, path: tuple, low: int = 1) -> Iterator[Hit]:
    if not is_int(value):
        yield Hit(path, f"{field} must be an integer, not {_kind_of(value)}")
    elif not low <= value <= 65535:
        yield Hit(path, f"{field} {value} is outside {low}-65535")


def _protocol(port: dict[str, Any], path: tuple) -> Iterator[Hit]:
    if "protocol" in port and port["protocol"] not in PROTOCOLS:
        yield Hit((*path, "protocol"), f"protocol must be one of TCP, UDP, SCTP, not "
                  f"{_kind_of(port['protocol'])}")


def _pod_spec(spec: Any, path: tuple) -> Iterator[Hit]:
    if not isinstance(spec, dict):
        yield Hit(path, f"the pod spec must be a mapping, not {_kind_of(spec)}")
        return
    host_network = spec.get("hostNetwork")
    if "hostNetwork" in spec and not isinstance(host_network, bool) and host_network is not None:
        yield Hit((*path, "hostNetwork"), f"hostNetwork must be a boolean, not {_kind_of(host_network)}")
    for list_name in ("containers", "initContainers", "ephemeralContainers"):
        containers = spec.get(list_name)
        if containers is not None and not isinstance(containers, list):
            yield Hit((*path, list_name), f"{list_name} must be a list, not {_kind_of(containers)}")
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            ports = container.get("ports") if isinstance(container, dict) else None
            if ports is not None and not isinstance(ports, list):
                yield Hit((*path, list_name, index, "ports"), f"ports must be a list, not {_kind_of(ports)}")
            elif list_name == "ephemeralContainers" and ports:
                # validateEphemeralContainers: "Ports are not allowed for ephemeral containers".
                yield Hit((*path, list_name, index, "ports"), "ephemeral containers may not have ports; "
                          "the apiserver rejects them")
    for port_path, port in container_ports(spec):
        where = (*path, *port_path)
        yield from _port(port.get("containerPort"), "containerPort", (*where, "containerPort"))
        if "hostPort" in port and port["hostPort"] is not None:
            # 0 means "no host port"; the API takes 0-65535.
            yield from _port(port["hostPort"], "hostPort", (*where, "hostPort"), low=0)
            host_port, container_port = port["hostPort"], port.get("containerPort")
            if (host_network is True and is_int(host_port) and host_port != 0 and is_int(container_port)
                    and host_port != container_port):
                yield Hit((*where, "hostPort"), f"hostPort {host_port} must equal containerPort "
                          f"{container_port} when hostNetwork is true; the apiserver rejects it")
        yield from _protocol(port, where)


def _service(service: dict[str, Any]) -> Iterator[Hit]:
    spec = service.get("spec")
    if spec is None:
        return
    if not isinstance(spec, dict):
        yield Hit(("spec",), f"spec must be a mapping, not {_kind_of(spec)}")
        return
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        yield Hit(("spec", "type"), f"type must be one of {', '.join(SERVICE_TYPES)}, not {_kind_of(kind)}")
    ports = spec.get("ports")
    if ports is not None and not isinstance(ports, list):
        yield Hit(("spec", "ports"), f"ports must be a list, not {_kind_of(ports)}")
        return
    for index, port in enumerate(ports or []):
        where = ("spec", "ports", index)
        if not isinstance(port, dict):
            yield Hit(where, f"a port must be a mapping, not {_kind_of(port)}")
            continue
        if kind != "ExternalName" or "port" in port:
            yield from _port(port.get("port"), "port", (*where, "port"))
        yield from _protocol(port, where)
        node_port = port.get("nodePort")
        if node_port is None:
            continue
        yield from _port(node_port, "nodePort", (*where, "nodePort"), low=0)
        if is_int(node_port) and node_port != 0 and kind in ("ClusterIP", "ExternalName"):
            yield Hit((*where, "nodePort"), f"nodePort may not be used when type is {kind!r} (type "
                      f"{'omitted means ClusterIP' if 'type' not in spec else 'allocates no node ports'});"
                      " the apiserver rejects it")
    external_ips = spec.get("externalIPs")
    if external_ips is not None and not isinstance(external_ips, list):
        yield Hit(("spec", "externalIPs"), f"externalIPs must be a list, not {_kind_of(external_ips)}")
    ranges = spec.get("loadBalancerSourceRanges")
    if ranges is not None and not isinstance(ranges, list):
        yield Hit(("spec", "loadBalancerSourceRanges"),
                  f"loadBalancerSourceRanges must be a list, not {_kind_of(ranges)}")
    yield from _source_ranges(service, spec)


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    obj = target.obj
    pods = pod_specs(obj)
    for pod in pods:
        # Hits of a view (an Argo template's pod) are placed where each field is written.
        yield from (Hit(pod.resolve(hit.path), hit.message, hit.level) for hit in _pod_spec(pod.value, ()))
    if not pods and obj.ref.kind == "Pod" and "spec" in obj.value:
        yield from _pod_spec(obj.value["spec"], ("spec",))
    if obj.ref.kind == "Service":
        yield from _service(obj.value)
