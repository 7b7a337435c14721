"""Memory of the webhook's watch cache (not a test): RSS of one worker holding a large cluster's facts.

A fake apiserver (tests/cluster/fakeapi.py, loopback TLS) serves --pods Pods and --services Services;
a child process plays one webhook worker: it loads the engine, then starts the same LiveState the
webhook starts with `cluster-state: watch`, waits for the first full list and reports its RSS before
and after, the time the list took, and the facts held.

    python bench/cluster_cache.py [--pods 50000] [--services 10000] [--owned 0.9] [--page-size 500]

--owned is the share of Pods owned by a controller (a ReplicaSet, one per 10 Pods, whose facts stand
for them); the others are bare Pods, each with a hostPort, so each is a fact. --owned 0 is the worst
case: every Pod a fact. Services are NodePort Services with one nodePort each (one fact each).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "cluster")]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pod(i: int, owned: bool) -> dict:
    metadata = {"name": f"pod-{i}", "namespace": f"ns-{i % 200}", "uid": f"uid-pod-{i}",
                "labels": {"app": f"app-{i // 10}", "pod-template-hash": "5fc956b7c6"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}" * 200}}
    ports = [{"containerPort": 8080, "protocol": "TCP", "name": "http"}]
    if owned:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"rs-{i // 10}",
                                        "uid": f"uid-rs-{i // 10}", "controller": True, "blockOwnerDeletion": True}]
    else:
        ports.append({"containerPort": 9000 + i % 1000, "hostPort": 9000 + i % 1000, "protocol": "TCP"})
    container = {"name": "app", "image": "registry.example/app:1.0", "ports": ports,
                 "env": [{"name": f"VAR_{k}", "value": "x" * 20} for k in range(10)],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    return {"metadata": metadata, "spec": {"containers": [container], "nodeName": f"node-{i % 100}"},
            "status": {"phase": "Running", "podIP": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}}


def replicaset(j: int) -> dict:
    return {"metadata": {"name": f"rs-{j}", "namespace": f"ns-{(j * 10) % 200}", "uid": f"uid-rs-{j}"},
            "spec": {"replicas": 10, "template": {"spec": {"containers": [
                {"name": "app", "image": "registry.example/app:1.0", "ports": [{"containerPort": 8080}]}]}}}}


def service(i: int) -> dict:
    return {"metadata": {"name": f"svc-{i}", "namespace": f"ns-{i % 200}", "uid": f"uid-svc-{i}"},
            "spec": {"type": "NodePort", "selector": {"app": f"app-{i}"},
                     "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30000 + i % 2768}]}}


def worker(kubeconfig: str, page_size: int, out: mp.Queue) -> None:
    import kubernetes.client  # noqa: F401 - loaded before the first figure: the client's import is not the cache

    from kexlint.cluster.live import LiveState, connect_for
    from kexlint.config import load_config
    from kexlint.engine import Engine
    from kexlint.registry import builtin_rules, rules_by_id

    engine = Engine(builtin_rules(), load_config(None, set(rules_by_id())))
    before = rss_kib()
    start = time.perf_counter()
    live = LiveState(engine).watch(connect_for(kubeconfig, None), page_size=page_size)
    if not live.cache.wait_ready(600):
        out.put({"error": live.stale})
        return
    seconds = time.perf_counter() - start
    stats = live.cache.stats()
    out.put({"rss_before_kib": before, "rss_after_kib": rss_kib(), "list_seconds": round(seconds, 2),
             "objects_with_facts": stats.objects, "facts": stats.facts, "keys": stats.keys})
    live.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=50_000)
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--owned", type=float, default=0.9, help="share of controller-owned Pods (default 0.9)")
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    from fakeapi import FakeAPI

    from kexlint.cluster import KINDS
    from kexlint.webhook.certs import generate_certs

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate_certs("kubernetes", "default", folder, sans=["127.0.0.1"])
        api = FakeAPI(folder, folder / "kubeconfig")
        owned = int(args.pods * args.owned)
        for i in range(args.pods):
            api.put(KINDS["Pod"], pod(i, i < owned))
        for j in range((owned + 9) // 10):
            api.put(KINDS["ReplicaSet"], replicaset(j))
        for i in range(args.services):
            api.put(KINDS["Service"], service(i))
        api.events = {k: [] for k in api.events}  # history is not needed: the worker lists
        api.start()
        queue: mp.Queue = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=worker, args=(str(api.kubeconfig), args.page_size, queue))
        child.start()
        result = queue.get(timeout=900)
        child.join(30)
        api.stop()
    result.update(pods=args.pods, owned_pods=owned, bare_pods=args.pods - owned, services=args.services,
                  page_size=args.page_size, pid=os.getpid())
    if "error" not in result:
        result["cache_rss_mib"] = round((result["rss_after_kib"] - result["rss_before_kib"]) / 1024, 1)
        result["worker_rss_mib"] = round(result["rss_after_kib"] / 1024, 1)
    print(json.dumps(result, indent=2))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    raise SystemExit(main())
