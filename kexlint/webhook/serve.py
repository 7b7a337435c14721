"""`kexlint webhook serve`: the Flask app under gunicorn, HTTPS only, with certificate hot reload.

Certificate rotation: cert-manager rewrites the Secret and the kubelet swaps the mounted files (a
symlink flip), `kexlint webhook certs` replaces them with os.replace. Gunicorn (>= 21) asks the
`ssl_context` hook for a context for every connection it accepts; ours returns a cached SSLContext and
builds a new one when the files' identity (inode, mtime, size) changed. New handshakes get the new
chain at once; established connections keep theirs; nothing restarts, so no request is dropped.
If the new pair does not load (the certificate was replaced but not yet its key) the old context
stays in use and the next connection tries again.

With --client-ca, /validate requires a client certificate signed by that CA (the apiserver presents
one configured in its AdmissionConfiguration): a certificate from elsewhere fails the handshake, a
connection without one gets 403 except on /healthz and /readyz, which the kubelet probes without
one. The CA file is watched and reloaded like the pair.
Only AEAD cipher suites are offered (TLS 1.3's, and ECDHE with AES-GCM or ChaCha20 for TLS 1.2): CBC
suites are out, for their padding-oracle history.

Metrics: /metrics is served on its own plain-HTTP port (--metrics-port, default 9090) by the
gunicorn master, which sums every worker's values; the review port serves only the webhook, so a
scrape never competes with reviews and Prometheus needs no TLS trust for it.

Connections and shutdown: see worker.py (timeouts for stalled clients, closing idle keep-alive
connections at SIGTERM). In-flight requests get `--graceful-timeout` seconds to finish.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import logging
import os
import shutil
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8443
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
DEFAULT_METRICS_PORT = 9090
# Below the Deployment's terminationGracePeriodSeconds (30): the kubelet's SIGKILL must not cut a
# review short. A review takes milliseconds; the margin is for the slowest request the timeouts allow.
DEFAULT_GRACEFUL_TIMEOUT = 25
# TLS 1.2 suites: forward secret and AEAD only. TLS 1.3 suites are all AEAD and not affected by this.
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"
# The apiserver keeps idle connections to webhooks open for up to 90 s (Go's IdleConnTimeout). If we
# closed them sooner, a request could race our close and fail: POSTs are not retried.
KEEPALIVE_SECONDS = 100
# How long a new worker waits for its cluster cache's first list before accepting: under gunicorn's
# heartbeat timeout (30 s below), which would kill a worker that waits longer without notifying.
CLUSTER_STATE_WAIT_SECONDS = 20
WORKER_CONNECTIONS = 4096

log = logging.getLogger("kexlint.webhook")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # not imported from .metrics: that would import prometheus_client

FileId = tuple[int, int, int, int]


def _file_id(path: str) -> FileId:
    stat = os.stat(path)  # follows symlinks: a kubelet symlink swap changes the inode we see
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size


class CertificateReloader:
    """The serving SSLContext, rebuilt when the certificate or key files change."""

    def __init__(self, cert: str, key: str, on_change: Callable[[str], None] | None = None,
                 client_ca: str | None = None) -> None:
        self.cert = cert
        self.key = key
        # Every file the context is built from: a rotated client CA is picked up like a rotated pair.
        self.files = tuple(path for path in (cert, key, client_ca) if path)
        self.on_change = on_change
        self.description: str | None = None
        self._context: ssl.SSLContext | None = None
        self._loaded: tuple[FileId, ...] | None = None
        self._failed: tuple[FileId, ...] | None = None
        self._lock = threading.Lock()

    def context(self, factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        """The current context; `factory` builds one from the files (gunicorn's default factory)."""
        try:
            ids = tuple(_file_id(path) for path in self.files)
        except OSError:
            ids = None  # mid-swap or deleted: keep serving what we have
        if self._context is not None and (ids is None or ids == self._loaded or ids == self._failed):
            return self._context
        with self._lock:  # gthread handshakes run on several threads
            if self._context is None or (ids is not None and ids not in (self._loaded, self._failed)):
                self._reload(factory, ids)
        assert self._context is not None
        return self._context

    def _reload(self, factory: Callable[[], ssl.SSLContext], ids: tuple[FileId, ...] | None) -> None:
        from . import metrics

        try:
            context = factory()
        except (OSError, ssl.SSLError, ValueError) as err:
            metrics.CERT_RELOADS.labels("failure").inc()
            if self._context is None:
                raise
            self._failed = ids
            log.warning("certificate reload failed; still serving the previous one",
                        extra={"fields": {"cert": self.cert, "key": self.key, "error": str(err)}})
            return
        first = self._context is None
        self._context, self._loaded, self._failed = context, ids, None
        self.description, not_after = describe_certificate(self.cert)
        metrics.CERT_RELOADS.labels("success").inc()
        if not_after is not None:
            metrics.CERT_EXPIRY.set(not_after.timestamp())
        log.info("certificate loaded" if first else "certificate reloaded",
                 extra={"fields": {"cert": self.cert, "certificate": self.description}})
        if self.on_change is not None:
            self.on_change(self.description)


def describe_certificate(path: str) -> tuple[str, dt.datetime | None]:
    """Subject and expiry of the first certificate in a PEM file, for /readyz, logs and metrics."""
    try:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
        not_after = cert.not_valid_after_utc
        return f"{cert.subject.rfc4514_string()} serial {cert.serial_number:x} until {not_after:%Y-%m-%dT%H:%M:%SZ}", \
            not_after
    except Exception as err:  # noqa: BLE001 - the context loaded, the description is best effort
        return f"{path} (unreadable: {type(err).__name__})", None


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    """Gunicorn settings for the serve arguments; the bench uses the same for a fair comparison."""
    return {
        "bind": [f"{args.host}:{args.port}" if ":" not in args.host else f"[{args.host}]:{args.port}"],
        "workers": args.workers,
        "worker_class": "kexlint.webhook.worker.Worker",  # gthread, closing its listener on SIGTERM
        "threads": args.threads,
        "keepalive": KEEPALIVE_SECONDS,
        # Stalled sockets are cheap now (the loop holds them, not a thread) and dropped within seconds;
        # a worker stops accepting at this many, so keep it well above what a tenant can hold open.
        "worker_connections": WORKER_CONNECTIONS,
        "graceful_timeout": args.graceful_timeout,
        "timeout": 30,
        "certfile": args.cert,
        "keyfile": args.key,
        "ciphers": CIPHERS,
        "ca_certs": getattr(args, "client_ca", None),
        # OPTIONAL, not REQUIRED: a certificate that is presented must verify, or the handshake fails;
        # one that is not is refused by the app on /validate only, so the kubelet's probes (which
        # present none) still reach /healthz and /readyz (worker.client_verified, app.py).
        "cert_reqs": ssl.CERT_OPTIONAL if getattr(args, "client_ca", None) else ssl.CERT_NONE,
        "accesslog": None,  # the app logs one JSON line per review instead
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "kexlint-webhook",
        "logconfig_dict": _json_logging(),
        # gunicorn 25+ opens a control socket under $HOME: nothing to control here, and the pod's
        # root filesystem is read-only.
        "control_socket_disable": True,
    }


def _json_logging() -> dict[str, Any]:
    # Gunicorn's own messages (boot, worker exits, SIGTERM) as JSON lines like the review log.
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "kexlint.webhook.app.JsonFormatter"}},
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
        "root": {"level": "INFO", "handlers": ["error_console"]},
    }


