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
    assert result["seconds"] < 15, result
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
