"""`kexlint --cluster` and `--context`: cross-object rules against what already runs, through the
CLI as users call it, with the fake apiserver (real TLS, CA-verified) standing in for the cluster."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import yaml

from kexlint.cluster import KINDS
from kexlint.registry import builtin_rules

DS, POD, RS, SVC = KINDS["DaemonSet"], KINDS["Pod"], KINDS["ReplicaSet"], KINDS["Service"]


def daemonset(name: str, port: int = 9100, namespace: str = "monitoring") -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i:1",
                                         "ports": [{"containerPort": port, "hostPort": port}]}]}}}}


def write(tmp_path: Path, name: str, *objects: dict) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(objects))
    return str(path)


def conflicts(out: str) -> list[dict]:
    return [f for f in json.loads(out)["findings"] if f["rule"].endswith("-conflict")]


def lint(run_cli, *argv: str) -> tuple[int, str, str]:
    return run_cli("--no-config", "--disable", "host-port", "--format", "json", *argv)


def test_a_new_daemonset_conflicts_with_the_one_in_the_cluster(fake_api, run_cli, tmp_path):
    fake_api.put(DS, daemonset("node-exporter"))
    new = write(tmp_path, "new.yaml", daemonset("new-exporter"))
    code, out, err = lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1, err
    [finding] = conflicts(out)
    assert finding["object"]["name"] == "new-exporter" and finding["file"] == new
    assert "DaemonSet monitoring/node-exporter (in the cluster)" in finding["message"]
    assert finding["related"] == ["in the cluster"]
    # Without --cluster the same file is clean: the conflict came from the cluster.
    assert lint(run_cli, new)[0] == 0


def test_only_the_kinds_the_cross_object_rules_need_are_listed_page_by_page(fake_api, run_cli, tmp_path):
    for i in range(7):
        fake_api.put(DS, daemonset(f"agent-{i}", port=9200 + i))
    fake_api.page_cap = 3
    new = write(tmp_path, "new.yaml", daemonset("new", port=9206))
    code, out, _ = lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1 and "DaemonSet monitoring/agent-6" in conflicts(out)[0]["message"]
    paths = {path for path, _ in fake_api.requests}
    assert "/api/v1/secrets" not in paths and "/apis/apps/v1/daemonsets" in paths
    assert len([1 for path, q in fake_api.requests if path == "/apis/apps/v1/daemonsets"]) >= 3  # paginated
    # With the cross-object rules off, nothing needs the cluster: nothing is listed.
    fake_api.requests.clear()
    off = [arg for rule in builtin_rules() if rule.is_collector for arg in ("--disable", rule.id)]
    lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig), *off)
    assert not fake_api.requests


def test_re_applying_what_runs_is_no_conflict(fake_api, run_cli, tmp_path):
    fake_api.put(DS, daemonset("node-exporter"))
    same = write(tmp_path, "same.yaml", daemonset("node-exporter"))
    code, out, err = lint(run_cli, same, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 0 and conflicts(out) == [], err
    # Moved off 9100 in the same change that adds another exporter on 9100: the old port is gone.
    moved = write(tmp_path, "moved.yaml", daemonset("node-exporter", port=9101), daemonset("new-exporter"))
    code, out, err = lint(run_cli, moved, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 0 and conflicts(out) == [], err


def test_controller_owned_pods_are_not_counted_again(fake_api, run_cli, tmp_path):
    owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-exporter", "controller": True, "uid": "u"}
    for node in ("a", "b"):
        pod = {"metadata": {"name": f"node-exporter-{node}", "namespace": "monitoring", "ownerReferences": [owner]},
               "spec": daemonset("x")["spec"]["template"]["spec"]}
        fake_api.put(POD, pod)
    fake_api.put(DS, daemonset("node-exporter"))
    # Re-applying the DaemonSet: neither it nor its Pods on two nodes are a conflict.
    same = write(tmp_path, "same.yaml", daemonset("node-exporter"))
    code, out, _ = lint(run_cli, same, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 0 and conflicts(out) == []
    # A bare Pod counts.
    fake_api.put(POD, {"metadata": {"name": "debug", "namespace": "default"},
                       "spec": daemonset("x")["spec"]["template"]["spec"]})
    code, out, _ = lint(run_cli, same, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1 and "Pod default/debug (in the cluster)" in conflicts(out)[0]["message"]


def test_a_node_port_taken_in_the_cluster(fake_api, run_cli, tmp_path):
    # The recorded Service default/lb holds nodePort 30108.
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"type": "NodePort", "selector": {"app": "web"},
                        "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30108}]}}
    code, out, _ = lint(run_cli, write(tmp_path, "svc.yaml", service), "--cluster",
                        "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1 and "Service default/lb (in the cluster)" in conflicts(out)[0]["message"]


def test_forbidden_on_one_kind_warns_and_checks_the_rest(fake_api, run_cli, tmp_path):
    fake_api.put(DS, daemonset("node-exporter"))
    fake_api.forbidden = {"pods"}
    new = write(tmp_path, "new.yaml", daemonset("new-exporter"))
    code, out, err = lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 1 and len(conflicts(out)) == 1
    [warning] = [line for line in err.splitlines() if line]
    assert warning.startswith("kexlint: warning: cannot list pods") and "forbidden" in warning


def test_an_unreachable_api_is_one_error_line_and_exit_2(fake_api, run_cli, tmp_path):
    fake_api.stop()
    new = write(tmp_path, "new.yaml", daemonset("new-exporter"))
    code, out, err = lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("kexlint: error: ")


def test_no_kubeconfig_is_one_error_line(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    new = write(tmp_path, "new.yaml", daemonset("new-exporter"))
    code, _, err = lint(run_cli, new, "--cluster", "--kubeconfig", str(tmp_path / "nope"))
    assert code == 2 and err.strip().endswith("no kubeconfig file (give --kubeconfig, or run inside a cluster)")


def test_a_snapshot_file_as_context(run_cli, tmp_path):
    snapshot = tmp_path / "cluster.yaml"
    snapshot.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [daemonset("node-exporter")]}))
    new = write(tmp_path, "new.yaml", daemonset("new-exporter"))
    code, out, _ = lint(run_cli, new, "--context", str(snapshot))
    [finding] = conflicts(out)
    assert code == 1 and finding["file"] == new
    line = next(n for n, text in enumerate(snapshot.read_text().splitlines(), 1) if "hostPort" in text)
    assert f"DaemonSet monitoring/node-exporter ({snapshot}:{line})" in finding["message"]
    # The snapshot itself is never reported on, and re-applying what it holds is clean.
    assert lint(run_cli, write(tmp_path, "same.yaml", daemonset("node-exporter")), "--context", str(snapshot))[0] == 0
    assert lint(run_cli, new, "--context", str(tmp_path / "missing.yaml"))[0] == 2


def _kexlint(*argv: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kexlint", *argv], input=stdin, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_context_from_a_folder_stdin_and_repeated(tmp_path):
    """--context is repeatable and takes files, folders and `-`, as the lint paths do."""
    folder = tmp_path / "snapshot"
    folder.mkdir()
    write(folder, "a.yaml", daemonset("node-exporter", 9100))
    write(folder, "b.yaml", daemonset("agent", 9300))
    extra = write(tmp_path, "extra.yaml", daemonset("tracer", 9400))
    new = {**daemonset("new-exporter")}
    new["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": p, "hostPort": p} for p in (9100, 9200, 9300, 9400)]
    path = write(tmp_path, "new.yaml", new)
    done = _kexlint("--no-config", "--disable", "host-port", "--format", "json", path, "--context", str(folder),
                    "--context", "-", "--context", extra, stdin=yaml.safe_dump(daemonset("logger", 9200)))
    assert done.returncode == 1, done.stderr
    named = sorted(f["message"].split(" is also bound by ")[1].split(" (")[0] for f in conflicts(done.stdout))
    assert named == ["DaemonSet monitoring/agent", "DaemonSet monitoring/logger", "DaemonSet monitoring/node-exporter",
                     "DaemonSet monitoring/tracer"]


def test_placements_that_never_meet_are_no_conflict_with_context(tmp_path):
    def placed(name: str, pool: str) -> dict:
        ds = daemonset(name)
        ds["spec"]["template"]["spec"]["nodeSelector"] = {"pool": pool}
        return ds

    snapshot = write(tmp_path, "cluster.yaml", placed("node-exporter", "a"))
    elsewhere = write(tmp_path, "b.yaml", placed("new-exporter", "b"))
    same_pool = write(tmp_path, "a.yaml", placed("new-exporter", "a"))
    base = ("--no-config", "--disable", "host-port", "--format", "json", "--context", snapshot)
    assert _kexlint(*base, elsewhere).returncode == 0
    assert len(conflicts(_kexlint(*base, same_pool).stdout)) == 1


def test_audit_shows_progress_on_a_terminal(fake_api):
    """A large cluster: a progress line on stderr, rewritten in place, then cleared; none without a TTY."""
    for i in range(2100):
        fake_api.put(POD, {"metadata": {"name": f"p{i}", "namespace": "big"},
                           "spec": {"containers": [{"name": "c", "image": "i"}]}})
    env = {"KUBECONFIG": str(fake_api.kubeconfig)}
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "kexlint", "audit", "--no-config", "--format", "json"],
                                   stdout=subprocess.PIPE, stderr=follower, env={**os.environ, **env})
        os.close(follower)
        out, _ = process.communicate(timeout=120)
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(leader)
    assert process.returncode in (0, 1), err
    assert b"\rkexlint: 1000 objects read (pods)\x1b[K" in err and b"\rkexlint: 2000 objects read (pods)" in err
    assert err.endswith(b"\r\x1b[K")  # cleared before the report
    assert json.loads(out)["findings"] is not None
    piped = _kexlint("audit", "--no-config", "--format", "json", env=env)
    assert "objects read" not in piped.stderr


def test_a_route_conflict_with_a_tlsroute_the_cluster_serves_only_at_v1alpha2(fake_api, run_cli, tmp_path):
    # Gateway API v1.4 CRDs: Gateway at v1, TLSRoute at v1alpha2 (no v1 yet). The route already running
    # is found through the older version, and the new route on the same listener and SNI conflicts with it.
    gateway, tls = KINDS["Gateway"], KINDS["TLSRoute"]
    fake_api.served |= {gateway, tls}
    fake_api.served_at[tls] = "v1alpha2"
    fake_api.put(gateway, {"metadata": {"name": "public", "namespace": "infra"}, "spec": {
        "gatewayClassName": "envoy", "listeners": [{"name": "tls", "protocol": "TLS", "port": 443,
                                                    "tls": {"mode": "Passthrough"},
                                                    "allowedRoutes": {"namespaces": {"from": "All"}}}]}})
    spec = {"parentRefs": [{"name": "public", "namespace": "infra"}], "hostnames": ["db.example.com"],
            "rules": [{"backendRefs": [{"name": "db", "port": 5432}]}]}
    fake_api.put(tls, {"metadata": {"name": "db-a", "namespace": "a"}, "spec": spec})
    new = write(tmp_path, "new.yaml", {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "TLSRoute",
                                       "metadata": {"name": "db-b", "namespace": "b"}, "spec": spec})
    code, out, err = lint(run_cli, new, "--cluster", "--kubeconfig", str(fake_api.kubeconfig), "--disable",
                          "dangling-route")
    [finding] = conflicts(out)
    assert finding["rule"] == "route-conflict" and finding["object"]["name"] == "db-b", err
    assert "TLSRoute a/db-a (in the cluster)" in finding["message"]
    assert "/apis/gateway.networking.k8s.io/v1alpha2/tlsroutes" in {path for path, _ in fake_api.requests}
    assert lint(run_cli, new, "--disable", "dangling-route")[0] == 0 and conflicts(lint(run_cli, new)[1]) == []
