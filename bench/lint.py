"""kexlint over the corpora beside the floor measured in the same run.

The floor is what parsing costs: read the same files and `yaml.compose_all(…, Loader=CSafeLoader)`
them (libyaml's cheapest path that keeps positions). Each measurement runs in a fresh interpreter so
that peak memory (ru_maxrss) belongs to it alone. Prints times, their ratio, objects per second and
peak memory; then medium with --jobs 1 and --jobs 2; then the wall time of linting one small file
beside `python -c "import yaml"`.

    python bench/corpus.py bench/out          # once
    python bench/lint.py bench/out [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each child prints {"seconds": …, "objects": …, "maxrss_kib": …} after the work is done.
FLOOR = """
import json, resource, sys, time, yaml
paths = sys.argv[1:]
start = time.perf_counter()
objects = 0
for path in paths:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        objects += node is not None
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "objects": objects,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

KEXLINT = """
import io, json, resource, sys, time
from kexlint.cli import main
out = io.StringIO()
real_stdout, sys.stdout = sys.stdout, out
start = time.perf_counter()
code = main(["--no-config", "--format", "json", "--max-file-size", "1024", *sys.argv[1:]])
seconds = time.perf_counter() - start
sys.stdout = real_stdout
summary = json.loads(out.getvalue())["summary"]
print(json.dumps({"seconds": seconds, "objects": summary["objects"], "exit": code,
                  "findings": summary["errors"] + summary["warnings"] + summary["infos"],
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(code: str, paths: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(code: str, paths: list[str], repeat: int) -> dict:
    runs = [child(code, paths) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def corpus_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.yaml"))


def wall(argv: list[str], repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare_checkov(checkov: str, folder: Path) -> None:
    """checkov's Kubernetes framework over the same files, beside the floor and kexlint once more."""
    import resource

    paths = corpus_files(folder)
    floor = child(FLOOR, paths)
    ours = child(KEXLINT, paths)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([checkov, "-d", str(folder), "--framework", "kubernetes", "--quiet", "--compact",
                    "-o", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"\ncheckov on {folder.name}: {seconds:.1f} s ({seconds / floor['seconds']:.0f}x the floor, "
          f"{seconds / ours['seconds']:.0f}x kexlint), peak {max(peak, before) / 1024:.0f} MiB "
          f"(peak of any child so far)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="output folder of bench/corpus.py")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--sizes", default="small,medium,huge")
    parser.add_argument("--checkov", metavar="EXE",
                        help="also time this checkov executable on the medium corpus (the Python peer)")
    args = parser.parse_args()

    print(f"{'corpus':<8} {'floor s':>8} {'kexlint s':>9} {'ratio':>6} {'objects/s':>10} "
          f"{'floor MiB':>9} {'kexlint MiB':>11} {'mem ratio':>9} findings")
    for size in args.sizes.split(","):
        paths = corpus_files(args.corpus / size)
        if not paths:
            print(f"{size}: no files under {args.corpus / size} (run bench/corpus.py first)")
            continue
        floor = best_of(FLOOR, paths, args.repeat)
        # --jobs 1: the single-core cost, comparable with the floor (which is one process too).
        ours = best_of(KEXLINT, ["--jobs", "1", *paths], args.repeat)
        assert ours["objects"] == floor["objects"], (ours, floor)
        print(f"{size:<8} {floor['seconds']:8.2f} {ours['seconds']:9.2f} {ours['seconds'] / floor['seconds']:6.2f} "
              f"{ours['objects'] / ours['seconds']:10,.0f} {floor['maxrss_kib'] / 1024:9.1f} "
              f"{ours['maxrss_kib'] / 1024:11.1f} {ours['maxrss_kib'] / floor['maxrss_kib']:9.2f} "
              f"{ours['findings']}")

    medium = corpus_files(args.corpus / "medium")
    if medium:
        floor = best_of(FLOOR, medium, args.repeat)
        jobs = {n: best_of(KEXLINT, ["--jobs", str(n), *medium], args.repeat)["seconds"] for n in (1, 2)}
        print(f"\nmedium, --jobs: floor {floor['seconds']:.2f} s, --jobs 1 {jobs[1]:.2f} s "
              f"({jobs[1] / floor['seconds']:.2f}x), --jobs 2 {jobs[2]:.2f} s ({jobs[2] / floor['seconds']:.2f}x); "
              f"speed-up {jobs[1] / jobs[2]:.2f}x")

    if args.checkov:
        compare_checkov(args.checkov, args.corpus / "medium")
    print()

    repeat = max(args.repeat * 5, 10)
    import_yaml = wall([sys.executable, "-c", "import yaml"], repeat)
    # A clean file (the usual pre-commit run) and one whose finding needs a JSON Schema condition,
    # which imports jsonschema (~50 ms) on the spot.
    smalls = (("clean", "examples/clean/influxdb.yaml"), ("with a finding", "examples/influxdb-hostport.yaml"))
    for label, small in smalls:
        one_file = wall([sys.executable, "-m", "kexlint", "--no-config", small], repeat)
        print(f"one small file ({label}, {small}): kexlint {one_file * 1000:.0f} ms, python -c 'import yaml' "
              f"{import_yaml * 1000:.0f} ms, ratio {one_file / import_yaml:.2f} (median of {repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
