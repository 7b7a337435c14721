"""Where a pool starts to pay: --jobs 1 against --jobs 2 (threshold off) on the first N files of medium.

Whole CLI wall time of `python -m kexlint`, the two alternating so that load from other work falls
on both alike; median of --repeat. Prints bytes, files and the ratio; the threshold belongs where
the ratio falls below 1.

    python bench/crossover.py bench/out [--counts 2,4,8,16,32,64] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(jobs: int, paths: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEXLINT_POOL_MIN_BYTES": "0"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kexlint", "--no-config", "-f", "json", "--jobs", str(jobs), *paths],
                   stdout=subprocess.DEVNULL, env=env, cwd=ROOT, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--counts", default="2,4,8,16,32,64")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    files = sorted(str(p) for p in (args.corpus / "medium").glob("*.yaml"))
    print(f"{'files':>5} {'KiB':>7} {'--jobs 1 s':>10} {'--jobs 2 s':>10} {'2/1':>5}  load")
    for count in (int(c) for c in args.counts.split(",")):
        paths = files[:count]
        size = sum(os.path.getsize(p) for p in paths)
        one, two = [], []
        for _ in range(args.repeat):
            one.append(once(1, paths))
            two.append(once(2, paths))
        a, b = statistics.median(one), statistics.median(two)
        with open("/proc/loadavg") as handle:
            load = handle.read().split()[0]
        print(f"{count:5} {size / 1024:7.0f} {a:10.3f} {b:10.3f} {b / a:5.2f}  {load}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
