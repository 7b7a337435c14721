"""The pod-templates table (rules/data/pod-templates.yaml) and the pod specs it finds."""

from __future__ import annotations

import re
from pathlib import Path

from kexlint.findings import ObjectRef
from kexlint.model import K8sObject, custom_kinds, pod_specs, targets

REPO = Path(__file__).resolve().parents[1]


def test_every_entry_has_paths_a_resource_and_a_citation() -> None:
    table = custom_kinds()
    for kind in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow", "TaskRun",
                 "PipelineRun", "PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "RayCluster", "RayJob",
                 "RayService", "JobSet"):
        entry = table[kind]
        assert entry.pod_specs or entry.workflow_specs, kind
        assert entry.resource == entry.resource.lower() and entry.resource.endswith("s"), kind
        assert entry.cite.startswith("https://github.com/"), kind


def test_the_table_ships_in_the_wheel() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert '"kexlint.rules" = ["*.yaml", "data/*.yaml"]' in text


def _obj(value: dict) -> K8sObject:
    return K8sObject(value, ObjectRef(value["apiVersion"], value["kind"], None, "x"))


def test_argo_template_pod_places_each_field_where_it_is_written() -> None:
    obj = _obj({"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "spec": {"workflowSpec": {
        "hostNetwork": True,
        "templates": [{"name": "dag", "dag": {"tasks": []}},
                      {"name": "m", "container": {"image": "a"}, "sidecars": [{"name": "s", "image": "s"}],
                       "initContainers": [{"name": "i", "image": "i"}]}]}}})
    (pod,) = pod_specs(obj)  # the dag template runs no pod of its own
    assert pod.value["hostNetwork"] is True
    assert pod.resolve(("hostNetwork",)) == ("spec", "workflowSpec", "hostNetwork")
    assert pod.resolve(("containers", 0, "ports", 0)) == ("spec", "workflowSpec", "templates", 1, "container",
                                                          "ports", 0)
    assert pod.resolve(("containers", 1)) == ("spec", "workflowSpec", "templates", 1, "sidecars", 0)
    assert pod.resolve(("initContainers", 0)) == ("spec", "workflowSpec", "templates", 1, "initContainers", 0)
    paths = [target.path for target in targets(obj, "container")]
    assert paths == [("spec", "workflowSpec", "templates", 1, "container"),
                     ("spec", "workflowSpec", "templates", 1, "sidecars", 0),
                     ("spec", "workflowSpec", "templates", 1, "initContainers", 0)]


def test_template_pod_spec_patch_overrides_the_workflow_host_network() -> None:
    obj = _obj({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {
        "hostNetwork": True,
        "templates": [{"name": "m", "podSpecPatch": "hostNetwork: false", "container": {"image": "a"}}]}})
    (pod,) = pod_specs(obj)
    assert pod.value["hostNetwork"] is False
    assert pod.resolve(("hostNetwork",)) == ("spec", "templates", 0, "podSpecPatch")


def test_wildcards_find_every_replica_spec() -> None:
    obj = _obj({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
        "Master": {"template": {"spec": {"containers": []}}},
        "Worker": {"template": {"spec": {"containers": []}}}}}})
    assert [pod.path for pod in pod_specs(obj)] == [
        ("spec", "pytorchReplicaSpecs", "Master", "template", "spec"),
        ("spec", "pytorchReplicaSpecs", "Worker", "template", "spec")]


def test_every_kind_of_the_table_has_a_failing_fixture() -> None:
    folder = REPO / "tests" / "fixtures" / "rules"
    fixtures = "".join(p.read_text(encoding="utf-8") for p in folder.rglob("fail*.yaml"))
    missing = [k.name for k in custom_kinds().values() if not re.search(rf"^kind: {k.kind}$", fixtures, re.M)]
    assert not missing, f"no fail fixture declares these kinds of the pod-templates table: {missing}"
