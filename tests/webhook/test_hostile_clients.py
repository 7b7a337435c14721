"""Hostile clients on the review port (issue 8): stalled handshakes, headers and bodies, and SIGTERM.

Any pod can reach the webhook's port. These tests hold hundreds of stalled connections open against
the real server (TLS, loopback) and check what a user would: reviews and /healthz still answer at
once, and the server drops each stalled socket within a few seconds (its handshake, header and body
timeouts). Every socket has a timeout and every wait a deadline, so a regression fails, never hangs.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviews import admission_review, pod
from serving import Server, start_server

pytest.importorskip("gunicorn")
pytest.importorskip("cryptography")
if not sys.platform.startswith("linux"):
    pytest.skip("holds hundreds of sockets; Linux only", allow_module_level=True)

SILENT = 500      # connect and send nothing
ONE_BYTE = 24     # send the first byte of a TLS ClientHello, then nothing
# The server's timeouts (kexlint/webhook/worker.py) are 5 s for the handshake and the headers and
# 10 s for the body; its loop checks them once a second. Generous margins: the machine is shared.
DROPPED_WITHIN = 20.0
# A review takes about a millisecond; the bug made every review wait for the stalled sockets (minutes).
ANSWER_WITHIN = 3.0


@pytest.fixture
def server(certs: Path, tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt")
    yield running
    running.stop()


def _open(server: Server, count: int, first: bytes = b"") -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        if first:
            sock.sendall(first)
        sockets.append(sock)
    return sockets


def _tls(server: Server) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return server.context().wrap_socket(raw, server_hostname="localhost")


def _timed_review(server: Server) -> float:
    start = time.monotonic()
    response = server.review(admission_review("CREATE", pod("web")), conn=server.connection(timeout=ANSWER_WITHIN * 3))
    assert response["allowed"] is True
    return time.monotonic() - start


def _timed_health(server: Server) -> float:
    start = time.monotonic()
    status, body, _ = server.call("GET", "/healthz", conn=server.connection(timeout=ANSWER_WITHIN * 3))
    assert status == 200, body
    return time.monotonic() - start


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed `sock` (EOF or reset), False if it was still open at `deadline`."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        if not data:
            return True
    return False


def _close_all(sockets: list) -> None:
    for sock in sockets:
        try:
            sock.close()
        except OSError:
            pass


def test_stalled_connections_do_not_delay_reviews_and_are_dropped(server: Server) -> None:
    held: list = []
    try:
        held += _open(server, SILENT)
        held += _open(server, ONE_BYTE, first=b"\x16")
        time.sleep(0.5)  # let the server accept them all
        # Before the fix every worker thread sat in a blocking handshake or read on these sockets.
        review_times = [_timed_review(server) for _ in range(10)]
        health_times = [_timed_health(server) for _ in range(5)]
        assert max(review_times) < ANSWER_WITHIN, review_times
        assert max(health_times) < ANSWER_WITHIN, health_times
        deadline = time.monotonic() + DROPPED_WITHIN
        still_open = [sock for sock in held if not _closed_by_server(sock, deadline)]
        assert not still_open, f"{len(still_open)} of {len(held)} stalled sockets still open after {DROPPED_WITHIN} s"
        # And the server still works afterwards.
        assert _timed_review(server) < ANSWER_WITHIN
    finally:
        _close_all(held)


def test_stalled_headers_and_bodies_after_the_handshake(server: Server) -> None:
    """Finished TLS handshakes, then one byte of a request line, or headers with a body that never comes."""
    held: list = []
    try:
        for _ in range(12):
            sock = _tls(server)
            sock.sendall(b"P")
            held.append(sock)
        for _ in range(12):
            sock = _tls(server)
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"apiVersion\"")
            held.append(sock)
        time.sleep(0.5)
        review_times = [_timed_review(server) for _ in range(10)]
        assert max(review_times) < ANSWER_WITHIN, review_times
        assert _timed_health(server) < ANSWER_WITHIN
        deadline = time.monotonic() + DROPPED_WITHIN
        still_open = [sock for sock in held if not _closed_by_server(sock, deadline)]
        assert not still_open, f"{len(still_open)} of {len(held)} stalled requests still open"
    finally:
        _close_all(held)


def test_a_slow_but_steady_request_is_still_served(server: Server) -> None:
    """The timeouts bound stalls, not honest clients: a body sent in pieces over a second is answered."""
    body = json.dumps(admission_review("CREATE", pod("slow"))).encode()
    sock = _tls(server)
    try:
        sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        for start in range(0, len(body), len(body) // 4 + 1):
            time.sleep(0.25)
            sock.sendall(body[start:start + len(body) // 4 + 1])
        sock.settimeout(10)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200
        assert json.loads(response.read())["response"]["allowed"] is True
    finally:
        sock.close()


def test_sigterm_closes_idle_keepalive_connections_at_once(certs: Path, tmp_path: Path) -> None:
    """An idle kept-alive connection is closed on SIGTERM, so no later request reaches the old process."""
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt", workers=1)
    conn = server.connection()
    try:
        assert server.review(admission_review("CREATE", pod("a")), conn=conn)["allowed"] is True
        # Idle on the server too: the worker has taken the connection back from its thread. (A review
        # whose answer is still being handed back at SIGTERM was not idle: gthread keeps that
        # connection 2 s for the next request the client may already be sending.)
        time.sleep(0.3)
        sent = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # The server closes the idle socket: the client reads EOF well before any linger would end.
        assert _closed_by_server(conn.sock, time.monotonic() + 10), "idle connection still open after SIGTERM"
        # Closed within milliseconds when the machine is idle; gunicorn's own stop kept it 2 s
        # (STOP_KEEPALIVE_LINGER) after the worker began stopping, so anything below that is the fix.
        assert time.monotonic() - sent < 1.9
        assert server.process.wait(timeout=15) == 0
    finally:
        conn.close()
        server.stop()


def test_sigterm_lets_a_review_in_flight_on_a_kept_alive_connection_finish(certs: Path, tmp_path: Path) -> None:
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt", workers=1,
                          env={"KEXLINT_TEST_DELAY_MS": "1500"})
    conn = server.connection()
    result: dict = {}

    def second() -> None:
        try:
            result["response"] = server.review(admission_review("CREATE", pod("b", host_network=True)), conn=conn)
        except BaseException as err:  # noqa: BLE001
            result["error"] = err

    try:
        assert server.review(admission_review("CREATE", pod("a")), conn=conn)["allowed"] is True
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # inside the app, sleeping
        server.process.send_signal(signal.SIGTERM)
        thread.join(10)
        assert "error" not in result, result
        assert result["response"]["allowed"] is False
        assert server.process.wait(timeout=15) == 0
    finally:
        conn.close()
        server.stop()


def test_chunked_bodies_are_refused_at_once(server: Server) -> None:
    """A chunked body could be trickled forever inside a thread: the loop answers 411 instead."""
    held = []
    try:
        for _ in range(12):  # more than the 8 threads: before, these took every thread
            sock = _tls(server)
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
            held.append(sock)
        for sock in held:
            sock.settimeout(5)
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert response.status == 411
            assert json.loads(response.read())["code"] == 411
        assert max(_timed_review(server) for _ in range(5)) < ANSWER_WITHIN
    finally:
        _close_all(held)


def test_a_request_held_in_a_thread_ends_at_its_deadline(server: Server) -> None:
    """A body too large to buffer goes to a thread once its first 64 KiB are in; trickling the rest
    cannot keep that thread, or the connection, for long.

    (gunicorn already bounds the drain after the answer; the socket deadline is the backstop for every
    other blocking read or write of a request handed to a thread.)
    """
    sock = _tls(server)
    try:
        sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000000\r\n\r\n" + b"x" * 65536)
        sock.settimeout(5)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413  # no uid in what it read: a bare refusal
        response.read()
        start = time.monotonic()
        # Keep trickling: the server must still close the connection (deadline 15 s) instead of draining forever.
        closed = False
        while time.monotonic() - start < 30:
            try:
                sock.sendall(b"x")
                sock.settimeout(1)
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                closed = True
                break
        assert closed and time.monotonic() - start < 25
    finally:
        sock.close()


def test_an_oversized_body_that_stalls_holds_no_thread(server: Server) -> None:
    """Headers announcing a body over the limit, then nothing: the server waits for the start of the
    body (to read a uid) on its loop, not on a thread, and drops the socket at the body deadline."""
    held = []
    try:
        for _ in range(3 * 8):  # more than every thread of both workers
            sock = _tls(server)
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000000\r\n\r\n{\"apiVersion\"")
            held.append(sock)
        time.sleep(0.5)
        assert max(_timed_review(server) for _ in range(5)) < ANSWER_WITHIN
        deadline = time.monotonic() + DROPPED_WITHIN
        still_open = [sock for sock in held if not _closed_by_server(sock, deadline)]
        assert not still_open, f"{len(still_open)} of {len(held)} stalled sockets still open"
    finally:
        _close_all(held)


def test_a_review_too_large_to_buffer_is_answered_as_a_review(server: Server) -> None:
    """5 MiB (over what the worker buffers): its uid is read from the start, the verdict is the
    failure-mode's, and the connection closes after the answer (the rest of the body is not read)."""
    review = admission_review("CREATE", pod("web", annotations={"pad": "x" * (5 * 2**20)}))
    body = json.dumps(review).encode()
    assert body.index(review["request"]["uid"].encode()) < 1000  # written first, as the apiserver does
    sock = _tls(server)
    try:
        sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:2**20])
        sock.settimeout(10)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200 and response.getheader("Connection") == "close"
        answer = json.loads(response.read())
        assert answer["kind"] == "AdmissionReview" and answer["response"]["uid"] == review["request"]["uid"]
        assert answer["response"]["allowed"] is True  # failure-mode allow, the default
        assert f"request body is {len(body)} bytes, over the limit" in answer["response"]["warnings"][0]
        assert _closed_by_server(sock, time.monotonic() + DROPPED_WITHIN)
    finally:
        sock.close()
    assert _timed_review(server) < ANSWER_WITHIN


