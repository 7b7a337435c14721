"""The webhook with `cluster-state: watch` against the fake apiserver: conflicts with what already runs.

Reviews are the recorded AdmissionReviews (tests/data/apiserver/review-v1-*.json) with the exposure
fields changed; the live objects are recorded list items, renamed and given host ports."""

from __future__ import annotations

import copy
import json
import time

import pytest
from fakeapi import DATA, recorded_items
from waiting import wait_until

from kexlint.cluster import KINDS
from kexlint.webhook import metrics

DS, POD, DEPLOY = KINDS["DaemonSet"], KINDS["Pod"], KINDS["Deployment"]
CACHE = {"backoff": (0.05, 0.2), "watch_seconds": (2, 3)}



def node_exporter(port=9100):
    """The recorded DaemonSet kube-system/log-shipper as monitoring/node-exporter on hostPort `port`."""
    ds = copy.deepcopy(recorded_items("list-daemonsets.json")[1])
    ds["metadata"].update(name="node-exporter", namespace="monitoring")
    ds["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"name": "metrics", "containerPort": port, "hostPort": port, "protocol": "TCP"}]
    return ds


def exporter_pod(node, owner_uid):
    pod = copy.deepcopy(json.loads((DATA / "review-v1-pod-by-daemon-set-controller.json").read_text())["request"]
                        ["object"])
    pod["metadata"].update(name=f"node-exporter-{node}", namespace="monitoring")
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-exporter",
                                           "uid": owner_uid, "controller": True, "blockOwnerDeletion": True}]
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 9100, "hostPort": 9100, "protocol": "TCP"}]
    return pod


def daemonset_review(port=9100, name=None, namespace=None, operation="CREATE"):
    """The recorded `kubectl apply -f ds.yaml` review (DaemonSet default/node-agent) binding hostPort `port`."""
    body = json.loads((DATA / "review-v1-daemonset-create-by-kubectl-apply.json").read_text())
    request = body["request"]
    obj = request["object"]
    if name:
        obj["metadata"]["name"] = request["name"] = name
    if namespace:
        obj["metadata"]["namespace"] = request["namespace"] = namespace
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": port, "hostPort": port, "protocol": "TCP"}]
    if operation == "UPDATE":
        request["operation"] = "UPDATE"
        request["oldObject"] = copy.deepcopy(obj)
    return body


@pytest.fixture
def webhook(fake_api, tmp_path):
    from kexlint.webhook.app import create_app

    apps = []

    def make(config="", ready=True):
        # host-port on its own (an error by default) would deny every one of these; only conflicts matter here.
        path = tmp_path / "kexlint.yaml"
        path.write_text("rules:\n  host-port: off\n" + (config or "webhook: {}\n"))
        app = create_app(path, "watch", str(fake_api.kubeconfig), CACHE)
        from kexlint.webhook.app import EXTENSION, set_certificate

        set_certificate(app, "test certificate")
        apps.append(app.extensions[EXTENSION])
        client = app.test_client()
        if ready:
            wait_until(lambda: client.get("/readyz").status_code == 200, what="ready")
        return client

    yield make
    for state in apps:
        state.live.stop()


def validate(client, body):
    answer = client.post("/validate", json=body)
    assert answer.status_code == 200
    return answer.get_json()["response"]


def test_ready_only_after_the_first_list(fake_api, webhook):
    fake_api.stop()
    client = webhook(ready=False)
    time.sleep(0.3)
    readyz = client.get("/readyz")
    assert readyz.status_code == 503
    assert readyz.get_json()["clusterState"] == "the first list of the cluster is not complete"
    fake_api.start()
    wait_until(lambda: client.get("/readyz").status_code == 200, what="ready once the API answers")
    assert client.get("/readyz").get_json()["clusterState"] == "current"


def test_create_conflicting_with_a_cached_daemonset_warns_naming_it(fake_api, webhook):
    fake_api.put(DS, node_exporter())
    client = webhook()
    response = validate(client, daemonset_review())
    assert response["allowed"] is True
    conflicts = [w for w in response.get("warnings", []) if w.startswith("kexlint host-port-conflict")]
    assert len(conflicts) == 1, response
    assert "DaemonSet monitoring/node-exporter (in the cluster)" in conflicts[0]
    # A different port: no conflict.
    assert not any("host-port-conflict" in w for w in validate(client, daemonset_review(9200)).get("warnings", []))


def test_conflict_level_error_denies(fake_api, webhook):
    fake_api.put(DS, node_exporter())
    client = webhook("webhook:\n  cluster-conflict-level: error\n")
    response = validate(client, daemonset_review())
    assert response["allowed"] is False
    assert "DaemonSet monitoring/node-exporter (in the cluster)" in response["status"]["message"]


