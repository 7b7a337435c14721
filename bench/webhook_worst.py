"""The worst AdmissionReviews that fit under the apiserver's 3 MiB body limit, and what each one costs.

Not a test (tests/webhook/test_worst_case.py runs it with generous bounds). Each case is built and
reviewed by `admission.handle` (JSON decoding included: what one worker does for one request) in a
fresh interpreter, so the peak RSS printed is that review's own, beside the same interpreter's
baseline after imports.

    python bench/webhook_worst.py                 # every case, a table
    python bench/webhook_worst.py --json          # the same as JSON lines
    python bench/webhook_worst.py --case ports    # one case

Cases (each body just under 3 MiB = 3,145,728 bytes):
  ports          a Pod with one container and ~1,000,000 ports `{}` (each one invalid: no containerPort)
  host-ports     a Pod whose ports all bind a hostPort (every port a finding of three rules)
  containers     a Pod with ~100,000 containers, each with a hostPort
  external-ips   a Service with ~190,000 externalIPs
  update         an UPDATE of a Pod with ~50,000 host ports in object and oldObject, one added
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

LIMIT = 3 * 2**20


def _review(obj: dict[str, Any], operation: str = "CREATE", old: dict[str, Any] | None = None) -> dict[str, Any]:
    kind = obj["kind"]
    resource_name = {"Pod": "pods", "Service": "services"}[kind]
    gvk = {"group": "", "version": "v1", "kind": kind}
    gvr = {"group": "", "version": "v1", "resource": resource_name}
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {
        "uid": "0b5a3f5e-1c1e-4d7a-9a43-000000000001", "kind": gvk, "resource": gvr, "requestKind": gvk,
        "requestResource": gvr, "name": "worst", "namespace": "default", "operation": operation,
        "userInfo": {"username": "mallory", "uid": "m", "groups": ["system:authenticated"]},
        "object": obj, "oldObject": old, "dryRun": False,
        "options": {"kind": f"{operation.title()}Options", "apiVersion": "meta.k8s.io/v1"}}}


def _pod(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "worst", "namespace": "default"},
            "spec": {"containers": containers}}


def _fill(make: Any, unit: int) -> bytes:
    """The largest body make(n) gives under the limit, n found by bisection from a unit size guess."""
    low, high = 1, max(2, LIMIT // unit * 2)
    best = json.dumps(make(1), separators=(",", ":")).encode()
    while low <= high:
        middle = (low + high) // 2
        body = json.dumps(make(middle), separators=(",", ":")).encode()
        if len(body) <= LIMIT:
            best, low = body, middle + 1
        else:
            high = middle - 1
    return best


def build(case: str) -> bytes:
    if case == "ports":
        return _fill(lambda n: _review(_pod([{"name": "c", "image": "x", "ports": [{}] * n}])), 3)
    if case == "host-ports":
        def host_ports(n: int) -> dict[str, Any]:
            ports = [{"hostPort": 1 + i % 65535, "containerPort": 1} for i in range(n)]
            return _review(_pod([{"name": "c", "image": "x", "ports": ports}]))
        return _fill(host_ports, 32)
    if case == "containers":
        def containers(n: int) -> dict[str, Any]:
            return _review(_pod([{"name": f"c{i}", "ports": [{"containerPort": 80, "hostPort": 80}]}
                                 for i in range(n)]))
        return _fill(containers, 55)
    if case == "external-ips":
        def service(n: int) -> dict[str, Any]:
            ips = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(n)]
            return _review({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "worst"},
                            "spec": {"type": "NodePort", "externalIPs": ips,
                                     "ports": [{"port": 80, "nodePort": 8080}]}})
        return _fill(service, 14)
    if case == "update":
        def update(n: int) -> dict[str, Any]:
            def pod(m: int) -> dict[str, Any]:
                return _pod([{"name": "c", "ports": [{"hostPort": 1 + i, "containerPort": 1 + i}
                                                     for i in range(m)]}])
            return _review(pod(n + 1), "UPDATE", pod(n))
        return _fill(update, 70)
    raise SystemExit(f"unknown case {case!r}")


CASES = ("ports", "host-ports", "containers", "external-ips", "update")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_case(case: str) -> dict[str, Any]:
    """In this interpreter: build the body, then review it once and measure."""
    from kexlint.config import Config
    from kexlint.engine import Engine
    from kexlint.registry import builtin_rules
    from kexlint.webhook.admission import Settings, handle

    engine, settings = Engine(builtin_rules(), Config()), Settings()
    handle(json.dumps(_review(_pod([]))).encode(), engine, settings)  # warm: imports, compiled schemas
    body = build(case)
    baseline = _peak_mib()
    start = time.perf_counter()
    outcome = handle(body, engine, settings)
    seconds = time.perf_counter() - start
    response = outcome.body.get("response", {})
    return {"case": case, "bytes": len(body), "seconds": round(seconds, 3), "peak_rss_mib": round(_peak_mib(), 1),
            "baseline_rss_mib": round(baseline, 1), "status": outcome.status, "verdict": outcome.verdict,
            "findings": len(outcome.findings), "answer_bytes": len(json.dumps(outcome.body)),
            "allowed": response.get("allowed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=CASES, action="append", help="one case (repeatable); default all")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.case or list(CASES)
    if args.in_process:
        for case in cases:
            print(json.dumps(run_case(case)), flush=True)
        return
    results = []
    for case in cases:
        # A fresh interpreter per case: ru_maxrss is a high-water mark.
        out = subprocess.run([sys.executable, __file__, "--in-process", "--case", case], capture_output=True,
                             text=True, check=True)
        results.append(json.loads(out.stdout))
    if args.json:
        for result in results:
            print(json.dumps(result))
        return
    print(f"{'case':<14}{'body bytes':>12}{'seconds':>9}{'peak MiB':>10}{'before MiB':>11}  verdict  findings")
    for r in results:
        print(f"{r['case']:<14}{r['bytes']:>12,}{r['seconds']:>9.3f}{r['peak_rss_mib']:>10.1f}"
              f"{r['baseline_rss_mib']:>11.1f}  {r['verdict']:<8} {r['findings']}")


if __name__ == "__main__":
    main()