def test_clients_that_never_close_do_not_stall_the_server(certs: Path, tmp_path: Path) -> None:
    """A request with "Connection: close" whose client then keeps its end open.

    The server half-closes and waits for the client's close before closing (so no reset cuts the
    answer short); gunicorn waited up to 2 s per connection on the loop's thread, stalling every
    handshake and every other connection meanwhile.
    """
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt", workers=1)
    held: list = []
    try:
        for _ in range(10):
            sock = _tls(server)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            held.append(sock)
        for sock in held:  # read each answer, keep the socket open
            sock.settimeout(10)
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert response.status == 200
            response.read()
        review_times = [_timed_review(server) for _ in range(5)]
        assert max(review_times) < 1.5, review_times
    finally:
        _close_all(held)
        server.stop()


def test_bodies_held_back_cannot_fill_the_memory(certs: Path, tmp_path: Path) -> None:
    """Many clients each sending most of a 3 MB body, then stalling: the worker buffers a bounded total."""
    from serving import rss_bytes

    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt", workers=1)
    held: list = []
    chunk = b"x" * (2 * 2**20)
    try:
        (worker,) = server.workers()
        before = rss_bytes(worker)
        for _ in range(60):  # 120 MiB in all, for a pod whose limit is 256Mi
            sock = _tls(server)
            try:
                sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 3000000\r\n\r\n" + chunk)
            except OSError:
                pass  # dropped by the server: what the test wants
            held.append(sock)
        time.sleep(0.5)
        grown = rss_bytes(worker) - before
        assert grown < 64 * 2**20, f"worker grew by {grown / 2**20:.0f} MiB"
        assert max(_timed_review(server) for _ in range(5)) < ANSWER_WITHIN
    finally:
        _close_all(held)
        server.stop()
