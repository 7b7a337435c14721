"""UPDATE denies exactly the exposure the new object adds, compared as values.

Seen: removing one of two externalIPs was denied; adding 8.8.8.8 to a Service with nine was allowed
as "pre-existing" (the message showed only the first 80 characters of the list); renaming a container
with a pre-existing hostPort was denied.
"""

from __future__ import annotations

import copy

import pytest
from recorded import pod_spec, recorded, set_object, with_host_port
from test_admission import check

NINE = [f"203.0.113.{i}" for i in range(10, 19)]


def external_ips_update(old_ips: list[str], new_ips: list[str]) -> dict:
    body = recorded("review-v1-service-update-remove-externalip")
    request = body["request"]
    old, new = copy.deepcopy(request["oldObject"]), copy.deepcopy(request["object"])
    old["spec"]["externalIPs"], new["spec"]["externalIPs"] = old_ips, new_ips
    return set_object(body, new, old)


def test_removing_an_external_ip_is_allowed_as_recorded():
    body = recorded("review-v1-service-update-remove-externalip")
    request = body["request"]
    assert request["oldObject"]["spec"]["externalIPs"] == ["203.0.113.10", "203.0.113.11"]
    assert request["object"]["spec"]["externalIPs"] == ["203.0.113.10"]
    response = check(body)
    assert response["allowed"] is True
    assert response["warnings"][0].startswith("kexlint external-ips (pre-existing, not denied): ")


def test_adding_one_ip_to_nine_is_denied_and_named():
    response = check(external_ips_update(NINE, [*NINE, "8.8.8.8"]))
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert "has 1 violation" in message and "8.8.8.8" in message and "203.0.113.1" not in message


@pytest.mark.parametrize("new", [list(reversed(NINE)), NINE[3:], [*NINE, NINE[0]], []])
def test_reordered_fewer_or_repeated_ips_are_not_new(new):
    assert check(external_ips_update(NINE, new))["allowed"] is True


def test_same_address_spelled_differently_is_the_same_ip():
    assert check(external_ips_update(["2001:db8::1"], ["2001:0db8:0:0::1"]))["allowed"] is True


def deployment_update(old_spec_edit, new_spec_edit) -> dict:
    body = recorded("review-v1-deployment-update-by-kubectl-client-side-apply")
    request = body["request"]
    old, new = with_host_port(request["oldObject"]), with_host_port(request["object"])
    old_spec_edit(pod_spec(old))
    new_spec_edit(pod_spec(new))
    return set_object(body, new, old)


def same(spec: dict) -> None:
    pass


def rename(spec: dict) -> None:
    spec["containers"][0]["name"] = "web"


def add_sidecar_first(spec: dict) -> None:
    spec["containers"].insert(0, {"name": "proxy", "image": "envoy", "ports": [{"containerPort": 9901}]})


def test_renaming_a_container_with_a_pre_existing_host_port_is_allowed():
    response = check(deployment_update(same, rename))
    assert response["allowed"] is True
    assert response["warnings"][0].startswith("kexlint host-port (pre-existing, not denied): ")


def test_moving_a_host_port_to_another_container_is_allowed():
    def move(spec: dict) -> None:
        add_sidecar_first(spec)
        spec["containers"][0]["ports"] = spec["containers"][1].pop("ports")

    assert check(deployment_update(same, move))["allowed"] is True


@pytest.mark.parametrize("edit, added", [
    (lambda s: s["containers"][0]["ports"].append({"containerPort": 81, "hostPort": 8081}), "8081"),
    (lambda s: s["containers"][0]["ports"][0].update(hostIP="10.0.0.5", hostPort=8080), "hostIP"),
    (lambda s: s["containers"][0]["ports"][0].update(protocol="UDP"), "UDP"),
    (lambda s: s.update(hostNetwork=True), "hostNetwork"),
])
def test_each_new_binding_or_flag_is_denied(edit, added):
    response = check(deployment_update(same, edit))
    assert response["allowed"] is False, added


def test_fewer_host_ports_are_never_denied():
    def two(spec: dict) -> None:
        spec["containers"][0]["ports"].append({"containerPort": 81, "hostPort": 8081, "protocol": "TCP"})

    def drop_first(spec: dict) -> None:
        two(spec)
        del spec["containers"][0]["ports"][0]

    assert check(deployment_update(two, drop_first))["allowed"] is True


def test_turning_host_network_off_but_keeping_its_port_adds_nothing():
    def own_port(spec: dict) -> None:
        spec["containers"][0]["ports"][0]["hostPort"] = spec["containers"][0]["ports"][0]["containerPort"]

    def on(spec: dict) -> None:
        own_port(spec)
        spec["hostNetwork"] = True

    # Under hostNetwork port 80 was bound on the node already; an explicit hostPort 80 adds nothing.
    assert check(deployment_update(on, own_port))["allowed"] is True


def service_update(old_ports: list[int], new_ports: list[int]) -> dict:
    body = recorded("review-v1-service-update-remove-externalip")
    request = body["request"]
    old, new = copy.deepcopy(request["oldObject"]), copy.deepcopy(request["object"])
    for service, node_ports in ((old, old_ports), (new, new_ports)):
        del service["spec"]["externalIPs"]
        service["spec"]["type"] = "NodePort"
        service["spec"]["ports"] = [{"name": f"p{i}", "port": 80 + i, "targetPort": 80, "protocol": "TCP",
                                     "nodePort": n} for i, n in enumerate(node_ports)]
    return set_object(body, new, old)


def test_node_ports_compared_as_values():
    # An out-of-range nodePort that predates the webhook (range changed) keeps the Service editable.
    assert check(service_update([8080, 31000], [31000, 8080]))["allowed"] is True
    assert check(service_update([8080, 31000], [8080]))["allowed"] is True
    response = check(service_update([8080], [8080, 8081]))
    assert response["allowed"] is False
    assert "nodePort 8081" in response["status"]["message"] and "nodePort 8080" not in response["status"]["message"]


def invalid_ports_update(old_count: int, new_count: int) -> dict:
    """A Service whose ports are all strings (invalid-spec, an error), more of them than the engine
    builds findings for (100 per rule), before and after."""
    body = recorded("review-v1-service-update-remove-externalip")
    request = body["request"]
    old, new = copy.deepcopy(request["oldObject"]), copy.deepcopy(request["object"])
    for obj, count in ((old, old_count), (new, new_count)):
        obj["spec"]["externalIPs"] = []
        obj["spec"]["ports"] = [{"name": f"p{i}", "port": str(1000 + i)} for i in range(count)]
    return set_object(body, new, old)


@pytest.mark.parametrize("old_count, new_count", [(150, 149), (150, 150), (150, 20)])
def test_past_the_finding_cap_fewer_invalid_values_are_not_new(old_count, new_count):
    # Seen: the capped finding's "(... and 50 more)" became "(... and 49 more)", a new message, denied.
    response = check(invalid_ports_update(old_count, new_count))
    assert response["allowed"] is True, response.get("status")


def test_past_the_finding_cap_more_invalid_values_are_denied():
    response = check(invalid_ports_update(150, 151))
    assert response["allowed"] is False
    assert "and 51 more" in response["status"]["message"]
