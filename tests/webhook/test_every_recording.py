"""Every AdmissionReview the apiserver really sent (tests/data/apiserver/) gets the verdict a user expects.

The other tests vary one field of a recording for their case; this one sends each recording as it was, with
the default config, so a recording nobody looked at (a DELETE by the garbage collector, `kubectl debug`'s
ephemeralcontainers update, an eviction, a CONNECT for exec) cannot silently be denied, or a bad object
silently admitted. A new recording must be added here.
"""

from __future__ import annotations

import pytest
from recorded import DATA, recorded
from test_admission import check

# name → (allowed, how the first warning or the deny message starts; "" for a silent allow)
EXPECTED = {
    "review-v1-cronjob-create-by-kubectl-apply": (True, ""),
    "review-v1-daemonset-create-by-kubectl-apply": (True, ""),
    "review-v1-deployment-create-by-helm": (True, ""),
    "review-v1-deployment-create-by-kubectl-client-side-apply": (True, ""),
    "review-v1-deployment-create-by-kubectl-server-side-apply": (True, ""),
    "review-v1-deployment-delete-by-kubectl": (True, ""),
    "review-v1-deployment-hostnetwork-template-not-defaulted": (
        False, "kexlint: Deployment default/hostnet-deploy has 1 violation:\n- host-network:"),
    "review-v1-deployment-status-update-by-deployment-controller": (True, ""),
    "review-v1-deployment-update-by-kubectl-client-side-apply": (True, ""),
    "review-v1-deployment-update-by-kubectl-rollout-restart": (True, ""),
    "review-v1-deployment-update-by-kubectl-server-side-apply": (True, ""),
    "review-v1-deployments-scale-by-kubectl-scale": (True, ""),
    "review-v1-ingress-create": (True, ""),
    "review-v1-job-by-cronjob-controller": (True, ""),
    "review-v1-pod-attach-connect": (True, ""),
    "review-v1-pod-binding-create": (True, ""),
    "review-v1-pod-by-daemon-set-controller": (True, ""),
    "review-v1-pod-by-job-controller": (True, ""),
    "review-v1-pod-by-replicaset-controller-after-rollout-restart": (True, ""),
    "review-v1-pod-by-replicaset-controller-after-scale": (True, ""),
    "review-v1-pod-by-replicaset-controller": (True, ""),
    "review-v1-pod-by-statefulset-controller": (True, ""),
    "review-v1-pod-delete-by-garbage-collector": (True, ""),
    "review-v1-pod-delete-by-replicaset-controller-last-call": (True, ""),
    "review-v1-pod-delete-by-replicaset-controller": (True, ""),
    "review-v1-pod-delete-force-by-kubectl-after-graceful": (True, ""),
    "review-v1-pod-delete-graceful-bound-pod-by-kubectl": (True, ""),
    "review-v1-pod-ephemeralcontainers-by-kubectl-debug": (True, ""),
    "review-v1-pod-eviction-create": (True, ""),
    "review-v1-pod-exec-connect": (True, ""),
    "review-v1-pod-hostnetwork-by-replicaset-controller": (
        True, "kexlint host-network (made by a trusted controller, not denied):"),
    "review-v1-pod-hostnetwork-defaulted-hostport": (
        False, "kexlint: Pod default/hostnet-pod has 1 violation:\n- host-network:"),
    "review-v1-pod-portforward-connect": (True, ""),
    "review-v1-pod-proxy-connect": (True, ""),
    "review-v1-pod-update-by-kubectl-label": (True, ""),
    "review-v1-replicaset-by-deployment-controller-after-rollout-restart": (True, ""),
    "review-v1-replicaset-by-deployment-controller": (True, ""),
    "review-v1-replicaset-delete-by-garbage-collector": (True, ""),
    "review-v1-replicaset-hostnetwork-template-by-deployment-controller": (
        True, "kexlint host-network (made by a trusted controller, not denied):"),
    "review-v1-replicaset-update-after-scale-by-deployment-controller": (True, ""),
    "review-v1-service-delete": (True, ""),
    "review-v1-service-externalips-create": (False, "kexlint: Service default/ext has 2 violations:\n- external-ips:"),
    "review-v1-service-loadbalancer": (True, "kexlint load-balancer-source-ranges: /spec/type:"),
    "review-v1-service-nodeport-2ports-dry-run": (True, ""),
    "review-v1-service-nodeport-dry-run": (True, ""),
    "review-v1-service-nodeport": (True, ""),
    "review-v1-service-proxy-connect": (True, ""),
    "review-v1-service-update-remove-externalip": (True, "kexlint external-ips (pre-existing, not denied):"),
    "review-v1beta1-deployment-create-by-kubectl-client-side-apply": (True, ""),
    "review-v1beta1-deployments-scale-by-kubectl-scale": (True, ""),
    "review-v1beta1-pod-by-replicaset-controller": (True, ""),
    "review-v1beta1-pod-exec-connect": (True, ""),
    "review-v1beta1-service-delete": (True, ""),
    "review-v1beta1-service-nodeport-dry-run": (True, ""),
}


def test_every_recorded_review_has_an_expected_verdict() -> None:
    assert sorted(p.stem for p in DATA.glob("review-*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_review_as_sent(name: str) -> None:
    allowed, start = EXPECTED[name]
    response = check(recorded(name))
    assert response["allowed"] is allowed, response
    text = response["status"]["message"] if not allowed else (response.get("warnings") or [""])[0]
    assert text.startswith(start) and (start or not response.get("warnings")), text
    if not allowed:
        assert response["status"]["code"] == 403
