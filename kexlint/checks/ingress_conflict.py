"""Two Ingresses of one class claiming the same host, path and pathType."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .routing import ingress_paths, more, normalize_prefix, spec_of, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
CLASSES = ("ingressclasses",)
# Which IngressClass is the default decides the class of every Ingress that names none.
GLOBAL_KEYS = (CLASSES,)


def _explicit_class(obj: Any, spec: dict[str, Any]) -> str | None:
    # spec.ingressClassName wins over the deprecated annotation, as controllers read them.
    name = text(spec.get("ingressClassName")) or text(obj.annotations.get(CLASS_ANNOTATION))
    return name or None


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    if obj.ref.kind == "IngressClass":
        default = text(obj.annotations.get(DEFAULT_CLASS_ANNOTATION)).lower() == "true"
        yield Fact(CLASSES, (obj.ref.name, default), place(("metadata", "name")))
        return
    spec = spec_of(obj.value)
    if obj.ref.kind != "Ingress" or spec is None:
        return
    for marker in params.get("merged-by-annotations", []):
        value = obj.annotations.get(marker["annotation"])
        if isinstance(value, str) and value.strip().lower() == str(marker["value"]).lower():
            return  # the controller combines this one with the main Ingress on purpose (a canary)
    cls = _explicit_class(obj, spec)
    seen = set()
    for entry in ingress_paths(spec):
        path = normalize_prefix(entry.value) if entry.path_type == "Prefix" else entry.value
        claim = (entry.path_type, path)
        if claim in seen:
            continue  # twice in one Ingress: the controller merges it, not a conflict between two
        seen.add(claim)
        yield Fact(("ingress", entry.host.lower()), (cls, *claim),
                   place((*entry.path, "path") if entry.value else entry.path))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    defaults = sorted(name for name, default in (f.value for f in groups.get(CLASSES, [])) if default)
    default = defaults[0] if defaults else None
    for key, facts in groups.items():
        if key == CLASSES:
            continue
        host = key[1]
        claims: dict[tuple, list[Fact]] = defaultdict(list)
        for fact in facts:
            cls, path_type, path = fact.value
            claims[(cls or default, path_type, path)].append(fact)
        for (cls, path_type, path), claimants in claims.items():
            if len({f.place.identity for f in claimants}) < 2:
                continue
            for fact in claimants:
                others = [f for f in claimants if f.place.identity != fact.place.identity]
                other = others[0]
                owner = f"class {cls}" if cls else "no class (and no default IngressClass in the set)"
                if cls and fact.value[0] is None:
                    owner += " (the default)"
                shown = f"host {host}" if host else "every host"
                yield Conflict(fact.place, f"{shown}, {path_type} path {path or '(none)'} is also claimed "
                               f"by {other.place.label} ({other.place.where}){more(len(others) - 1)}, "
                               f"{owner}: the controller serves only one of them",
                               related=other.place.where)
