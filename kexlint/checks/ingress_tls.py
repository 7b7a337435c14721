"""Ingress hosts served over plain HTTP: no spec.tls at all, or hosts that no tls entry covers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Target
from . import Hit, Settings
from .routing import default_backend_key, ingress_host_covers, ingress_rules

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


def _holds(annotations: dict[str, Any], condition: dict[str, Any]) -> bool:
    value = annotations.get(condition["annotation"])
    if not isinstance(value, str):
        return False  # annotation values are strings; anything else the apiserver rejects
    value = value.strip()
    if "value" in condition:
        return value.lower() == str(condition["value"]).lower()
    if "pattern" in condition:
        return re.fullmatch(condition["pattern"], value) is not None
    return bool(value)


def https_only(annotations: dict[str, Any], params: dict[str, Any]) -> bool:
    """A cloud controller that serves this Ingress over HTTPS only (or redirects HTTP to HTTPS),
    as its annotations say: every condition of one entry of the `https-only-annotations` param holds."""
    return any(all(_holds(annotations, c) for c in entry) for entry in params.get("https-only-annotations", []))


def _tls_entries(spec: dict[str, Any]) -> list[dict[str, Any]]:
    tls = spec.get("tls")
    return [entry for entry in tls if isinstance(entry, dict)] if isinstance(tls, list) else []


def _covered(host: str, entries: list[dict[str, Any]]) -> bool:
    for entry in entries:
        hosts = entry.get("hosts")
        # IngressTLS.hosts "defaults to the wildcard host setting for the loadbalancer controller":
        # an entry without hosts covers every host with the controller's default certificate.
        if not hosts:
            return True
        if host and any(isinstance(h, str) and ingress_host_covers(h, host) for h in hosts):
            return True
    return False


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    spec = target.value.get("spec")
    if not isinstance(spec, dict) or https_only(target.obj.annotations, params):
        return
    rules = list(ingress_rules(spec))
    entries = _tls_entries(spec)
    if not rules:
        backend = default_backend_key(spec)
        if backend is not None and not entries:
            yield Hit(("spec", backend), f"Ingress has only a {backend} and no spec.tls: every host that "
                      "reaches the controller is served over plain HTTP")
        return
    if not entries:
        where = ("spec", "tls") if "tls" in spec else ("spec",)
        yield Hit(where, "Ingress routes HTTP traffic but sets no spec.tls: its hosts are served over "
                  "plain HTTP")
        return
    for index, rule in rules:
        host = rule.get("host") if isinstance(rule.get("host"), str) else ""
        if _covered(host, entries):
            continue
        if host:
            yield Hit(("spec", "rules", index, "host"), f"host {host} is in no spec.tls[].hosts entry: it "
                      "is served over plain HTTP")
        else:
            yield Hit(("spec", "rules", index), "this rule has no host (it takes every host) and every "
                      "spec.tls entry lists hosts: requests for other hosts are served over plain HTTP")
