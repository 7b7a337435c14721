"""Service targetPorts that no container of the selected pods declares."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings, is_int
from .routing import LabelIndex, declared_ports, namespace_of, pod_labels, selector_of, spec_of, text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    key = ("ns", namespace_of(obj))
    if obj.ref.kind == "Service":
        selector = selector_of(obj.value)
        spec = spec_of(obj.value) or {}
        ports = spec.get("ports")
        if selector is None or not isinstance(ports, list):
            return
        for index, port in enumerate(ports):
            if not isinstance(port, dict):
                continue
            # targetPort defaults to port; both are the pod's side only through targetPort.
            where = ("spec", "ports", index, "targetPort" if "targetPort" in port else "port")
            wanted = port.get("targetPort", port.get("port"))
            if is_int(wanted) or (isinstance(wanted, str) and wanted):
                protocol = text(port.get("protocol")) or "TCP"
                yield Fact(key, ("service", frozenset(selector.items()), wanted, protocol), place(where))
        return
    found = pod_labels(obj)
    if found is not None:
        yield Fact(key, ("pods", frozenset(found[1].items()), declared_ports(obj), str(obj.ref)), place(found[0]))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for facts in groups.values():
        pods = LabelIndex([(f.value[1], f) for f in facts if f.value[0] == "pods"])
        for fact in facts:
            if fact.value[0] != "service":
                continue
            _, selector, wanted, protocol = fact.value
            selected = pods.matching(selector)
            if not selected:
                continue  # dangling-service's finding, or no workloads in the set
            declared = [port for p in selected for port in p.value[2] if port[2] == protocol]
            names = ", ".join(sorted({p.value[3] for p in selected}))
            if isinstance(wanted, str):
                if not any(port[0] == wanted for port in declared):
                    yield Conflict(fact.place, f"targetPort {wanted!r} ({protocol}) is the name of no "
                                   f"container port of the selected pods ({names}): traffic to this port "
                                   "fails", related=selected[0].place.where)
            elif declared and not any(port[1] == wanted for port in declared):
                # containerPort is informational: an undeclared port still receives traffic.
                yield Conflict(fact.place, f"targetPort {wanted} ({protocol}) is declared by no container "
                               f"of the selected pods ({names}), which declare "
                               f"{', '.join(sorted({str(p[1]) for p in declared}))}",
                               related=selected[0].place.where, level="info")
