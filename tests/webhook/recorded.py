"""The AdmissionReviews the kube-apiserver really sent (tests/data/apiserver/, see its README), and
small edits of them: each test varies only the fields its case needs, the rest stays as recorded."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "apiserver"
# userInfo of the recordings' kubectl (README: "userInfo for kubectl is …").
ADMIN = {"username": "admin", "uid": "admin-uid", "groups": ["system:masters", "system:authenticated"]}


@cache
def _load(name: str) -> str:
    return (DATA / name).read_text()


def recorded(name: str) -> dict[str, Any]:
    """A fresh copy of tests/data/apiserver/<name> (the .json may be left out)."""
    return json.loads(_load(name if name.endswith(".json") else name + ".json"))


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a recorded Pod, workload or CronJob."""
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def with_host_port(obj: dict[str, Any], port: int = 8080, container: int = 0) -> dict[str, Any]:
    """The object with hostPort `port` on its first container (a port is added when it has none)."""
    obj = copy.deepcopy(obj)
    target = pod_spec(obj)["containers"][container]
    ports = target.setdefault("ports", [])
    if ports:
        ports[0]["hostPort"] = port
    else:
        ports.append({"containerPort": port, "hostPort": port, "protocol": "TCP"})
    return obj


def set_object(body: dict[str, Any], obj: dict[str, Any] | None, old: dict[str, Any] | None = None,
               **request: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["request"]["object"] = obj
    if old is not None:
        body["request"]["oldObject"] = old
    body["request"].update(request)
    return body
