"""Load benchmark of the webhook server (not a test): kexlint against a minimal Flask endpoint.

Both run under the same gunicorn settings and TLS (serve.gunicorn_options, the same certificate
reloader), on loopback, in the same run, so the ratio shows what kexlint's review costs on top of the
HTTP/TLS stack. Clients keep their HTTPS connections alive, as the apiserver does, and send a mix of
realistic AdmissionReviews (Pods, Deployments, Services; allowed, warned and denied).

    python bench/webhook.py [--workers 2] [--threads 4] [--seconds 3] [--clients 1,8,32] [--rate 0]

By default every client sends its next review as soon as it has the answer (closed loop): that measures
the most the server does, and by Little's law the mean latency is then clients / throughput. With
--rate R the clients together send R reviews per second on a fixed schedule (open loop, as the apiserver
sends what users write), and latency counts from the scheduled send, so a server falling behind shows
its queueing delay instead of slowing the clients down.

With --stalled N[,M...] kexlint is measured again while N hostile connections are held open: about
19 in 20 connect and send nothing, the rest send the first byte of a TLS ClientHello and stall. The
server drops each within its handshake timeout; the bench reconnects it at once, so N stay open
throughout, and it reports how long the server took to drop them.
With --cluster-state, a third server runs: kexlint with `--cluster-state watch` against a fake apiserver
(tests/cluster/fakeapi.py) holding --cluster-pods Pods and --cluster-services Services (issue 9: a
review's p99 with the cache on), e.g. `python bench/webhook.py --cluster-state --clients 32`.

Targets (issue 5): p99 <= 10 ms at 32 clients, throughput >= 60% of the minimal endpoint.
Issue 8: p99 <= 10 ms at 1000 reviews/s offered over 32 connections, with and without 500 stalled
connections held open:

    python bench/webhook.py --rate 1000 --clients 32 --stalled 0,500 --seconds 10

Clients and servers share the machine's CPUs: on a small machine the clients take a large share.
"""

from __future__ import annotations

import argparse
import errno
import http.client
import json
import multiprocessing as mp
import os
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "webhook")]

from reviews import admission_review, deployment, pod, service  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
THREADS_PER_PROCESS = 8  # client threads per client process: one process would be GIL-bound


def bodies(count: int = 240) -> list[bytes]:
    """A mix of reviews; about a third denied, some warned, some UPDATEs with an oldObject."""
    made = []
    for i in range(count):
        match i % 8:
            case 0:
                review = admission_review("CREATE", pod(f"web-{i}"))
            case 1:
                review = admission_review("CREATE", pod(f"agent-{i}", host_network=True))  # deny
            case 2:
                review = admission_review("CREATE", deployment(f"api-{i}"))
            case 3:
                review = admission_review("CREATE", deployment(f"edge-{i}", host_port=8080))  # deny
            case 4:
                review = admission_review("CREATE", service(f"svc-{i}"))
            case 5:
                review = admission_review("CREATE", service(f"lb-{i}", type_="LoadBalancer"))  # warn
            case 6:
                review = admission_review("UPDATE", deployment(f"api-{i}", replicas=5), deployment(f"api-{i}"))
            case _:
                review = admission_review("CREATE", service(f"np-{i}", type_="NodePort", node_port=80))  # deny
        made.append(json.dumps(review).encode())
    return made


def minimal_app():  # noqa: ANN201 - a Flask app; flask is imported only in the server process
    """The least a webhook can do: parse the review, allow it, echo the uid."""
    from flask import Flask, Response, request

    app = Flask("minimal")

    @app.post("/validate")
    def validate() -> Response:
        body = json.loads(request.get_data())
        answer = {"apiVersion": body["apiVersion"], "kind": "AdmissionReview",
                  "response": {"uid": body["request"]["uid"], "allowed": True}}
        return Response(json.dumps(answer), 200, content_type="application/json")

    @app.get("/readyz")
    def readyz() -> Response:
        return Response("{}", 200, content_type="application/json")

    return app


def serve_minimal(args: argparse.Namespace) -> None:
    """Run in a subprocess: the minimal app under exactly the server's gunicorn settings and TLS."""
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
    from kexlint.webhook.serve import CertificateReloader, build_server, gunicorn_options

    options = gunicorn_options(args)
    options["logconfig_dict"] = {"version": 1, "root": {"level": "WARNING"}}
    build_server(minimal_app, options, lambda: CertificateReloader(args.cert, args.key)).run()


def fake_cluster(folder: Path, pods: int, services: int):
    """A fake apiserver (tests/cluster/fakeapi.py) in this process with the bench_cache population."""
    sys.path[:0] = [str(ROOT / "tests" / "cluster"), str(ROOT / "bench")]
    from cluster_cache import pod, replicaset, service
    from fakeapi import FakeAPI

    from kexlint.cluster import KINDS
    from kexlint.webhook.certs import generate_certs

    api_dir = folder / "api"
    generate_certs("kubernetes", "default", api_dir, sans=["127.0.0.1"])
    api = FakeAPI(api_dir, folder / "kubeconfig")
    owned = int(pods * 0.9)
    for i in range(pods):
        api.put(KINDS["Pod"], pod(i, i < owned))
    for j in range((owned + 9) // 10):
        api.put(KINDS["ReplicaSet"], replicaset(j))
    for i in range(services):
        api.put(KINDS["Service"], service(i))
    api.events = {k: [] for k in api.events}
    api.start()
    return api


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int, cafile: Path, log: Path, wait: float = 30) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, env=ENV, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    context = ssl.create_default_context(cafile=str(cafile))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server not ready:\n{log.read_text()}")


