"""The Flask app: /validate, /healthz, /readyz. HTTP adaptation only; decisions live in admission.

/metrics is not here: `kexlint webhook serve` serves it on its own plain-HTTP port (serve.py).

One JSON log line per review (uid, kind, namespace/name, operation, verdict, rules, duration_ms) so the
webhook's decisions can be searched next to the apiserver's audit log, which carries the same uid.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_content_length, get_input_stream

from kexlint.config import load_config
from kexlint.engine import Engine
from kexlint.registry import builtin_rules, rules_by_id

from . import metrics
from .admission import REFUSED_PREFIX_BYTES, Outcome, Settings, handle, refused

LOGGER = "kexlint.webhook"
EXTENSION = "kexlint"
# Test hook: every /validate answer waits this long, so tests can hold a request in flight during a
# SIGTERM. Read once at startup and only when set; never set it in a deployment.
TEST_DELAY_ENV = "KEXLINT_TEST_DELAY_MS"
# Made once: json.dumps with any non-default argument builds a new encoder on every call, twice per
# review (the answer and the log line). Encoders keep no state between calls, so threads share these.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_LOG_LINE = json.JSONEncoder(separators=(",", ":"), default=str)


@dataclass
class State:
    """What /readyz reports; the serve layer sets `certificate` once the TLS context is loaded."""

    engine: Engine
    settings: Settings
    rules: int
    certificate: str | None = None  # description of the loaded serving certificate
    delay: float = 0.0
    live: Any = None  # kexlint.cluster.live.LiveState with webhook.cluster-state: watch

    @property
    def ready(self) -> bool:
        # With a cluster cache, not before its first full list: until then conflicts go unchecked.
        return self.rules > 0 and self.certificate is not None and (self.live is None or self.live.ready)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                                 "level": record.levelname.lower(), "msg": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _LOG_LINE.encode(entry)


def configure_logging(level: int = logging.INFO) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    if not any(getattr(h, "_kexlint", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._kexlint = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    JsonFormatter.converter = time.gmtime
    logger.setLevel(level)
    logger.propagate = False
    return logger


def create_app(config_path: str | os.PathLike[str] | None = None, cluster_state: str | None = None,
               kubeconfig: str | None = None, cache_options: dict[str, Any] | None = None) -> Flask:
    """The webhook app for a .kexlint.yaml (None: built-in defaults). Raises ConfigError on a bad config.

    ``cluster_state`` ("off"/"watch") overrides the config's ``webhook.cluster-state``; with "watch"
    this process starts its watch cache (gunicorn calls this in each worker, after the fork)."""
    config = load_config(Path(config_path) if config_path else None, set(rules_by_id()))
    engine = Engine(builtin_rules(), config)
    settings = Settings.from_config(config.webhook)
    state = State(engine, settings, rules=len(engine.active))
    delay = os.environ.get(TEST_DELAY_ENV)
    if delay:
        state.delay = int(delay) / 1000
    log = configure_logging()
    if (cluster_state or settings.cluster_state) == "watch":
        from kexlint.cluster.live import LiveState, connect_for

        def changed(cache: Any) -> None:
            stats = cache.stats()
            metrics.cluster_state(bool(cache.stale), stats.objects, stats.facts)

        state.live = LiveState(engine, conflict_level=settings.cluster_conflict_level).watch(
            connect_for(kubeconfig, None), logger=log.getChild("cluster"), on_change=changed,
            **(cache_options or {}))
        metrics.cluster_state(True, 0, 0)

    app = Flask("kexlint.webhook")
    app.extensions[EXTENSION] = state

    def answer(environ: dict[str, Any]) -> tuple[int, bytes]:
        """POST /validate: (status, JSON body), read straight from the WSGI environ."""
        if _client_verified() is False:
            # --client-ca: only a client with a certificate from that CA (the apiserver) may ask.
            return 403, _encoded({"error": "a client certificate signed by the webhook's client CA is required",
                                  "code": 403})
        start = time.perf_counter()
        outcome = _review(state, environ)
        if state.delay:
            time.sleep(state.delay)
        seconds = time.perf_counter() - start
        metrics.record(outcome, seconds)
        record = {**outcome.log_record(), "duration_ms": round(seconds * 1000, 3)}
        log.info("review", extra={"fields": record})
        return outcome.status, _encoded(outcome.body)

    @app.post("/validate")
    def validate() -> Response:
        # Reached only when the app is called without the wrapper below; same answer either way.
        status, body = answer(request.environ)
        return Response(body, status, content_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        body = {"rules": state.rules, "certificate": state.certificate, "ready": state.ready}
        if state.live is not None:
            body["clusterState"] = state.live.stale or "current"
        return _json(body, 200 if state.ready else 503)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        # 404/405 and friends as JSON like every other answer, not Werkzeug's HTML page.
        return _json({"error": err.description or err.name, "code": err.code}, err.code or 500)

    @app.errorhandler(Exception)
    def crash(err: Exception) -> Response:  # pragma: no cover - admission.handle never raises
        log.error("unhandled error", exc_info=err, extra={"fields": {"path": request.path}})
        return _json({"error": "internal error", "code": 500}, 500)

    app.wsgi_app = _ValidateFirst(app.wsgi_app, answer, log)  # type: ignore[method-assign]
    return app


class _ValidateFirst:
    """WSGI middleware: POST /validate is answered without Flask's request machinery.

    Flask and Werkzeug's own handling (request context, URL matching, Request and Response objects)
    cost about as much CPU per review as kexlint's rules and policy together (bench/review_cpu.py:
    ~170 of ~300 µs), and the webhook's p99 at 1000 reviews/s on 2 cores depends on CPU per review.
    Every other path and method (/healthz, /readyz, 404, 405) still goes through Flask.
    """

    def __init__(self, flask_app: Any, answer: Any, log: logging.Logger) -> None:
        self.flask_app = flask_app
        self.answer = answer
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/validate" or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_app(environ, start_response)
        try:
            status, body = self.answer(environ)
        except Exception as err:  # pragma: no cover - admission.handle never raises
            self.log.error("unhandled error", exc_info=err, extra={"fields": {"path": "/validate"}})
            status, body = 500, _encoded({"error": "internal error", "code": 500})
        # The status line and headers exactly as Flask's Response would give them.
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _client_verified() -> bool | None:
    worker = sys.modules.get("kexlint.webhook.worker")  # loaded only under `webhook serve`
    return worker.client_verified() if worker is not None else None


def wait_for_cluster_state(app: Flask, timeout: float) -> bool:
    """Block until the app's cluster cache has its first full list, at most `timeout` seconds.

    Called before a worker accepts connections: workers share the listening socket, so a worker whose
    cache is still listing would otherwise answer "conflicts were not checked" next to a ready one.
    Returns False when the wait ran out; the worker then serves anyway (conflicts unchecked, said so).
    """
    state = app.extensions.get(EXTENSION)
    if state is None or state.live is None or state.live.cache is None:
        return True
    return state.live.cache.wait_ready(timeout)


def set_certificate(app: Flask, description: str | None) -> None:
    """Called by the serve layer when a serving certificate is (or is no longer) loaded."""
    state = app.extensions.get(EXTENSION)
    if state is not None:  # serve's machinery also runs other apps (the benchmark's baseline)
        state.certificate = description


def _review(state: State, environ: dict[str, Any]) -> Outcome:
    limit = state.settings.max_request_bytes
    # Werkzeug's own readers, as Flask's request.content_length and request.stream use them: the stream
    # is limited to Content-Length, or is the server's own for a chunked body (wsgi.input_terminated).
    length = get_content_length(environ)
    stream = get_input_stream(environ)
    if length is not None and length > limit:
        # Only its start is read, for the uid: the worker has buffered at least that much on its event
        # loop (worker.py), so a client that stalls mid-body never holds this thread.
        prefix = stream.read(min(length, REFUSED_PREFIX_BYTES))
        return refused(prefix, 413, f"request body is {length} bytes, over the limit of {limit}", state.settings)
    raw = stream.read(limit + 1)  # chunked bodies have no Content-Length
    return handle(raw, state.engine, state.settings, state.live)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(_encoded(body), status, content_type="application/json")


def _encoded(body: dict[str, Any]) -> bytes:
    """Every answer's JSON: compact, as the apiserver reads it."""
    return _COMPACT.encode(body).encode()
