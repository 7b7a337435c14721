"""Two routes attached to the same listener claiming the same hostname and match."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .routing import more, namespace_of, normalize_prefix, parent_refs, route_rules, spec_of, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

MATCHING_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute")


def _pairs(items: Any, default_type: str = "Exact") -> tuple:
    return tuple(sorted((text(i.get("type")) or default_type, text(i.get("name")).lower(), text(i.get("value")))
                        for i in (items if isinstance(items, list) else []) if isinstance(i, dict)))


def _signature(kind: str, match: dict[str, Any]) -> tuple:
    """What decides whether a request matches: equal signatures match exactly the same requests."""
    if kind == "GRPCRoute":
        method = match.get("method") if isinstance(match.get("method"), dict) else {}
        return ("grpc", text(method.get("type")) or "Exact", text(method.get("service")),
                text(method.get("method")), _pairs(match.get("headers")))
    path = match.get("path") if isinstance(match.get("path"), dict) else {}
    path_type = text(path.get("type")) or "PathPrefix"
    value = text(path.get("value")) or "/"
    if path_type == "PathPrefix":
        value = normalize_prefix(value)
    return ("http", path_type, value, _pairs(match.get("headers")), _pairs(match.get("queryParams")),
            text(match.get("method")))


def _action(rules: list[dict[str, Any]], namespace: Any) -> str:
    """What the rules do with the requests they win: everything but the matches, with each
    backendRef's defaults filled in (a backendRef without namespace is a Service of the route's
    namespace, so equal names in two namespaces are two backends). Two tied rules with equal
    actions send the requests to the same place whichever wins. JSON keeps the fact small and
    picklable."""
    import json  # here: json costs ~3 ms of start-up to import, and only routes need it

    def backend(ref: dict[str, Any]) -> str:
        return json.dumps({**ref, "group": text(ref.get("group")), "kind": text(ref.get("kind")) or "Service",
                           "namespace": ref.get("namespace") or namespace, "weight": ref.get("weight", 1)},
                          sort_keys=True, default=str)

    actions = []
    for rule in rules:
        refs = rule.get("backendRefs")
        backends = sorted(backend(ref) for ref in (refs if isinstance(refs, list) else []) if isinstance(ref, dict))
        rest = {key: value for key, value in rule.items() if key not in ("matches", "name", "backendRefs")}
        actions.append([backends, rest])
    return json.dumps(actions, sort_keys=True, default=str)


def _claims(kind: str, value: dict[str, Any], namespace: Any) -> Iterator[tuple[tuple, tuple, str]]:
    """(path of the match, signature, action of its rule) for every match of every rule; a rule
    without matches matches every request (HTTPRoute's default is PathPrefix /)."""
    if kind == "TLSRoute":
        yield ("spec",), ("tls",), _action([rule for _, rule in route_rules(value)], namespace)
        return
    for path, rule in route_rules(value):
        action = _action([rule], namespace)
        matches = rule.get("matches")
        if not isinstance(matches, list) or not matches:
            yield path, _signature(kind, {}), action
            continue
        for index, match in enumerate(matches):
            if isinstance(match, dict):
                yield (*path, "matches", index), _signature(kind, match), action


def describe(signature: tuple) -> str:
    if signature[0] == "http":
        extra = " with the same headers, query and method" if any(signature[3:]) else ""
        return f"{signature[1]} {signature[2]}{extra}"
    if signature[0] == "grpc":
        return f"gRPC method {signature[2] or '*'}/{signature[3] or '*'}"
    return "SNI"


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    kind = obj.ref.kind
    if kind not in MATCHING_KINDS:
        return
    spec = spec_of(obj.value) or {}
    hostnames = spec.get("hostnames")
    hosts = frozenset(h.lower() for h in (hostnames if isinstance(hostnames, list) else []) if isinstance(h, str))
    claims = list(_claims(kind, obj.value, namespace_of(obj)))
    for ref in parent_refs(obj.value, namespace_of(obj)):
        seen = set()
        for path, signature, action in claims:
            if signature in seen:
                continue
            seen.add(signature)
            yield Fact(("parent", ref.kind, ref.namespace, ref.name),
                       (kind, ref.section, hosts, signature, action), place(path))


def _overlap(a: frozenset, b: frozenset) -> str | None:
    """The hostname both routes claim: "every host" when neither sets hostnames. A route with
    hostnames beats one without (the more specific hostname wins), so that is no tie."""
    if not a and not b:
        return "every host"
    common = sorted(a & b)
    return common[0] if common else None


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (_, parent_kind, _, parent_name), facts in groups.items():
        by_signature: dict[tuple, list[Fact]] = defaultdict(list)
        for fact in facts:
            by_signature[(fact.value[0], fact.value[3])].append(fact)
        for (_, signature), same in by_signature.items():
            if len({f.place.identity for f in same}) < 2:
                continue
            for fact in same:
                _, section, hosts, _, action = fact.value
                rivals = []
                for other in same:
                    if other.place.identity == fact.place.identity:
                        continue
                    if section and other.value[1] and section != other.value[1]:
                        continue  # different listeners
                    if other.value[4] == action:
                        continue  # same backends and filters: whichever wins, nothing changes
                    host = _overlap(hosts, other.value[2])
                    if host:
                        rivals.append((other, host))
                if not rivals:
                    continue
                other, host = rivals[0]
                listener = f"listener {section or other.value[1]} of " if section or other.value[1] else ""
                yield Conflict(fact.place, f"{describe(signature)} for {host} is also claimed by "
                               f"{other.place.label} ({other.place.where}){more(len(rivals) - 1)} on "
                               f"{listener}{parent_kind} {parent_name}: the oldest route wins and the "
                               "other silently gets no traffic", related=other.place.where)