def test_objects_created_after_the_list_are_seen_through_the_watch(fake_api, webhook):
    client = webhook()
    assert validate(client, daemonset_review()).get("warnings") is None
    fake_api.wait_for_watch()
    fake_api.put(DS, node_exporter())
    wait_until(lambda: "warnings" in validate(client, daemonset_review()), what="the watched DaemonSet")


def test_reapplying_the_same_object_is_not_a_conflict(fake_api, webhook):
    fake_api.put(DS, node_exporter())
    client = webhook()
    for operation in ("CREATE", "UPDATE"):
        response = validate(client, daemonset_review(name="node-exporter", namespace="monitoring",
                                                     operation=operation))
        assert response["allowed"] is True and "warnings" not in response, (operation, response)


def test_controller_owned_pods_count_as_their_owner(fake_api, webhook):
    owner = fake_api.put(DS, node_exporter())
    for node in ("node-1", "node-2", "node-3"):
        fake_api.put(POD, exporter_pod(node, owner["metadata"]["uid"]))
    client = webhook()
    warnings = validate(client, daemonset_review())["warnings"]
    conflicts = [w for w in warnings if "host-port-conflict" in w]
    assert len(conflicts) == 1 and "DaemonSet monitoring/node-exporter" in conflicts[0]
    assert "more" not in conflicts[0] and "Pod " not in conflicts[0]


def test_a_bare_pod_counts(fake_api, webhook):
    pod = exporter_pod("x", "none")
    pod["metadata"].update(name="bare", namespace="default", ownerReferences=[])
    fake_api.put(POD, pod)
    client = webhook()
    warnings = validate(client, daemonset_review())["warnings"]
    assert any("Pod default/bare (in the cluster)" in w for w in warnings), warnings


def test_unreachable_api_reviews_alone_and_says_so(fake_api, webhook):
    fake_api.put(DS, node_exporter())
    # The Service-wiring rules (from main) collect a fact for every workload's namespace, so with
    # them on every workload has something to check against the cluster; this test is about ports.
    client = webhook("  dangling-service: off\n  service-target-port: off\nwebhook: {}\n")
    fake_api.stop()
    wait_until(lambda: client.get("/readyz").get_json()["clusterState"] != "current", what="stale")
    start = time.monotonic()
    response = validate(client, daemonset_review())
    assert time.monotonic() - start < 2  # never waits for the API
    assert response["allowed"] is True
    assert any(w.startswith("kexlint: conflicts with what runs in the cluster were not checked: cannot reach")
               for w in response["warnings"]), response
    assert not any("host-port-conflict" in w for w in response["warnings"])
    # /metrics is served on its own port by the server, not by the app: read the registry itself.
    assert "kexlint_webhook_cluster_state_stale 1.0" in metrics.exposition().decode()


def test_forbidden_kind_is_skipped_the_rest_checked(fake_api, webhook):
    fake_api.forbidden.add("daemonsets")
    fake_api.put(DS, node_exporter())
    pod = exporter_pod("x", "none")
    pod["metadata"].update(name="bare", namespace="default", ownerReferences=[])
    fake_api.put(POD, pod)
    client = webhook()
    warnings = validate(client, daemonset_review())["warnings"]
    assert any("Pod default/bare (in the cluster)" in w for w in warnings)
    assert not any("node-exporter" in w for w in warnings)


def test_a_controllers_new_pod_is_not_a_conflict_with_its_owner(fake_api, webhook):
    owner = fake_api.put(DS, node_exporter())
    client = webhook()
    body = json.loads((DATA / "review-v1-pod-by-daemon-set-controller.json").read_text())
    body["request"]["object"] = exporter_pod("node-4", owner["metadata"]["uid"])
    response = validate(client, body)
    assert not any("host-port-conflict" in w for w in response.get("warnings", [])), response


def test_an_update_that_moves_onto_a_port_in_use_conflicts(fake_api, webhook):
    """UPDATE against live state: moving to a hostPort another workload binds is new; keeping a conflict the
    old object already had is pre-existing, so not denied even with cluster-conflict-level error."""
    fake_api.put(DS, node_exporter())
    client = webhook("webhook:\n  cluster-conflict-level: error\n")
    moved = daemonset_review(9100, operation="UPDATE")
    moved["request"]["oldObject"]["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 9200, "hostPort": 9200, "protocol": "TCP"}]
    response = validate(client, moved)
    assert response["allowed"] is False
    assert "DaemonSet monitoring/node-exporter (in the cluster)" in response["status"]["message"]
    kept = validate(client, daemonset_review(9100, operation="UPDATE"))
    assert kept["allowed"] is True
    [warning] = [w for w in kept["warnings"] if w.startswith("kexlint host-port-conflict")]
    assert "(pre-existing, not denied)" in warning and "DaemonSet monitoring/node-exporter" in warning
