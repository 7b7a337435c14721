"""`kexlint webhook serve` (real gunicorn, TLS, 2 workers) with cluster-state watch against the fake apiserver.

The cache threads must start in each worker after gunicorn forks (threads do not survive a fork): every
worker has to turn ready and find the conflict."""

from __future__ import annotations

import sys
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
        fake_api.wait_for_watch(2 * 9)  # 9 kinds per worker
        for _ in range(12):  # new connections: both workers answer some
            response = server.review(daemonset_review())
            assert response["allowed"] is True
            assert any("DaemonSet monitoring/node-exporter (in the cluster)" in w for w in response["warnings"])
        status, body, _ = server.call("GET", "/readyz")
        assert status == 200 and body["clusterState"] == "current"
    finally:
        assert server.stop() == 0
