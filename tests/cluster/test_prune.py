"""prune() keeps every field the rules read: the findings on pruned and on full objects are the same."""

from __future__ import annotations

import json
import re

import yaml
from fakeapi import DATA, recorded_items, recorded_pods

from kexlint.cluster import prune


def _live_objects() -> list[dict]:
    objects = [dict(i, apiVersion="v1", kind="Pod") for i in recorded_pods()]
    for kind, api, name in (("DaemonSet", "apps/v1", "list-daemonsets.json"), ("Service", "v1", "list-services.json"),
                            ("Ingress", "networking.k8s.io/v1", "list-ingresses.json")):
        objects += [dict(i, apiVersion=api, kind=kind) for i in recorded_items(name)]
    # Objects as the apiserver stores them, with every exposure field the recordings have (hostNetwork,
    # defaulted hostPorts, nodePorts, externalIPs, LoadBalancer, affinity of DaemonSet pods, CronJobs...).
    for path in sorted(DATA.glob("review-v1-*.json")):
        request = json.loads(path.read_text())["request"]
        obj = request.get("object")
        if isinstance(obj, dict) and request.get("subResource") is None and obj.get("kind") not in (None, "Scale"):
            objects.append(obj)
    # A service pointed at a suppression and a load balancer annotation, and a workload sharing a port.
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "lb2", "namespace": "default", "annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
            "ignore.kexlint.io/external-ips": "reviewed"}},
        "spec": {"type": "LoadBalancer", "externalIPs": ["203.0.113.9"], "ports": [{"port": 80, "nodePort": 31410}]}})
    return objects


def _findings(lint_json, tmp_path, name, objects):
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(objects))
    _, report = lint_json("--format", "json", str(path))
    # Messages name the other side by file:line, which differs between the two files by design.
    return sorted((f["rule"], f["level"], f["object"] and json.dumps(f["object"], sort_keys=True),
                   re.sub(r"\([^()]*\.yaml:\d+\)", "(file)", f["message"]),
                   f.get("suppressed") and "yes") for f in report["findings"])


def test_rules_find_the_same_on_pruned_objects(lint_json, tmp_path):
    objects = _live_objects()
    full = _findings(lint_json, tmp_path, "full.yaml", objects)
    pruned_objects = [prune(o) for o in objects]
    pruned = _findings(lint_json, tmp_path, "pruned.yaml", pruned_objects)
    assert len(full) > 10  # the corpus does exercise the rules
    assert pruned == full
    assert len(yaml.safe_dump_all(pruned_objects)) * 4 < len(yaml.safe_dump_all(objects))


def test_prune_drops_status_managed_fields_and_last_applied():
    pod = prune(dict(recorded_pods()[0], apiVersion="v1", kind="Pod"))
    assert set(pod) == {"apiVersion", "kind", "metadata", "spec"}
    assert "managedFields" not in pod["metadata"] and "ownerReferences" in pod["metadata"]
    assert all(set(c) <= {"name", "ports"} for c in pod["spec"]["containers"])
    service = prune(dict(recorded_items("list-services.json")[0], apiVersion="v1", kind="Service"))
    assert "kubectl.kubernetes.io/last-applied-configuration" not in service["metadata"].get("annotations", {})
