"""The real server under load and faults (issue 5): sustained load, certificate rotation, SIGTERM, a killed worker.

Each test starts its own `kexlint webhook serve` (gunicorn, TLS, loopback only) and drives it with client
threads that keep their HTTPS connections alive, as the apiserver does, and verify the server against the
CA. Every request is accounted for: it either got a well-formed AdmissionReview answer carrying its own
uid and the expected verdict, or it failed in a phase the test then judges (connect, send, status line,
body). Every loop is bounded by a deadline and every socket by a timeout, so a hang fails, never stalls.

Linux only: worker processes, their memory and their sockets are read from /proc.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from reviews import admission_review, deployment, pod, service
from serving import Server, make_certs, rss_bytes, start_server
from waiting import wait_until

pytest.importorskip("gunicorn")
x509 = pytest.importorskip("cryptography.x509")
if not sys.platform.startswith("linux"):
    pytest.skip("reads worker processes and sockets from /proc", allow_module_level=True)

# The same length as a uuid4, so each request's body is the template with the uid swapped in.
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
TIMEOUT = 10.0  # per socket operation; the apiserver's webhook timeout is at most 30 s, ours 5 s
LOAD_SECONDS = 10.0
WARMUP_SECONDS = 3.0
# RSS growth allowed per worker over LOAD_SECONDS after the warm-up. A steady-state Python worker does
# not grow: its arenas, thread stacks, TLS contexts and metric files were all allocated during the
# warm-up; measured growth is tens of KiB. 8 MiB still catches a leak of about 1 kB per review at the
# ~10,000 reviews each worker answers here (a leaked request body alone is 0.7-1.5 kB), while leaving
# room for allocator noise on a shared 2-core machine.
RSS_GROWTH_LIMIT = 8 * 2**20


@dataclass(frozen=True)
class Template:
    name: str
    body: bytes  # JSON with PLACEHOLDER as the request uid
    allowed: bool
    api_version: str = "admission.k8s.io/v1"


def templates() -> list[Template]:
    """A realistic mix: Pods, Deployments, Services; allowed, warned and denied; CREATE and UPDATE; v1beta1."""
    cases = [
        ("pod", admission_review("CREATE", pod("web"), uid=PLACEHOLDER), True),
        ("pod-host-network", admission_review("CREATE", pod("agent", host_network=True), uid=PLACEHOLDER), False),
        ("deployment", admission_review("CREATE", deployment("api"), uid=PLACEHOLDER), True),
        ("deployment-host-port", admission_review("CREATE", deployment("edge", host_port=8080), uid=PLACEHOLDER),
         False),
        ("service", admission_review("CREATE", service("svc"), uid=PLACEHOLDER), True),
        ("service-lb-warned", admission_review("CREATE", service("lb", type_="LoadBalancer"), uid=PLACEHOLDER),
         True),
        ("deployment-update", admission_review("UPDATE", deployment("api", replicas=5), deployment("api"),
                                               uid=PLACEHOLDER), True),
        ("service-node-port-80", admission_review("CREATE", service("np", type_="NodePort", node_port=80),
                                                  uid=PLACEHOLDER), False),
        ("pod-v1beta1-denied", admission_review("CREATE", pod("old", host_port=9100), uid=PLACEHOLDER,
                                                api_version="admission.k8s.io/v1beta1"), False),
    ]
    return [Template(name, json.dumps(body).encode(), allowed, body["apiVersion"]) for name, body, allowed in cases]


@dataclass
class Result:
    """One request, as far as it got."""

    client: int
    connection: int  # client-side connection number, unique within a Load
    fresh: bool  # this request opened the connection (TCP connect and TLS handshake)
    started: float  # time.monotonic() before connecting or sending
    ended: float = 0.0
    phase: str = "connect"  # connect, send, status, body, answered
    error: str = ""  # "" when answered correctly
    exception: type[BaseException] | None = None
    status: int | None = None
    serial: int | None = None  # serial of the server certificate seen on this connection's handshake
    local_port: int | None = None  # the client's port: maps the connection to the worker that serves it

    @property
    def answered(self) -> bool:
        return self.phase == "answered"

    @property
    def sent(self) -> bool:
        return self.phase in ("status", "body", "answered")


def check_answer(template: Template, uid: str, status: int, content_type: str, data: bytes) -> str:
    """"" if `data` is the AdmissionReview answer `template` deserves, else what is wrong with it."""
    if status != 200:
        return f"HTTP {status}: {data[:200]!r}"
    if "application/json" not in content_type:
        return f"Content-Type {content_type!r}"
    try:
        body = json.loads(data)
    except ValueError as err:
        return f"not JSON ({err}): {data[:200]!r}"
    response = body.get("response") if isinstance(body, dict) else None
    if body.get("kind") != "AdmissionReview" or body.get("apiVersion") != template.api_version:
        return f"not an AdmissionReview {template.api_version}: {data[:200]!r}"
    if not isinstance(response, dict) or response.get("uid") != uid:
        return f"uid {response.get('uid') if isinstance(response, dict) else None!r}, expected {uid}"
    if response.get("allowed") is not template.allowed:
        return f"{template.name}: allowed={response.get('allowed')!r}, expected {template.allowed}"
    return ""


class Load:
    """`clients` threads sending reviews over kept-alive HTTPS connections until stopped or `limit` s pass.

    A connection is replaced after an error, after the server answered "Connection: close", and, with
    `reconnect_every`, after that many requests (to have TLS handshakes throughout). After a refused
    connection a client waits `retry_pause` s before trying again.
    """

    def __init__(self, server: Server, clients: int, *, reconnect_every: int = 0, limit: float = 40.0,
                 retry_pause: float = 0.05) -> None:
        self.server = server
        self.clients = clients
        self.reconnect_every = reconnect_every
        self.retry_pause = retry_pause
        self.templates = templates()
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._connections = 0
        self._stop = threading.Event()
        self._deadline = time.monotonic() + limit  # even if stop() is never reached
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Result]:
        self._stop.set()
        end = time.monotonic() + 2 * TIMEOUT + 5
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"client threads still running (a request hangs): {alive}"
        return self.results

    def running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def snapshot(self) -> list[Result]:
        with self._lock:
            return list(self.results)

    def _client(self, index: int) -> None:
        context = self.server.context()
        conn = http.client.HTTPSConnection("localhost", self.server.port, context=context, timeout=TIMEOUT)
        number, on_conn, i = -1, 0, index
        while self.running():
            if conn.sock is None or (self.reconnect_every and on_conn >= self.reconnect_every):
                conn.close()
                with self._lock:
                    self._connections += 1
                    number = self._connections
                on_conn = 0
            template = self.templates[i % len(self.templates)]
            i += 1
            result = self._one(conn, template, index, number, fresh=on_conn == 0)
            on_conn += 1
            with self._lock:
                self.results.append(result)
            if result.error:
                conn.close()  # the next request opens a new connection
                if result.exception is ConnectionRefusedError:
                    self._stop.wait(self.retry_pause)
        conn.close()

    def _one(self, conn: http.client.HTTPSConnection, template: Template, client: int, number: int,
             fresh: bool) -> Result:
        uid = str(uuid.uuid4())
        result = Result(client, number, fresh, time.monotonic())
        try:
            if conn.sock is None:
                conn.connect()  # TCP connect and TLS handshake, verified against the CA
                result.local_port = conn.sock.getsockname()[1]
                der = conn.sock.getpeercert(binary_form=True)
                result.serial = x509.load_der_x509_certificate(der).serial_number
            result.phase = "send"
            conn.request("POST", "/validate", template.body.replace(PLACEHOLDER.encode(), uid.encode()),
                         {"Content-Type": "application/json"})
            result.phase = "status"
            response = conn.getresponse()
            result.status = response.status
            result.phase = "body"
            data = response.read()  # closes the connection if the server said "Connection: close"
            result.error = check_answer(template, uid, response.status, response.getheader("Content-Type", ""),
                                        data)
            if not result.error:
                result.phase = "answered"
        except (OSError, http.client.HTTPException) as err:
            result.error = f"{type(err).__name__}: {err}"
            result.exception = type(err)
        result.ended = time.monotonic()
        return result


def summary(results: list[Result]) -> str:
    errors = Counter(f"{r.phase}: {r.error[:120]}" for r in results if r.error)
    return f"{len(results)} requests, {sum(r.answered for r in results)} answered; errors: {dict(errors)}"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    wait_until(condition, seconds, what, interval=0.05)


@pytest.fixture
def own_certs(certs: Path, tmp_path: Path) -> Path:
    """A copy of the session's certificates that a test may renew."""
    out = tmp_path / "certs"
    shutil.copytree(certs, out)
    return out