def client_process(port: int, cafile: str, threads: int, start_at: float, stop_at: float,
                   queue: mp.Queue, interval: float = 0.0) -> None:
    """`threads` keep-alive clients; puts (latencies of requests in the measured window, errors).

    interval > 0: each thread sends one review every `interval` s (open loop), threads evenly staggered.
    """
    payloads = bodies()
    context = ssl.create_default_context(cafile=cafile)
    results: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    sent = [0] * threads  # answered requests, warm-up included: the server's CPU covers those too

    def run(index: int) -> None:
        conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
        i = index
        scheduled = time.monotonic() + interval * index / threads
        while True:
            if interval:
                # Latency from the scheduled time: waiting for a late answer counts (no coordinated omission).
                pause = scheduled - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                begin, scheduled = scheduled, scheduled + interval
            else:
                begin = time.monotonic()
            if begin >= stop_at:
                break
            try:
                conn.request("POST", "/validate", payloads[i % len(payloads)],
                             {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                sent[index] += 1
                if response.status != 200:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
                continue
            if begin >= start_at:  # the first moments warm up connections and TLS sessions
                results[index].append(time.monotonic() - begin)
            i += 1
        conn.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(([x for r in results for x in r], sum(errors), sum(sent)))


class Staller:
    """Hold `count` stalled connections to 127.0.0.1:port open, reconnecting each one the server drops."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.selector = selectors.DefaultSelector()
        self.opened: dict[socket.socket, float] = {}
        self.held: list[float] = []  # seconds from connect to the server's close, per dropped socket
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, index: int) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        err = sock.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            return
        if index % 20 == 0:
            try:
                sock.send(b"\x16")  # the first byte of a TLS record: a handshake that never goes on
            except OSError:
                pass
        self.opened[sock] = time.monotonic()
        self.selector.register(sock, selectors.EVENT_READ, index)

    def __enter__(self) -> Staller:
        for index in range(self.count):
            self._open(index)
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop_event.is_set():
            for key, _ in self.selector.select(0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    continue  # a TLS alert before the close; the close follows
                self.selector.unregister(sock)
                self.held.append(time.monotonic() - self.opened.pop(sock))
                sock.close()
                self._open(key.data)

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(5)
        for sock in list(self.opened):
            sock.close()
        self.selector.close()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its children (gunicorn's workers)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        # After the ")" of the command name: state, ppid, ..., utime and stime are fields 12 and 13.
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def drive(port: int, cafile: Path, clients: int, seconds: float, warmup: float,
          rate: float = 0.0, server_pid: int | None = None) -> dict[str, float]:
    """Run `clients` clients (closed loop, or `rate` reviews/s in all) and summarize the measured window."""
    processes = max(1, -(-clients // THREADS_PER_PROCESS))
    interval = clients / rate if rate else 0.0
    per = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    now = time.monotonic()
    start_at, stop_at = now + 0.5 + warmup, now + 0.5 + warmup + seconds
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=client_process, args=(port, str(cafile), n, start_at, stop_at, queue, interval))
             for n in per]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    errors = answered = 0
    cpu_before = process_cpu(server_pid) if server_pid else 0.0
    for _ in procs:
        got, failed, sent = queue.get(timeout=seconds + warmup + 60)
        latencies += got
        errors += failed
        answered += sent
    cpu = process_cpu(server_pid) - cpu_before if server_pid else float("nan")
    for proc in procs:
        proc.join()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else float("nan")

    return {"rps": len(latencies) / seconds, "p50": pct(50), "p90": pct(90), "p99": pct(99),
            "count": len(latencies), "errors": errors,
            "cpu_ms": cpu / answered * 1000 if answered else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per level")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="reviews per second sent by all clients together on a schedule (default: closed loop)")
    parser.add_argument("--stalled", default="0",
                        help="comma list: stalled connections held open while kexlint is measured (default 0)")
    parser.add_argument("--minimal-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--graceful-timeout", type=int, default=5)
    parser.add_argument("--cluster-state", action="store_true",
                        help="also run kexlint with --cluster-state watch against a fake apiserver")
    parser.add_argument("--cluster-pods", type=int, default=50_000)
    parser.add_argument("--cluster-services", type=int, default=10_000)
    args = parser.parse_args()
    if args.minimal_server:
        serve_minimal(args)
        return 0

    levels = [int(x) for x in args.clients.split(",")]
    stalled_levels = [int(x) for x in args.stalled.split(",")]
    with tempfile.TemporaryDirectory(prefix="kexlint-bench-") as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, "-m", "kexlint", "webhook", "certs", "--service", "kexlint",
                        "--namespace", "kexlint", "--out", str(folder), "--san", "localhost"],
                       env=ENV, check=True, capture_output=True)
        cafile, cert, key = folder / "ca.crt", folder / "tls.crt", folder / "tls.key"
        common = ["--cert", str(cert), "--key", str(key), "--host", "127.0.0.1",
                  "--workers", str(args.workers), "--threads", str(args.threads), "--graceful-timeout", "5"]
        results: dict[str, dict[int, dict[str, float]]] = {}
        drops: dict[int, list[float]] = {}
        names = ["kexlint", "minimal"]
        if args.cluster_state:
            api = fake_cluster(folder, args.cluster_pods, args.cluster_services)
            names.append("cluster")
        for name in names:
            port = free_port()
            if name == "kexlint":
                command = [sys.executable, "-m", "kexlint", "webhook", "serve", *common, "--port", str(port)]
            elif name == "cluster":
                command = [sys.executable, "-m", "kexlint", "webhook", "serve", *common, "--port", str(port),
                           "--cluster-state", "watch", "--kubeconfig", str(api.kubeconfig)]
            else:
                command = [sys.executable, __file__, "--minimal-server", *common, "--port", str(port)]
            # The review log goes to a file, as a log shipper would read it; not to this terminal.
            # With the cache, /readyz waits for every worker's first full list.
            server = start(command, port, cafile, folder / f"{name}.log", wait=600 if name == "cluster" else 30)
            try:
                # Warm every worker (lazily built validators, TLS session caches) in closed loop first:
                # an open-loop level that starts cold queues up and does not catch up within seconds.
                drive(port, cafile, 8, 1.5, 0.2)
                for stalled in stalled_levels if name == "kexlint" else [0]:
                    label = name if not stalled else f"{name}+{stalled}"
                    with Staller(port, stalled) as staller:
                        time.sleep(1.0 if stalled else 0)  # let the server accept them before measuring
                        results[label] = {n: drive(port, cafile, n, args.seconds, args.warmup, args.rate,
                                                   server.pid) for n in levels}
                    drops[stalled] = staller.held
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(30)

    print("gunicorn, kexlint's worker (gthread + event-loop request buffering), "
          f"{args.workers} workers x {args.threads} threads, TLS, loopback; "
          f"{os.cpu_count()} CPUs shared by clients and server; {args.seconds:g} s per level; "
          f"{f'open loop, {args.rate:g} reviews/s offered' if args.rate else 'closed loop'}\n")
    print(f"{'server':<12} {'clients':>7} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'server CPU ms/review':>20}")
    for name, by_level in results.items():
        for n, r in by_level.items():
            print(f"{name:<12} {n:>7} {r['rps']:>8.0f} {r['p50']:>7.2f} {r['p90']:>7.2f} {r['p99']:>7.2f} "
                  f"{r['errors']:>6} {r['cpu_ms']:>20.3f}")
    print("  (server CPU: user+system time of the gunicorn master and workers over the level, warm-up "
          "included, per review answered; load on the machine disturbs it far less than latency)")
    for stalled, held in drops.items():
        if stalled and held:
            held.sort()
            print(f"  {stalled} stalled connections: the server dropped {len(held)}, after "
                  f"{held[len(held) // 2]:.1f} s (median), {held[-1]:.1f} s (max); each was reopened at once")
        elif stalled:
            print(f"  {stalled} stalled connections: the server dropped none while measured")
    print()
    if "cluster" in results:
        print(f"cluster: kexlint --cluster-state watch, each worker caching {args.cluster_pods} Pods "
              f"(90% controller-owned) and {args.cluster_services} NodePort Services from a fake apiserver\n")
    for n in levels:
        ratio = results["kexlint"][n]["rps"] / results["minimal"][n]["rps"]
        print(f"{n:>2} clients: kexlint throughput = {ratio:.0%} of minimal; kexlint p99 "
              f"{results['kexlint'][n]['p99']:.2f} ms vs {results['minimal'][n]['p99']:.2f} ms")
    top = max(levels)
    for stalled in stalled_levels:
        if stalled:
            p99 = results[f"kexlint+{stalled}"][top]["p99"]
            print(f"with {stalled} stalled connections, {top} clients: kexlint p99 {p99:.2f} ms "
                  f"({'met' if p99 <= 10 else 'NOT met'}: target <= 10 ms)")
    ok_p99 = results["kexlint"][top]["p99"] <= 10
    ok_ratio = results["kexlint"][top]["rps"] >= 0.6 * results["minimal"][top]["rps"]
    # In open loop both servers deliver the offered rate (unless overloaded): the ratio says nothing there.
    ratio_verdict = "n/a (open loop)" if args.rate else "met" if ok_ratio else "NOT met"
    print(f"\ntargets at {top} clients: p99 <= 10 ms: {'met' if ok_p99 else 'NOT met'}; "
          f"throughput >= 60% of minimal: {ratio_verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
