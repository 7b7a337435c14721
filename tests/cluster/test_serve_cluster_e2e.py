"""`kexlint webhook serve` (real gunicorn, TLS, 2 workers) with cluster-state watch against the fake apiserver.

The cache threads must start in each worker after gunicorn forks (threads do not survive a fork): every
worker has to turn ready and find the conflict."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "webhook"))

from serving import start_server  # noqa: E402
from test_webhook_cluster import daemonset_review, node_exporter  # noqa: E402

from kexlint.cluster import KINDS  # noqa: E402


def test_every_worker_watches_and_reports_the_conflict(fake_api, api_certs, tmp_path):
    fake_api.put(KINDS["DaemonSet"], node_exporter())
    server = start_server(tmp_path, api_certs / "tls.crt", api_certs / "tls.key", api_certs / "ca.crt",
                          config="rules:\n  host-port: off\nwebhook:\n  cluster-state: watch\n",
                          env={"KUBECONFIG": str(fake_api.kubeconfig)}, workers=2, threads=2)
    try:
        # start_server returns once one worker is ready; each worker waits for its cache's first list
        # before it accepts, so whichever worker a new connection reaches has it.
        deadline = time.monotonic() + 30
        ready_in_a_row = 0
        while ready_in_a_row < 10:
            assert time.monotonic() < deadline, "not every worker became ready"
            ready_in_a_row = ready_in_a_row + 1 if server.call("GET", "/readyz")[0] == 200 else 0
        for _ in range(12):
            response = server.review(daemonset_review())
            assert response["allowed"] is True
            assert any("DaemonSet monitoring/node-exporter (in the cluster)" in w for w in response["warnings"]), \
                response["warnings"]
        status, body, _ = server.call("GET", "/readyz")
        assert status == 200 and body["clusterState"] == "current"
    finally:
        assert server.stop() == 0