def test_sustained_load_answers_everything_and_memory_stays_flat(own_certs: Path, tmp_path: Path) -> None:
    server = start_server(tmp_path, own_certs / "tls.crt", own_certs / "tls.key", own_certs / "ca.crt")
    try:
        workers = server.workers()
        assert len(workers) == 2
        # Reconnecting often spreads the warm-up over both workers and all their threads: a worker's
        # first busy seconds grow it by several MiB (per-thread malloc arenas, TLS buffers), once.
        with Load(server, clients=12, reconnect_every=10) as warmup:
            time.sleep(WARMUP_SECONDS)
        warm = warmup.stop()
        assert all(r.answered for r in warm), summary(warm)
        before = {pid: rss_bytes(pid) for pid in workers}

        with Load(server, clients=12) as load:
            time.sleep(LOAD_SECONDS)
        results = load.stop()
        after = {pid: rss_bytes(pid) for pid in workers}
        assert server.workers() == workers, "a worker was replaced during the load"
    finally:
        assert server.stop() == 0

    bad = [r for r in results if not r.answered]
    assert not bad, summary(results)
    sent = sum(r.sent for r in results)
    answered = sum(r.answered for r in results)
    assert sent == answered == len(results)
    assert all(r.status == 200 for r in results)  # no 5xx, nor anything else
    verdicts = Counter(r.client for r in results)
    assert len(verdicts) == 12 and min(verdicts.values()) > 10, verdicts  # every client was served throughout

    rate = answered / LOAD_SECONDS
    print(f"\nsustained load: 12 clients, {LOAD_SECONDS:g} s, {answered} reviews answered ({rate:.0f}/s), "
          f"{sum(r.fresh for r in results)} new connections")
    for pid in workers:
        growth = after[pid] - before[pid]
        print(f"worker {pid}: VmRSS {before[pid] / 2**20:.1f} MiB after warm-up, {after[pid] / 2**20:.1f} MiB "
              f"after load ({growth / 2**10:+.0f} KiB)")
    for pid in workers:
        assert after[pid] - before[pid] < RSS_GROWTH_LIMIT, (pid, before[pid], after[pid])