class _PerProcess:
    pid: int | None = None
    value: CertificateReloader | None = None
    metrics: Any = None  # the master's metrics HTTP server


def start_metrics_server(host: str, port: int) -> Any:
    """Serve the summed metrics of every worker over plain HTTP from this process (a daemon thread).

    prometheus_client's own server (a threading WSGI server): a slow scraper ties up only its own
    thread, never a review.
    """
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client import multiprocess as _multiprocess

    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry)
    started = start_http_server(port, addr=host, registry=registry)
    return started[0] if isinstance(started, tuple) else started


def build_server(app_factory: Callable[[], Any], options: dict[str, Any],
                 reloader_for: Callable[[], CertificateReloader], metrics_server: Any = None) -> Any:
    """A gunicorn application serving app_factory() with hot-reloaded TLS and worker hooks.

    `metrics_server`: the master's /metrics server (start_metrics_server), closed in each worker.
    """
    from gunicorn.app.base import BaseApplication

    holder = _PerProcess()
    holder.metrics = metrics_server

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("ssl_context", _ssl_context)
            self.cfg.set("post_worker_init", _post_worker_init)
            self.cfg.set("child_exit", _child_exit)
            self.cfg.set("post_fork", _post_fork)

        def load(self) -> Any:
            return app_factory()

    def reloader() -> CertificateReloader:
        # One per worker process, made after the fork: an SSLContext is not shared across processes.
        if holder.pid != os.getpid():
            holder.pid, holder.value = os.getpid(), reloader_for()
        assert holder.value is not None
        return holder.value

    def _ssl_context(conf: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return reloader().context(default_ssl_context_factory)

    def _post_worker_init(worker: Any) -> None:
        from gunicorn import sock

        from .app import set_certificate, wait_for_cluster_state

        # Within the arbiter's heartbeat timeout (the worker cannot notify while it waits here).
        if not wait_for_cluster_state(worker.wsgi, CLUSTER_STATE_WAIT_SECONDS):
            worker.log.warning("the cluster state is not listed yet after %ss; serving without it until it is",
                               CLUSTER_STATE_WAIT_SECONDS)
        current = reloader()
        current.on_change = lambda description: set_certificate(worker.wsgi, description)
        sock.ssl_context(worker.cfg)  # load now, so /readyz turns ready before the first handshake
        set_certificate(worker.wsgi, current.description)

    def _post_fork(server: Any, worker: Any) -> None:
        # The worker inherited the master's metrics listener; only the master serves it.
        if holder.metrics is not None:
            holder.metrics.socket.close()

    def _child_exit(server: Any, worker: Any) -> None:
        from . import metrics

        metrics.worker_exited(worker.pid)

    return Server()


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``serve`` on the ``webhook`` sub-command group."""
    parser = subparsers.add_parser(
        "serve", help="serve the validating admission webhook over HTTPS",
        description="Serve POST /validate (AdmissionReview v1/v1beta1), /healthz and /readyz over HTTPS with "
                    "gunicorn, and /metrics over plain HTTP on --metrics-port. The certificate, key and "
                    "client CA are reloaded when their files change.")
    parser.add_argument("--cert", required=True, metavar="FILE", help="PEM serving certificate (chain)")
    parser.add_argument("--key", required=True, metavar="FILE", help="PEM private key")
    parser.add_argument("--config", metavar="FILE", help=".kexlint.yaml (rules and the webhook: section)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="worker processes (default %(default)s)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="threads per worker (default %(default)s)")
    parser.add_argument("--client-ca", metavar="FILE",
                        help="PEM CA: require a client certificate signed by it (mutual TLS with the apiserver)")
    parser.add_argument("--metrics-port", type=int, default=DEFAULT_METRICS_PORT, metavar="PORT",
                        help="plain-HTTP port for Prometheus' /metrics, on --host (default %(default)s; 0: off)")
    parser.add_argument("--graceful-timeout", type=int, default=DEFAULT_GRACEFUL_TIMEOUT, metavar="SECONDS",
                        help="after SIGTERM, how long in-flight requests may take (default %(default)s)")
    parser.add_argument("--cluster-state", choices=("off", "watch"), default=None,
                        help="watch: each worker caches what runs in the cluster (list + watch) and checks "
                             "conflicts against it; overrides webhook.cluster-state of the config")
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="for --cluster-state watch outside a cluster (default: the pod's service account)")
    parser.set_defaults(func=cmd_serve)
    return parser


def _metrics_dir() -> Callable[[], None]:
    """Per-run directory for the workers' metric files; returns the cleanup."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        # Files of a previous run would be summed into ours: the client's docs say wipe them.
        for path in glob.glob(os.path.join(existing, "*.db")):
            os.unlink(path)
        return lambda: None
    folder = tempfile.mkdtemp(prefix="kexlint-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    return lambda: shutil.rmtree(folder, ignore_errors=True)


def cmd_serve(args: argparse.Namespace) -> int:
    from kexlint.config import ConfigError, load_config
    from kexlint.registry import rules_by_id

    # Fail fast, with a message, on what would otherwise make every worker die at boot.
    try:
        config = load_config(Path(args.config) if args.config else None, set(rules_by_id()))
    except ConfigError as err:
        print(f"kexlint: error: {err}", file=sys.stderr)
        return 2
    if (args.cluster_state or config.webhook.get("cluster-state")) == "watch":
        from kexlint.cluster import ClusterError, connect

        try:
            connect(args.kubeconfig).close()  # a missing extra or kubeconfig, not an unreachable API
        except ClusterError as err:
            print(f"kexlint: error: --cluster-state watch: {err}", file=sys.stderr)
            return 2
    try:
        probe = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        probe.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as err:
        print(f"kexlint: error: cannot load --cert {args.cert} / --key {args.key}: {err}", file=sys.stderr)
        return 2
    if args.client_ca:
        try:
            probe.load_verify_locations(cafile=args.client_ca)
        except (OSError, ssl.SSLError) as err:
            print(f"kexlint: error: cannot load --client-ca {args.client_ca}: {err}", file=sys.stderr)
            return 2
    if not 0 <= args.metrics_port <= 65535 or (args.metrics_port and args.metrics_port == args.port):
        print(f"kexlint: error: --metrics-port {args.metrics_port}: want 0 (off) or a port other than --port",
              file=sys.stderr)
        return 2

    cleanup = _metrics_dir()  # before anything imports prometheus_client
    try:
        from .app import configure_logging, create_app

        configure_logging()
        metrics_server = None
        if args.metrics_port:
            try:
                metrics_server = start_metrics_server(args.host, args.metrics_port)
            except OSError as err:
                print(f"kexlint: error: cannot serve metrics on {args.host}:{args.metrics_port}: {err}",
                      file=sys.stderr)
                return 2
        server = build_server(lambda: create_app(args.config, args.cluster_state, args.kubeconfig),
                              gunicorn_options(args),
                              lambda: CertificateReloader(args.cert, args.key, client_ca=args.client_ca),
                              metrics_server)
        server.run()
    finally:
        cleanup()
    return 0
