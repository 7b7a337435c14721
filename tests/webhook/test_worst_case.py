"""Hostile reviews under the 3 MiB body limit are answered in bounded time and memory.

Seen: a 2.9 MiB Pod with 1,000,000 ports made one finding per port: 827 MiB and 8.6 s in one worker.
bench/webhook_worst.py builds the worst bodies; here with generous bounds for a busy 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serving import ENV, ROOT
from test_admission import ENGINE, SETTINGS

from kexlint.webhook.admission import handle


@pytest.mark.parametrize("case", ["ports", "update"])
def test_worst_reviews_in_bounded_time_and_memory(case):
    out = subprocess.run([sys.executable, "bench/webhook_worst.py", "--json", "--case", case], env=ENV, cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout)
    assert result["bytes"] <= 3 * 2**20 and result["status"] == 200
    assert result["verdict"] == "deny"  # the update case adds one host port past the cap: still denied
    # The rules stop at the review deadline (2 s); decoding 3 MiB of JSON is the rest.
    assert result["seconds"] < 4.5, result
    assert result["peak_rss_mib"] < 300, result
    assert result["answer_bytes"] < 64 * 1024, result


def test_findings_per_rule_are_capped_and_say_how_many_more():
    ports = [{"containerPort": 80 + i, "hostPort": 1000 + i} for i in range(1000)]
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
        "namespace": "default", "userInfo": {"username": "admin"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "image": "x", "ports": ports}]}}}}
    outcome = handle(json.dumps(body).encode(), ENGINE, SETTINGS)
    host_port = [f for f in outcome.findings if f.rule == "host-port"]
    assert len(host_port) == 100
    assert host_port[-1].message.endswith("(... and 900 more)")


@pytest.mark.parametrize("failure_mode", ["allow", "deny"])
def test_a_review_past_its_deadline_is_denied_whatever_the_failure_mode(failure_mode):
    """Seen: the 1,000,000-port Pod took 8.7-10.4 s on a busy machine, past the webhook's 5 s timeout,
    so failurePolicy decided. A crafted object must not buy its way in with failure-mode allow either."""
    from kexlint.config import parse_config
    from kexlint.engine import Engine
    from kexlint.registry import builtin_rules, rules_by_id
    from kexlint.webhook.admission import Settings

    config = parse_config({"webhook": {"review-deadline-ms": 10, "failure-mode": failure_mode}}, "k.yaml",
                          set(rules_by_id()))
    engine, settings = Engine(builtin_rules(), config), Settings.from_config(config.webhook)
    ports = [{"containerPort": 1 + i % 60000, "hostPort": 1 + i % 60000} for i in range(50_000)]
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
        "namespace": "default", "userInfo": {"username": "mallory"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
                   "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x", "ports": ports}]}}}}
    outcome = handle(json.dumps(body).encode(), engine, settings)
    response = outcome.body["response"]
    assert response["allowed"] is False and response["status"]["code"] == 413
    assert response["status"]["message"].startswith("kexlint: Pod default/big is too large to review within 10 ms")
    # An ordinary Pod is far inside the same deadline.
    body["request"]["object"]["spec"]["containers"][0]["ports"] = ports[:10]
    assert handle(json.dumps(body).encode(), engine, settings).body["response"]["status"]["code"] == 403
