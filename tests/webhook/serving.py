"""Running the real server for tests: certificates made by the CLI, `kexlint webhook serve` under gunicorn.

Shared by the end-to-end tests and the load/fault tests. The client verifies the server against the
generated CA, as the apiserver does with the caBundle, and keeps hostname verification on ("localhost"
is a SAN of the certificate).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The subprocesses must run this tree's kexlint, whatever else is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def kexlint(*args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kexlint", *args], env=kwargs.pop("env", ENV), cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60, **kwargs)


def make_certs(out: Path) -> None:
    """Create, or renew with the CA already in `out`, the serving certificate for 127.0.0.1/localhost."""
    kexlint("webhook", "certs", "--service", "kexlint", "--namespace", "kexlint", "--out", str(out),
            "--san", "127.0.0.1", "--san", "localhost")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    cafile: Path
    log: Path
    metrics_port: int = 0
    server_name: str = "localhost"  # a SAN of the certificate; connections go to 127.0.0.1 whatever it is
    client_cert: tuple[Path, Path] | None = None  # presented when the server requires one (--client-ca)

    @property
    def master(self) -> int:
        # `kexlint webhook serve` runs gunicorn's arbiter in its own process: the Popen pid is the master.
        return self.process.pid

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.cafile))
        if self.client_cert is not None:
            context.load_cert_chain(*map(str, self.client_cert))
        return context

    def metrics(self) -> tuple[int, str]:
        """GET /metrics from the plain-HTTP metrics port."""
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def connection(self, timeout: float = 10) -> http.client.HTTPSConnection:
        # server_name is a SAN of the certificate: hostname verification stays on.
        return _LoopbackHTTPSConnection(self.server_name, self.port, context=self.context(), timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None,
             conn: http.client.HTTPSConnection | None = None) -> tuple[int, dict | str, bytes]:
        """(status, parsed body, DER of the peer certificate)."""
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            response = conn.getresponse()
            data = response.read()
            peer = conn.sock.getpeercert(binary_form=True)
        finally:
            if own:
                conn.close()
        kind = response.getheader("Content-Type", "")
        return response.status, (json.loads(data) if "json" in kind else data.decode()), peer

    def review(self, body: dict, conn: http.client.HTTPSConnection | None = None) -> dict:
        status, answer, _ = self.call("POST", "/validate", json.dumps(body).encode(), conn)
        assert status == 200, answer
        assert answer["response"]["uid"] == body["request"]["uid"]
        return answer["response"]

    def workers(self) -> list[int]:
        """Pids of the gunicorn workers: the master's children, from /proc (Linux)."""
        return children(self.master)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


class _LoopbackHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 that checks the certificate for `host` (e.g. a Service's DNS name)."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (every thread's children file: a child belongs to the forking thread)."""
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(x) for x in path.read_text().split())
        except OSError:  # the thread exited meanwhile
            continue
    return sorted(found)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", line
            return int(value) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def start_server(tmp: Path, cert: Path, key: Path, cafile: Path, config: str | None = None,
                 env: dict[str, str] | None = None, workers: int = 2, threads: int = 4,
                 graceful_timeout: int = 10, client_ca: Path | None = None,
                 client_cert: tuple[Path, Path] | None = None, server_name: str = "localhost") -> Server:
    """Start `kexlint webhook serve` on a free loopback port and wait (20 s at most) until /readyz is 200."""
    port, metrics_port = free_port(), free_port()
    args = [sys.executable, "-m", "kexlint", "webhook", "serve", "--cert", str(cert), "--key", str(key),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--threads", str(threads),
            "--graceful-timeout", str(graceful_timeout), "--metrics-port", str(metrics_port)]
    if client_ca is not None:
        args += ["--client-ca", str(client_ca)]
    if config is not None:
        path = tmp / f"kexlint-{port}.yaml"
        path.write_text(config)
        args += ["--config", str(path)]
    log = tmp / f"server-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(args, env={**ENV, **(env or {})}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, cafile, log, metrics_port, server_name, client_cert)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            status, body, _ = server.call("GET", "/readyz")
            if status == 200 and len(server.workers()) == workers:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server not ready in time:\n{log.read_text()}")
