"""The real server: certificates made by the CLI, `kexlint webhook serve` under gunicorn over TLS.

The client verifies the server against the generated CA, as the apiserver does with the caBundle.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviews import admission_review, deployment, pod, service
from serving import Server, make_certs, start_server

from kexlint.registry import builtin_rules

pytest.importorskip("gunicorn")
pytest.importorskip("cryptography")


@pytest.fixture(scope="session")
def mount(certs, tmp_path_factory) -> Path:
    """The certificates laid out as the kubelet mounts a Secret: tls.crt → ..data/tls.crt, ..data → ..v1."""
    root = tmp_path_factory.mktemp("secret")
    version = root / "..v1"
    shutil.copytree(certs, version)
    (root / "..data").symlink_to("..v1")
    for name in ("tls.crt", "tls.key", "ca.crt"):
        (root / name).symlink_to(f"..data/{name}")
    return root


@pytest.fixture(scope="session")
def server(mount, tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    running = start_server(tmp, mount / "tls.crt", mount / "tls.key", mount / "ca.crt",
                           config="webhook:\n  max-request-bytes: 65536\n")
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="session")
def warn_server(certs, tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("warn-server")
    running = start_server(tmp, certs / "tls.crt", certs / "tls.key", certs / "ca.crt",
                           config="webhook:\n  mode: warn\n", workers=1)
    yield running
    assert running.stop() == 0


def test_health_readiness_and_metrics(server):
    assert server.call("GET", "/healthz")[:2] == (200, {"status": "ok"})
    status, ready, _ = server.call("GET", "/readyz")
    assert status == 200 and ready["ready"] and ready["rules"] == sum(1 for r in builtin_rules() if r.enabled)
    assert ready["certificate"].startswith("CN=kexlint.kexlint.svc")
    # Metrics are not on the review port.
    assert server.call("GET", "/metrics")[0] == 404
    status, text = server.metrics()
    assert status == 200 and "kexlint_webhook_certificate_expiry_timestamp_seconds" in text


def test_allow(server):
    body = admission_review("CREATE", pod())
    assert server.review(body) == {"uid": body["request"]["uid"], "allowed": True}
    response = server.review(admission_review("CREATE", deployment()))
    assert response["allowed"] is True and "warnings" not in response


def test_deny_with_403_and_message(server):
    response = server.review(admission_review("CREATE", pod(host_network=True)))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "host-network: /spec/hostNetwork: hostNetwork: true" in response["status"]["message"]
    assert response["auditAnnotations"]["denied-rules"] == "host-network"


def test_warnings(server):
    response = server.review(admission_review("CREATE", service(type_="LoadBalancer")))
    assert response["allowed"] is True
    assert response["warnings"][0].startswith("kexlint load-balancer-source-ranges:")


def test_update_against_old_object(server):
    old = deployment(host_port=8080)
    allowed = server.review(admission_review("UPDATE", deployment(host_port=8080, replicas=9), old))
    assert allowed["allowed"] is True and "pre-existing" in allowed["warnings"][0]
    denied = server.review(admission_review("UPDATE", deployment(host_network=True, host_port=8080), old))
    assert denied["allowed"] is False
    assert "host-network:" in denied["status"]["message"] and "host-port:" not in denied["status"]["message"]


def test_delete_v1beta1_dry_run_generate_name_and_suppression(server):
    # One persistent connection for several reviews, as the apiserver keeps one.
    conn = server.connection()
    try:
        assert server.review(admission_review("DELETE", None, pod(host_network=True)), conn)["allowed"] is True
        body = admission_review("CREATE", pod(host_network=True), api_version="admission.k8s.io/v1beta1")
        status, answer, _ = server.call("POST", "/validate", json.dumps(body).encode(), conn)
        assert answer["apiVersion"] == "admission.k8s.io/v1beta1" and answer["response"]["allowed"] is False
        dry = server.review(admission_review("CREATE", pod(host_network=True), dry_run=True), conn)
        assert dry["allowed"] is False
        generated = pod(name=None, namespace=None, generate_name="web-", host_port=9000)
        response = server.review(admission_review("CREATE", generated, namespace="team-a"), conn)
        assert response["status"]["message"].startswith("kexlint: Pod team-a/web- has 1 violation")
        quiet = pod(host_network=True, annotations={"ignore.kexlint.io/host-network": "CNI"})
        body = admission_review("CREATE", quiet)
        suppressed = server.review(body, conn)
        assert suppressed["allowed"] is True and "status" not in suppressed
        # Still reported to the client and the audit log.
        assert suppressed["warnings"][0].startswith("kexlint host-network (suppressed: annotation: CNI): ")
        assert suppressed["auditAnnotations"] == {"suppressed": '{"host-network":"annotation: CNI"}'}
    finally:
        conn.close()


def test_warn_mode_server_never_denies(warn_server):
    response = warn_server.review(admission_review("CREATE", pod(host_network=True)))
    assert response["allowed"] is True and response["warnings"][0].startswith("kexlint host-network:")


@pytest.mark.parametrize("body, status", [
    (b"not json", 400),
    (b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}', 400),
    (b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v9", "request": {"uid": "a"}}', 400),
    (b" " * 70000, 413),
])
def test_bad_requests_get_json_errors(server, body, status):
    got, answer, _ = server.call("POST", "/validate", body)
    assert got == status and answer["code"] == status and answer["error"]


def test_metrics_sum_over_workers(server):
    for _ in range(6):  # new connections: both workers get some
        server.review(admission_review("CREATE", pod(host_network=True)))
    status, text = server.metrics()  # plain HTTP, its own port
    assert status == 200
    line = next(x for x in text.splitlines()
                if x.startswith('kexlint_webhook_reviews_total{kind="Pod",operation="CREATE",verdict="deny"}'))
    assert float(line.split()[-1]) >= 6
    assert "kexlint_webhook_certificate_expiry_timestamp_seconds" in text


def _der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def test_certificate_rotation_while_serving(server, mount):
    """Both ways certificates change under a running pod, with requests flowing throughout."""
    errors: list[BaseException] = []
    done = threading.Event()
    count = [0]

    def traffic() -> None:
        conn = server.connection()
        while not done.is_set():
            try:
                # Alternate a kept-alive connection and fresh handshakes.
                use = conn if count[0] % 2 else None
                assert server.review(admission_review("CREATE", pod(host_network=True)), use)["allowed"] is False
                count[0] += 1
            except BaseException as err:  # noqa: BLE001 - any failure fails the test
                errors.append(err)
                return
        conn.close()

    def served_after(expected: bytes) -> bytes:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            peer = server.call("GET", "/healthz")[2]
            if peer == expected:
                return peer
            time.sleep(0.05)
        raise AssertionError("the new certificate was not served within 5 s")

    threads = [threading.Thread(target=traffic) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        before = server.call("GET", "/healthz")[2]
        assert before == _der(mount / "tls.crt")
        # 1. `kexlint webhook certs` renews in place (os.replace), reusing the CA.
        make_certs(mount / "..data")
        renewed = _der(mount / "tls.crt")
        assert renewed != before
        served_after(renewed)
        # 2. The kubelet's Secret update: a new version directory, then an atomic swap of ..data.
        shutil.copytree(mount / "..v1", mount / "..v2")
        make_certs(mount / "..v2")
        (mount / "..data_tmp").symlink_to("..v2")
        os.replace(mount / "..data_tmp", mount / "..data")
        swapped = _der(mount / "tls.crt")
        assert swapped not in (before, renewed)
        served_after(swapped)
        status, ready, _ = server.call("GET", "/readyz")
        assert status == 200
        time.sleep(0.3)
    finally:
        done.set()
        for thread in threads:
            thread.join(10)
    assert not errors, errors
    assert count[0] > 20
    assert '"certificate reloaded"' in server.log.read_text()


def test_sigterm_lets_the_request_in_flight_finish(certs, tmp_path):
    slow = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt",
                        env={"KEXLINT_TEST_DELAY_MS": "1500"}, workers=1)
    result: dict = {}

    def in_flight() -> None:
        try:
            result["response"] = slow.review(admission_review("CREATE", pod(host_network=True)))
        except BaseException as err:  # noqa: BLE001
            result["error"] = err

    thread = threading.Thread(target=in_flight)
    try:
        thread.start()
        time.sleep(0.5)  # the request is inside the app now, sleeping
        slow.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(OSError):  # the listener is closed: new connections are refused
            socket.create_connection(("127.0.0.1", slow.port), timeout=2).close()
        thread.join(10)
        assert "error" not in result, result
        assert result["response"]["allowed"] is False
        assert slow.process.wait(timeout=15) == 0
    finally:
        slow.stop()


def test_oversized_review_is_answered_as_a_review_over_tls(server):
    """Over the limit (65536 here): the client still gets an AdmissionReview with its uid and the
    failure-mode verdict (allow, with a warning), not a bare 413 that failurePolicy would decide."""
    body = admission_review("CREATE", pod(host_network=True, annotations={"pad": "x" * 70000}))
    status, answer, _ = server.call("POST", "/validate", json.dumps(body).encode())
    assert status == 200 and answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == body["request"]["uid"] and response["allowed"] is True
    assert "over the limit of 65536" in response["warnings"][0]
    assert "failure-mode allow" in response["warnings"][0]
