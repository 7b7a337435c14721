"""Services whose selector matches the pods of no workload in their namespace."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from ..model import Target
from . import Conflict, Fact, Hit, Place, Settings
from .routing import LabelIndex, count_of, namespace_label, namespace_of, pod_labels, selector_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def collect(target: Target, params: dict[str, Any], settings: Settings,
            place: Callable[[tuple], Place]) -> Iterator[Hit | Fact]:
    obj = target.obj
    key = ("ns", namespace_of(obj))
    if obj.ref.kind == "Service":
        selector = selector_of(obj.value)
        if selector is not None:
            yield Fact(key, ("service", frozenset(selector.items())), place(("spec", "selector")))
        return
    found = pod_labels(obj)
    if found is not None:
        yield Fact(key, ("pods", frozenset(found[1].items())), place(found[0]))


def conclude(groups: Mapping[Hashable, list[Fact]], params: dict[str, Any],
             settings: Settings) -> Iterator[Conflict]:
    for (_, namespace), facts in groups.items():
        pods = [f.value[1] for f in facts if f.value[0] == "pods"]
        if not pods:
            continue  # no workloads of this namespace in the set: nothing to judge by
        index = LabelIndex([(labels, True) for labels in pods])
        for fact in facts:
            if fact.value[0] != "service" or index.matching(fact.value[1]):
                continue
            shown = ", ".join(f"{k}={v}" for k, v in sorted(fact.value[1]))
            where = namespace_label(namespace)
            yield Conflict(fact.place, f"selector {shown} matches the pods of no workload of {where} in "
                           f"the set ({count_of(len(pods), 'workload')} there): the Service has no endpoints")