def test_certificate_rotation_under_load(own_certs: Path, tmp_path: Path) -> None:
    """`kexlint webhook certs` renews (same CA) several times while every client keeps handshaking."""
    server = start_server(tmp_path, own_certs / "tls.crt", own_certs / "tls.key", own_certs / "ca.crt")
    ca = (own_certs / "ca.crt").read_bytes()

    def current_serial() -> int:
        return x509.load_pem_x509_certificate((own_certs / "tls.crt").read_bytes()).serial_number

    # (renewal began, renewal done, serial written); the first is the one the server started with.
    rotations: list[tuple[float, float, int]] = [(0.0, 0.0, current_serial())]
    try:
        with Load(server, clients=8, reconnect_every=4) as load:
            time.sleep(1.0)
            for _ in range(4):
                began = time.monotonic()
                make_certs(own_certs)
                rotations.append((began, time.monotonic(), current_serial()))
                serial = rotations[-1][2]
                wait_for(lambda serial=serial: any(r.serial == serial and r.answered for r in load.snapshot()),
                         5, f"a handshake seeing the new serial {serial:x}")
                time.sleep(0.5)
        results = load.stop()
    finally:
        assert server.stop() == 0

    assert (own_certs / "ca.crt").read_bytes() == ca, "the CA must be reused, or the caBundle would change"
    assert len({serial for *_, serial in rotations}) == len(rotations)
    bad = [r for r in results if not r.answered]
    assert not bad, summary(results)  # no failed handshake, no lost review
    handshakes = [r for r in results if r.fresh]
    assert len(handshakes) > 40, summary(results)
    for r in handshakes:
        # The newest renewal finished before this connection began: its handshake must see that serial.
        # A connection that began while `certs` was writing may see either side of it.
        done = max(i for i, (_, end, _) in enumerate(rotations) if end <= r.started)
        expected = {rotations[done][2]}
        if done + 1 < len(rotations) and rotations[done + 1][0] <= r.started:
            expected.add(rotations[done + 1][2])
        assert r.serial in expected, (f"connection at {r.started:.3f} saw serial {r.serial:x}, expected "
                                      f"{[f'{s:x}' for s in expected]}; rotations {rotations}")
    seen = Counter(r.serial for r in handshakes)
    assert all(seen[serial] for *_, serial in rotations), seen
    print(f"\nrotation: {len(rotations) - 1} renewals, {len(results)} reviews, {len(handshakes)} handshakes, "
          f"by serial: {[seen[s] for *_, s in rotations]}")


