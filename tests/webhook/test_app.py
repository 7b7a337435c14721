"""The Flask layer in-process: routes, JSON errors, readiness, metrics and the review log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from reviews import admission_review, pod

pytest.importorskip("flask")

from kexlint.registry import builtin_rules  # noqa: E402
from kexlint.webhook.app import LOGGER, _ValidateFirst, create_app, set_certificate  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / ".kexlint.yaml"
    config.write_text("webhook:\n  max-request-bytes: 4096\n")
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


def test_ready_only_once_the_serve_layer_loaded_a_certificate(app, client):
    assert client.get("/healthz").json == {"status": "ok"}
    set_certificate(app, None)
    assert client.get("/readyz").status_code == 503
    set_certificate(app, "CN=kexlint")
    answer = client.get("/readyz")
    active = sum(1 for rule in builtin_rules() if rule.enabled)
    assert answer.status_code == 200 and answer.json == {"rules": active, "certificate": "CN=kexlint", "ready": True}


def test_validate_answers_json_and_logs_one_line(client):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger(LOGGER).addHandler(handler)
    try:
        body = admission_review("CREATE", pod(host_network=True))
        answer = client.post("/validate", json=body)
    finally:
        logging.getLogger(LOGGER).removeHandler(handler)
    assert answer.status_code == 200 and answer.content_type == "application/json"
    assert answer.json["response"]["allowed"] is False
    [record] = records
    fields = record.fields
    assert {k: fields[k] for k in ("uid", "kind", "namespace", "name", "operation", "verdict", "rules")} == {
        "uid": body["request"]["uid"], "kind": "Pod", "namespace": "default", "name": "web",
        "operation": "CREATE", "verdict": "deny", "rules": ["host-network"]}
    assert fields["duration_ms"] >= 0
    json.dumps(fields)


@pytest.mark.parametrize("data, status", [(b"nope", 400), (b"[1]", 400), (b"{}", 400), (b"x" * 5000, 413)])
def test_bad_bodies_get_json_errors(client, data, status):
    answer = client.post("/validate", data=data, content_type="application/json")
    assert answer.status_code == status and answer.json["code"] == status


def test_unknown_routes_and_methods_are_json(client):
    assert client.get("/validate").status_code == 405 and client.get("/validate").json["code"] == 405
    assert client.get("/nope").json["code"] == 404


def test_metrics_count_reviews_findings_and_latency(client):
    client.post("/validate", json=admission_review("CREATE", pod(host_network=True)))
    from kexlint.webhook import metrics

    # The exposition is served on its own port by `webhook serve`, not by the app (see test_server_e2e).
    assert client.get("/metrics").status_code == 404
    text = metrics.exposition().decode()
    assert 'kexlint_webhook_reviews_total{kind="Pod",operation="CREATE",verdict="deny"}' in text
    assert 'kexlint_webhook_findings_total{denied="true",level="error",rule="host-network"}' in text
    assert "kexlint_webhook_review_duration_seconds_bucket{le=\"0.005\"}" in text


def test_cli_and_webhook_commands_do_not_import_the_server_stack():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; import kexlint.cli, kexlint.webhook.commands, kexlint.webhook.admission; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'gunicorn', 'prometheus_client', "
            "'werkzeug'}))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env={"PYTHONPATH": str(root)},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _call(wsgi, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: list = []
    chunks = wsgi(environ, lambda status, headers, exc_info=None: seen.extend([status, headers]))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return seen[0], sorted(seen[1]), body


def _bodies() -> list[tuple[bytes, str | None]]:
    recorded = sorted((Path(__file__).parent.parent / "data" / "apiserver").glob("review-*.json"))
    assert len(recorded) > 40
    bodies = [(path.read_bytes(), None) for path in recorded]
    # Refusals: malformed, over the limit with a Content-Length, and chunked (no Content-Length).
    bodies += [(b"nope", None), (b"{}", None), (b'{"request": {"uid": "u1"}' + b" " * 5000 + b"}", None),
               (recorded[0].read_bytes(), "chunked")]
    return bodies


@pytest.mark.parametrize("index", range(len(_bodies())))
def test_the_fast_validate_path_answers_exactly_as_flasks_view(app, index):
    # POST /validate skips Flask's request machinery (app._ValidateFirst); the Flask view it bypasses
    # is the reference: status line, headers and body must be the same, byte for byte.
    from werkzeug.test import EnvironBuilder

    raw, encoding = _bodies()[index]
    headers = {"Transfer-Encoding": "chunked"} if encoding else {}

    def environ() -> dict:
        env = EnvironBuilder(path="/validate", method="POST", data=raw, content_type="application/json",
                             headers=headers).get_environ()
        if encoding:  # what gunicorn sends for a chunked body: no length, a terminated input stream
            env.pop("CONTENT_LENGTH", None)
            env["wsgi.input_terminated"] = True
        return env

    assert isinstance(app.wsgi_app, _ValidateFirst)
    fast = _call(app.wsgi_app, environ())
    flask = _call(app.wsgi_app.flask_app, environ())
    assert fast[0] == flask[0] and fast[1] == flask[1]
    # Only the review's duration differs between two runs (audit annotations carry none), so the
    # bodies must be equal as they are.
    assert fast[2] == flask[2]
    assert json.loads(fast[2]).get("kind") in ("AdmissionReview", None)


def test_other_methods_and_paths_still_go_through_flask(app):
    from werkzeug.test import EnvironBuilder

    status, headers, body = _call(app.wsgi_app, EnvironBuilder(path="/validate", method="PUT").get_environ())
    assert status.startswith("405") and json.loads(body)["code"] == 405
    status, headers, body = _call(app.wsgi_app, EnvironBuilder(path="/validate/x", method="POST").get_environ())
    assert status.startswith("404") and json.loads(body)["code"] == 404
