"""The engine's cross-object contract: context objects are observed, never reported on; a
re-applied object counts once; controller-owned Pods stand for their owner; facts pickle and merge."""

from __future__ import annotations

import pickle

from kexlint.config import parse_config
from kexlint.engine import Engine
from kexlint.model import K8sObject, object_ref
from kexlint.registry import builtin_rules, rules_by_id

ENGINE = Engine(builtin_rules(), parse_config({}, "<test>", set(rules_by_id())))


def daemonset(name: str, namespace: str = "monitoring", port: int = 9100) -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "i", "ports": [{"containerPort": port, "hostPort": port}]}]}}}}


def pod(name: str, owner: dict | None = None, port: int = 9100, namespace: str = "monitoring") -> dict:
    metadata: dict = {"name": name, "namespace": namespace}
    if owner:
        metadata["ownerReferences"] = [{**owner, "controller": True, "uid": "u"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": {"containers": [{"name": "c", "image": "i",
                                     "ports": [{"containerPort": port, "hostPort": port}]}]}}


def obj(value: dict) -> K8sObject:
    return K8sObject(value, object_ref(value))


def conflicts(linted: list[dict], context: list[dict]) -> list:
    run = ENGINE.run()
    for value in context:
        run.add_context(value, where="in the cluster")
    for value in linted:
        run.lint_object(obj(value))
    return [f for f in run.finish() if f.rule == "host-port-conflict"]


def test_a_conflict_with_context_is_reported_on_the_linted_object_naming_the_existing_one():
    found = conflicts([daemonset("new-exporter")], [daemonset("node-exporter")])
    assert [str(f.object) for f in found] == ["DaemonSet monitoring/new-exporter"]
    assert "DaemonSet monitoring/node-exporter (in the cluster)" in found[0].message
    assert found[0].related == ("in the cluster",)


def test_context_alone_is_never_reported():
    assert conflicts([], [daemonset("a"), daemonset("b")]) == []


def test_a_re_applied_object_is_no_conflict_with_itself():
    assert conflicts([daemonset("node-exporter")], [daemonset("node-exporter")]) == []
    # Re-applied without its hostPort: the old one's port is gone too.
    assert conflicts([daemonset("node-exporter", port=0), daemonset("other")], [daemonset("node-exporter")]) == []


def test_a_manifest_without_namespace_re_applies_over_any_namespace():
    unnamespaced = daemonset("node-exporter")
    del unnamespaced["metadata"]["namespace"]
    assert conflicts([unnamespaced], [daemonset("node-exporter")]) == []


def test_controller_owned_pods_stand_for_their_owner():
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc"}
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-exporter"}
    replicaset = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": "web-abc", "namespace": "monitoring", "ownerReferences": [
                      {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": True}]},
                  "spec": {"template": {"spec": pod("x")["spec"]}}}
    # Pods of one DaemonSet on many nodes are one workload, which a re-apply of it replaces.
    assert conflicts([daemonset("node-exporter")], [pod("ne-1", ds), pod("ne-2", ds)]) == []
    # Pod → ReplicaSet → Deployment, whichever order they are listed in.
    found = conflicts([daemonset("new")], [pod("web-abc-1", rs), replicaset])
    assert len(found) == 1 and "Deployment monitoring/web (in the cluster)" in found[0].message
    assert conflicts([daemonset("new")], [pod("web-abc-1", rs)])[0].message.count("ReplicaSet monitoring/web-abc") == 1
    # A bare Pod counts.
    assert len(conflicts([daemonset("new")], [pod("debug")])) == 1


def test_facts_pickle_and_merge_like_one_run():
    left, right = ENGINE.run(), ENGINE.run()
    left.lint_object(obj(daemonset("a")))
    right.lint_object(obj(daemonset("b")))
    right.add_context(daemonset("c"), where="in the cluster")
    parent = ENGINE.run()
    for worker in (left, right):
        parent.merge_facts(pickle.loads(pickle.dumps(worker.facts)))
    found = sorted(str(f.object) for f in parent.finish() if f.rule == "host-port-conflict")
    assert found == ["DaemonSet monitoring/a", "DaemonSet monitoring/b"]
    assert any("and 1 more" in f.message for f in parent.finish())