def answered_or_refused(results: list[Result], term: float) -> list[Result]:
    """Assert each request was answered or refused cleanly after SIGTERM at `term`; returns the refused.

    Answered: on a connection made before the signal, or one the worker still had when it stopped (it
    answers with "Connection: close"). Refused: the connect itself, after the signal. Never a reset (in
    the handshake or mid-answer) nor a timeout.
    """
    refused = [r for r in results if r.exception is ConnectionRefusedError]
    assert all(r.phase == "connect" and r.ended >= term for r in refused), summary(refused)
    other = [r for r in results if not r.answered and r.exception is not ConnectionRefusedError]
    assert not other, summary(other)
    assert refused, summary(results)
    return refused


def test_sigterm_under_load_finishes_in_flight_and_refuses_new(certs: Path, tmp_path: Path) -> None:
    """SIGTERM to the master with every worker thread busy on a slow review and new connections arriving."""
    graceful = 10
    # Every /validate answer takes 300 ms, so at SIGTERM all 8 worker threads hold a review in flight.
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt",
                          env={"KEXLINT_TEST_DELAY_MS": "300"}, graceful_timeout=graceful)
    try:
        # Kept-alive clients as the apiserver's, and clients opening a connection for every review, so
        # that handshakes are under way, or queued in the listen backlog, when the signal arrives.
        with Load(server, clients=12) as kept, Load(server, clients=4, reconnect_every=1) as fresh:
            time.sleep(1.5)
            term = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # A new connection is refused at once: not accepted and left hanging, nor reset after a while.
            probe = time.monotonic()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            assert time.monotonic() - probe < 1
            code = server.process.wait(timeout=graceful + 5)
            exited = time.monotonic()
            time.sleep(0.3)  # clients keep trying after the exit: still refused
        results = kept.stop() + fresh.stop()
    finally:
        server.stop()

    assert code == 0, server.log.read_text()[-3000:]
    assert exited - term < graceful, f"master took {exited - term:.1f} s to exit"
    # The reviews in flight when the signal arrived are answered.
    in_flight = [r for r in results if r.started < term < r.ended and r.sent]
    assert len(in_flight) >= 8 and all(r.answered for r in in_flight), summary(in_flight)
    refused = answered_or_refused(results, term)
    after = [r for r in results if r.started >= term and r.answered]
    print(f"\nSIGTERM: {len(in_flight)} reviews in flight finished, {len(after)} more answered while stopping, "
          f"{len(refused)} connections refused; master exited after {exited - term:.2f} s "
          f"(graceful timeout {graceful} s)")


