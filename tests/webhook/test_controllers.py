"""Objects that kube-controller-manager's controllers make from templates the cluster already holds.

Seen on a real 1.36 cluster: a Deployment that predates the webhook and binds a hostPort was scaled and
rollout-restarted; the deployment-controller's new ReplicaSet and the replicaset-controller's Pods
were denied and the rollout stuck. Every review here is a recorded one with only the exposure added.
"""

from __future__ import annotations

import copy

import pytest
from recorded import ADMIN, pod_spec, recorded, set_object, with_host_port
from test_admission import check, make_engine

# (recording, controller that sent it) for each kind of object a controller makes.
CONTROLLER_MADE = [
    "review-v1-replicaset-by-deployment-controller",
    "review-v1-replicaset-by-deployment-controller-after-rollout-restart",
    "review-v1-pod-by-replicaset-controller",
    "review-v1-pod-by-replicaset-controller-after-scale",
    "review-v1-pod-by-replicaset-controller-after-rollout-restart",
    "review-v1beta1-pod-by-replicaset-controller",
    "review-v1-pod-by-daemon-set-controller",
    "review-v1-pod-by-job-controller",
    "review-v1-pod-by-statefulset-controller",
    "review-v1-job-by-cronjob-controller",
]


def exposed(name: str) -> dict:
    """The recorded review with a hostPort on the object's first container."""
    body = recorded(name)
    return set_object(body, with_host_port(body["request"]["object"]))


@pytest.mark.parametrize("name", CONTROLLER_MADE)
def test_objects_made_by_trusted_controllers_are_never_denied(name):
    body = exposed(name)
    username = body["request"]["userInfo"]["username"]
    response = check(body)
    assert response["allowed"] is True and "status" not in response
    assert [w.split(":")[0] for w in response["warnings"]] == [
        "kexlint host-port (made by a trusted controller, not denied)"]
    assert response["auditAnnotations"] == {"findings": "host-port", "trusted-controller": username}


@pytest.mark.parametrize("name", CONTROLLER_MADE)
def test_the_same_object_from_anyone_else_is_reviewed_as_usual(name):
    # Copying a controller's object, ownerReferences and all, is what a tenant can do: it gains nothing.
    body = exposed(name)
    body["request"]["userInfo"] = copy.deepcopy(ADMIN)
    assert body["request"]["object"]["metadata"]["ownerReferences"][0]["controller"] is True
    response = check(body)
    assert response["allowed"] is False
    assert response["auditAnnotations"]["denied-rules"] == "host-port"
    assert "trusted-controller" not in response["auditAnnotations"]


@pytest.mark.parametrize("owners", [None, [], "missing-controller-flag"])
def test_a_trusted_identity_without_a_controller_owner_is_reviewed_as_usual(owners):
    body = exposed("review-v1-pod-by-replicaset-controller")
    metadata = body["request"]["object"]["metadata"]
    if owners == "missing-controller-flag":
        del metadata["ownerReferences"][0]["controller"]
    elif owners is None:
        del metadata["ownerReferences"]
    else:
        metadata["ownerReferences"] = owners
    assert check(body)["allowed"] is False


def test_trusted_controllers_can_be_configured():
    body = exposed("review-v1-pod-by-replicaset-controller")
    nobody, nobody_settings = make_engine({"webhook": {"trusted-controllers": []}})
    assert check(body, nobody, nobody_settings)["allowed"] is False
    # A distribution that runs its controllers under other names lists them (globs work).
    body["request"]["userInfo"]["username"] = "system:serviceaccount:acme-system:rs-controller"
    assert check(body)["allowed"] is False
    acme, acme_settings = make_engine({"webhook": {"trusted-controllers": ["system:serviceaccount:acme-system:*"]}})
    assert check(body, acme, acme_settings)["allowed"] is True


def test_kube_controller_manager_single_identity_is_trusted():
    # kube-controller-manager without --use-service-account-credentials acts as one user.
    body = exposed("review-v1-pod-by-replicaset-controller")
    body["request"]["userInfo"] = {"username": "system:kube-controller-manager",
                                   "groups": ["system:authenticated"]}
    assert check(body)["allowed"] is True


def test_warn_mode_and_below_deny_level_findings_are_not_marked_trusted():
    body = exposed("review-v1-pod-by-replicaset-controller")
    engine, settings_ = make_engine({"webhook": {"mode": "warn"}})
    response = check(body, engine, settings_)
    assert response["warnings"][0].startswith("kexlint host-port: ")


@pytest.mark.parametrize("name", ["review-v1-deployments-scale-by-kubectl-scale",
                                  "review-v1beta1-deployments-scale-by-kubectl-scale"])
def test_kubectl_scale_of_a_pre_existing_host_port_deployment_stays_allowed(name):
    body = recorded(name)
    assert body["request"]["subResource"] == "scale"
    assert check(body) == {"uid": body["request"]["uid"], "allowed": True}


def test_the_controllers_replicaset_update_after_scale_is_allowed():
    body = recorded("review-v1-replicaset-update-after-scale-by-deployment-controller")
    request = body["request"]
    body = set_object(body, with_host_port(request["object"]), with_host_port(request["oldObject"]))
    response = check(body)
    assert response["allowed"] is True


def test_rollout_restart_of_a_pre_existing_host_port_deployment_is_allowed_end_to_end():
    """kubectl rollout restart → the Deployment UPDATE, the new ReplicaSet, its Pod: all admitted."""
    restart = recorded("review-v1-deployment-update-by-kubectl-rollout-restart")
    request = restart["request"]
    restart = set_object(restart, with_host_port(request["object"]), with_host_port(request["oldObject"]))
    assert check(restart)["allowed"] is True
    for name in ("review-v1-replicaset-by-deployment-controller-after-rollout-restart",
                 "review-v1-pod-by-replicaset-controller-after-rollout-restart"):
        assert check(exposed(name))["allowed"] is True, name


def test_cronjob_controller_job_with_host_network_template():
    body = recorded("review-v1-job-by-cronjob-controller")
    job = copy.deepcopy(body["request"]["object"])
    pod_spec(job)["hostNetwork"] = True
    response = check(set_object(body, job))
    assert response["allowed"] is True
    assert response["auditAnnotations"]["trusted-controller"] == "system:serviceaccount:kube-system:cronjob-controller"


def test_a_daemonset_excluded_by_config_can_create_its_pods():
    """Seen: a DaemonSet admitted thanks to a config exclusion by kind/name could never create a Pod, since
    its Pods (named node-agent-xxxxx, kind Pod) match no such exclusion."""
    engine, settings = make_engine({"exclude": [{"kind": "DaemonSet", "name": "node-agent",
                                                 "rules": ["host-port"], "reason": "node agent"}]})
    workload = recorded("review-v1-daemonset-create-by-kubectl-apply")
    workload = set_object(workload, with_host_port(workload["request"]["object"]))
    admitted = check(workload, engine, settings)
    assert admitted["allowed"] is True
    assert admitted["warnings"][0].startswith("kexlint host-port (suppressed: config: node agent)")
    pod = exposed("review-v1-pod-by-daemon-set-controller")
    assert pod["request"]["object"]["metadata"]["ownerReferences"][0]["name"] == "node-agent"
    made = check(pod, engine, settings)
    assert made["allowed"] is True
    assert made["warnings"][0].startswith("kexlint host-port (made by a trusted controller, not denied)")
