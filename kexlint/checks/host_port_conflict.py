"""Host ports that cannot be bound together on one node: inside one pod and across workloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .ports import HostBinding, format_range, host_bindings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def _field(binding: HostBinding) -> str:
    return "containerPort (bound on the node by hostNetwork)" if binding.implicit else "hostPort"


Placement = frozenset  # of (node label key, frozenset of the values a pod accepts there)


def placement(spec: dict[str, Any]) -> Placement:
    """The node labels a pod requires, as key → the values it accepts: from nodeSelector and from
    required node affinity. A key counts only when every nodeSelectorTerm (they are ORed) requires it
    with `In`; NotIn, Exists, Gt and preferred affinity leave it open, since pods may then share a node."""
    allowed: dict[str, frozenset[str]] = {}
    selector = spec.get("nodeSelector")
    if isinstance(selector, dict):
        for key, value in selector.items():
            if isinstance(key, str) and isinstance(value, str):
                allowed[key] = frozenset((value,))
    affinity = spec.get("affinity")
    node = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") if isinstance(node, dict) else None
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if isinstance(terms, list) and terms:
        per_term = [_term(term) for term in terms]
        for key in set.intersection(*(set(term) for term in per_term)):
            values = frozenset().union(*(term[key] for term in per_term))
            allowed[key] = allowed[key] & values if key in allowed else values
    return frozenset(allowed.items())


def _term(term: Any) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    if not isinstance(term, dict):
        return found
    for field, prefix in (("matchExpressions", ""), ("matchFields", "field:")):
        expressions = term.get(field)
        if not isinstance(expressions, list):
            continue
        for expression in expressions:
            if not isinstance(expression, dict) or expression.get("operator") != "In":
                continue
            key, values = expression.get("key"), expression.get("values")
            if isinstance(key, str) and isinstance(values, list):
                accepted = frozenset(v for v in values if isinstance(v, str))
                key = prefix + key
                found[key] = found[key] & accepted if key in found else accepted
    return found


def can_share_a_node(one: Placement, other: Placement) -> bool:
    """False only when some label both require has no value both accept."""
    theirs = dict(other)
    return all(not (key in theirs and not values & theirs[key]) for key, values in one)


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    spec = target.value
    if not isinstance(spec, dict):
        return
    seen: list[HostBinding] = []
    by_port: dict[tuple[int, str], list[HostBinding]] = defaultdict(list)
    low, high = settings.node_port_range
    for binding in host_bindings(spec):
        earlier = next((b for b in by_port[(binding.port, binding.protocol)] if b.overlaps(binding)), None)
        if earlier is not None:
            yield Hit(binding.path, f"{_field(binding)} {binding.describe()} is bound twice in this "
                      f"pod (also at {'/'.join(map(str, earlier.path))}); the pod can never be "
                      "scheduled")
        by_port[(binding.port, binding.protocol)].append(binding)
        seen.append(binding)
        if low <= binding.port <= high:
            yield Hit(binding.path, f"{_field(binding)} {binding.port} lies in the service node port "
                      f"range {format_range(settings.node_port_range)}: it collides with any NodePort "
                      "Service given that port, which kube-proxy opens on every node")
    recorded: set[tuple[int, str, str]] = set()
    where = placement(spec)
    for binding in seen:
        ip = "" if binding.wildcard else binding.ip
        if (binding.port, binding.protocol, ip) in recorded:
            continue
        recorded.add((binding.port, binding.protocol, ip))
        yield Fact((binding.port, binding.protocol), (ip, where), place(binding.path))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (port, protocol), facts in groups.items():
        if len({fact.place.identity for fact in facts}) < 2:
            continue
        wildcards = [fact for fact in facts if fact.value[0] == ""]
        by_ip: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts:
            if fact.value[0]:
                by_ip[fact.value[0]].append(fact)
        for fact in facts:
            if fact.place.context:
                continue
            identity = fact.place.identity
            ip, where = fact.value
            rivals = facts if ip == "" else wildcards + by_ip[ip]
            others = [rival for rival in rivals if rival.place.identity != identity
                      and can_share_a_node(where, rival.value[1])]
            if not others:
                continue
            other = others[0].place
            count = len({rival.place.identity for rival in others})
            more = f" and {count - 1} more" if count > 1 else ""
            shown_ip = ip or "0.0.0.0"
            yield Conflict(fact.place, f"hostPort {shown_ip}:{port}/{protocol} is also bound by "
                           f"{other.label} ({other.where}){more}: their pods can never run on the "
                           "same node", related=other.where)