def test_sigterm_with_connections_arriving_refuses_cleanly(certs: Path, tmp_path: Path) -> None:
    """Clients opening a connection per review as fast as they can while the server stops.

    Connections the kernel completed into the listen backlog just before the listener closed used to be
    reset in the middle of their TLS handshake; the worker now takes them over and answers them.
    """
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt")
    try:
        with Load(server, clients=12, reconnect_every=1, retry_pause=0.01) as load:
            time.sleep(1.0)
            term = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            code = server.process.wait(timeout=15)
            exited = time.monotonic()
            time.sleep(0.2)
        results = load.stop()
    finally:
        server.stop()

    assert code == 0
    refused = answered_or_refused(results, term)
    before = [r for r in results if r.ended < term]
    assert len(before) > 100, summary(before)
    print(f"\nSIGTERM with new connections arriving: {len(before)} answered before, "
          f"{sum(r.answered for r in results) - len(before)} while stopping, {len(refused)} refused; "
          f"master exited after {exited - term:.2f} s")


def server_side_ports(pid: int, port: int) -> set[int]:
    """Client ports of the TCP connections to `port` whose server-side socket process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            # 0A is LISTEN: the listening socket, which every worker holds, is no connection.
            if int(local.rsplit(":", 1)[1], 16) == port and inode in inodes and state != "0A":
                ports.add(int(remote.rsplit(":", 1)[1], 16))
    return ports


def test_worker_killed_mid_request(certs: Path, tmp_path: Path) -> None:
    """SIGKILL one worker with reviews in flight: only that worker's connections fail, the master respawns it."""
    # 200 ms per review: when the signal lands, the killed worker's threads are inside a review.
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt",
                          env={"KEXLINT_TEST_DELAY_MS": "200"})
    try:
        workers = server.workers()
        # 12 connections: both workers almost always get some, so the survivor's are checked too.
        with Load(server, clients=12) as load:
            # Wait until every client has its connection, then map connections to workers.
            wait_for(lambda: len({r.client for r in load.snapshot() if r.answered}) == 12, 10,
                     "every client served")
            owned = {pid: server_side_ports(pid, server.port) for pid in workers}
            victim = max(workers, key=lambda pid: len(owned[pid]))
            kill = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: len(server.workers()) == 2 and victim not in server.workers(), 10,
                     "the master starts a new worker")
            respawned = time.monotonic()
            time.sleep(2.0)  # the clients go on, on the surviving and the new worker
        results = load.stop()
        # And afterwards the server answers on new connections.
        for template in templates():
            uid = str(uuid.uuid4())
            status, answer, _ = server.call("POST", "/validate", template.body.replace(PLACEHOLDER.encode(),
                                                                                       uid.encode()))
            assert status == 200 and answer["response"]["uid"] == uid
            assert answer["response"]["allowed"] is template.allowed
    finally:
        assert server.stop() == 0

    assert owned[victim], f"no connection on the killed worker: {owned}"
    victim_ports = owned[victim]
    port_of = {r.connection: r.local_port for r in results if r.fresh}
    failed = [r for r in results if not r.answered]
    for r in failed:
        # Only requests on the killed worker's connections may fail, with a connection error (no HTTP
        # error, no malformed answer), and each such connection at most once: the client reconnects.
        assert port_of.get(r.connection) in victim_ports, (r, victim_ports)
        assert r.exception is not None and r.started < kill + 1, r
    assert len(failed) <= len(victim_ports), summary(failed)
    assert len({r.connection for r in failed}) == len(failed)
    # The requests in flight on the killed worker are the ones that failed; everything else succeeded.
    others = [r for r in results if port_of.get(r.connection) not in victim_ports]
    assert others and all(r.answered for r in others), summary(others)
    after = [r for r in results if r.started > respawned]
    assert len(after) > 20 and all(r.answered for r in after), summary(after)
    print(f"\nkilled worker {victim} holding {len(victim_ports)} of {sum(map(len, owned.values()))} connections: "
          f"{len(failed)} requests failed ({Counter(r.error.split(':')[0] for r in failed)}), "
          f"{sum(r.answered for r in results)} answered; new worker after {respawned - kill:.2f} s")

