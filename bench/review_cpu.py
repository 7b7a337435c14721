"""CPU time per review, in-process (not a test): what the webhook spends on one AdmissionReview.

Load on a shared machine stretches wall-clock latency but hardly CPU time, so this is the figure to
compare before and after a change while others work. The review mix is bench/webhook.py's (Pods,
Deployments, Services; allowed, warned and denied; CREATE and UPDATE), measured with
time.process_time over thousands of reviews:

- the parts of a review on their own: JSON decode, the engine (check_object, twice on UPDATE),
  admission.handle as a whole (decode + engine + admission policy: suppression, UPDATE comparison,
  the answer), JSON encode of the answer, the JSON log line and the metrics;
- the whole /validate request as gunicorn makes it, a WSGI call with a prepared environ (Flask and
  Werkzeug included; TLS and gunicorn's HTTP parsing are not), and through the Flask test client,
  which adds its own cost of building each request and response.

Metrics are in prometheus_client's multiprocess mode (as under `kexlint webhook serve`), and the log
line goes to a file (as a log shipper reads it), so both cost what they cost when serving.

    python bench/review_cpu.py [--reviews 12000] [--profile engine|handle|wsgi|flask|app]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
# Before prometheus_client is imported (kexlint.webhook.metrics): the serving configuration.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-review-cpu-"))

from kexlint.webhook import admission, metrics  # noqa: E402
from kexlint.webhook import app as webhook_app  # noqa: E402
from webhook import bodies  # noqa: E402 - bench/webhook.py's review mix


def sample(work: Callable[[], int]) -> float:
    """CPU seconds per review of one round of `work` (which returns how many reviews it did)."""
    start = time.process_time()
    count = work()
    return (time.process_time() - start) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=12_000, help="reviews per part")
    parser.add_argument("--profile", choices=["engine", "handle", "wsgi", "flask", "app"],
                        help="print a cProfile of one part instead of the table")
    args = parser.parse_args()

    raws = bodies()
    rounds = max(1, args.reviews // len(raws))
    count = len(raws)
    flask_app = webhook_app.create_app(None)
    state = flask_app.extensions[webhook_app.EXTENSION]
    engine, settings = state.engine, state.settings
    log = logging.getLogger(webhook_app.LOGGER)
    sink = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
    for handler in log.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    parsed = [json.loads(raw) for raw in raws]
    objects = []  # what admission.handle hands the engine: the object, and the old one on UPDATE
    for body in parsed:
        request = body["request"]
        for key in ("object", "oldObject") if request["operation"] == "UPDATE" else ("object",):
            objects.append(admission._as_object(request[key], request["kind"], request))
    outcomes = [admission.handle(raw, engine, settings) for raw in raws]
    client = flask_app.test_client()

    def decode() -> int:
        for raw in raws:
            json.loads(raw)
        return count

    def check() -> int:
        for obj in objects:
            engine.check_object(obj)
        return count  # per review: UPDATEs check two objects

    def handle() -> int:
        for raw in raws:
            admission.handle(raw, engine, settings)
        return count

    def encode() -> int:
        for outcome in outcomes:
            json.dumps(outcome.body, separators=(",", ":"))
        return count

    def log_line() -> int:
        for outcome in outcomes:
            record = {**outcome.log_record(), "duration_ms": round(0.000123 * 1000, 3)}
            log.info("review", extra={"fields": record})
        return count

    def record_metrics() -> int:
        for outcome in outcomes:
            metrics.record(outcome, 0.000123)
        return count

    def environ(raw: bytes) -> dict[str, Any]:
        # What gunicorn hands the app for a request (the fields Flask and Werkzeug read).
        return {"REQUEST_METHOD": "POST", "PATH_INFO": "/validate", "SCRIPT_NAME": "", "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8443", "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(raw)), "HTTP_HOST": "localhost:8443", "wsgi.url_scheme": "https",
                "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
                "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        assert status.startswith("200"), status

    def through_wsgi() -> int:
        for raw in raws:
            answer = flask_app(environ(raw), start_response)
            b"".join(answer)
            if hasattr(answer, "close"):  # as a WSGI server must
                answer.close()
        return count

    def through_flask_view() -> int:
        # The same request through Flask's routing and view: what /validate cost before the fast path.
        for raw in raws:
            answer = flask_app.wsgi_app.flask_app(environ(raw), start_response)
            b"".join(answer)
            answer.close()
        return count

    def through_app() -> int:
        for raw in raws:
            response = client.post("/validate", data=raw, content_type="application/json")
            assert response.status_code == 200
        return count

    if args.profile:
        work = {"engine": check, "handle": handle, "wsgi": through_wsgi, "app": through_app,
                "flask": through_flask_view}[args.profile]
        work()  # warm: lazily compiled conditions
        profile = cProfile.Profile()
        profile.runcall(lambda: [work() for _ in range(rounds)])
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(os.environ.get("SORT", "tottime"))
        stats.print_stats(int(os.environ.get("TOP", "30")))
        print(out.getvalue())
        return 0

    for work in (check, handle, through_wsgi, through_flask_view, through_app):
        work()  # warm-up
    parts: list[tuple[str, Callable[[], int]]] = [
        ("JSON decode", decode), ("engine (check_object)", check), ("admission.handle", handle),
        ("JSON encode of the answer", encode), ("log line", log_line), ("metrics", record_metrics),
        ("/validate as a WSGI call", through_wsgi), ("/validate through Flask's view", through_flask_view),
        ("/validate via Flask test client", through_app)]
    # Round-robin, one round (the 240 reviews of the mix) of each part at a time, and the median
    # round: a burst of other work on the machine then disturbs a few rounds of every part alike,
    # instead of all of one part.
    samples: dict[str, list[float]] = {name: [] for name, _ in parts}
    for _ in range(rounds):
        for name, work in parts:
            samples[name].append(sample(work))
    results = {name: statistics.median(values) for name, values in samples.items()}
    policy = results["admission.handle"] - results["JSON decode"] - results["engine (check_object)"]
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(f"CPU time per review (time.process_time; median of {rounds} rounds of the {count} reviews of "
          f"bench/webhook.py's mix; load average {load}; Python {sys.version.split()[0]})\n")
    print(f"{'part':<36} {'µs/review':>10}")
    for name in ("JSON decode", "engine (check_object)"):
        print(f"{name:<36} {results[name] * 1e6:>10.1f}")
    print(f"{'admission policy (handle - above)':<36} {policy * 1e6:>10.1f}")
    print(f"{'= admission.handle':<36} {results['admission.handle'] * 1e6:>10.1f}")
    for name in ("JSON encode of the answer", "log line", "metrics"):
        print(f"{name:<36} {results[name] * 1e6:>10.1f}")
    wsgi_total = results["/validate as a WSGI call"]
    rest = wsgi_total - sum(results[n] for n in ("admission.handle", "JSON encode of the answer",
                                                 "log line", "metrics"))
    print(f"{'WSGI handling (the rest)':<36} {rest * 1e6:>10.1f}")
    print(f"{'= /validate as a WSGI call':<36} {wsgi_total * 1e6:>10.1f}")
    view = results["/validate through Flask's view"]
    print(f"{'/validate through Flask view':<36} {view * 1e6:>10.1f}  (without the fast path: "
          f"{(view - wsgi_total) * 1e6:+.0f})")
    app_total = results["/validate via Flask test client"]
    print(f"{'/validate via Flask test client':<36} {app_total * 1e6:>10.1f}  "
          f"(the test client's own request building: {(app_total - wsgi_total) * 1e6:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
