"""kexlint over the corpora beside the floor measured in the same run; one command prints every table.

The floor is what parsing costs: read the same files and `yaml.compose_all(…, Loader=CSafeLoader)`
them (libyaml's cheapest path that keeps positions), in one process. Every measurement runs in a
fresh interpreter; its wall time is taken inside it around the work (imports excluded), its CPU time
is its own plus its reaped children's (the pool's workers), and its memory is the peak of the total
PSS of it and all its descendants, sampled every 5 ms from /proc (bench/treemem.py). The best of
`--repeat` runs (by wall time) is kept.

    python bench/corpus.py bench/out          # once
    python bench/lint.py bench/out --checkov /work/checkov-venv/bin/checkov \
        --small-python /work/kexlint-venv/bin/python   # a venv with `pip install .` (not -e)

prints, in this order:
1. small, medium and huge: the floor beside `--jobs 1` (the one-core cost);
2. medium: the floor, `--jobs 1`, `--jobs 2`, `--parser rapidyaml` when this kexlint has `--parser`,
   and checkov (`--checkov EXE`, once), each as a ratio to the floor of the same run;
3. one small file, clean and with a finding from a JSON Schema rule, beside `python -c "import yaml"`,
   run by `--small-python` (default: this interpreter); it says whether that kexlint is an editable
   install, whose import hook costs ~13 ms by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from treemem import PeakSampler, available  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Each child prints {"seconds": …, "cpu": …, "objects": …} on its last line after the work is done.
USAGE = """
import resource
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
"""

FLOOR = USAGE + """
import json, sys, time, yaml
paths = sys.argv[1:]
start, cpu0 = time.perf_counter(), cpu()
objects = 0
for path in paths:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        objects += node is not None
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu() - cpu0, "objects": objects}))
"""

KEXLINT = USAGE + """
import io, json, sys, time
from kexlint.cli import main
out = io.StringIO()
real_stdout, sys.stdout = sys.stdout, out
start, cpu0 = time.perf_counter(), cpu()
code = main(["--no-config", "--format", "json", "--max-file-size", "1024", *sys.argv[1:]])
seconds, used = time.perf_counter() - start, cpu() - cpu0
sys.stdout = real_stdout
summary = json.loads(out.getvalue())["summary"]
print(json.dumps({"seconds": seconds, "cpu": used, "objects": summary["objects"], "exit": code,
                  "findings": summary["errors"] + summary["warnings"] + summary["infos"]}))
"""


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run argv to the end, sampling its process tree's memory; its JSON last line plus peak_mib."""
    env = env or {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    with PeakSampler(proc.pid) as peak:
        out, _ = proc.communicate()
    wall = time.perf_counter() - start
    lines = out.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"seconds": wall}
    return {**result, "process_seconds": wall, "peak_mib": peak.kib / 1024, "samples": peak.samples,
            "returncode": proc.returncode}


def warm(args: list[str]) -> None:
    """Read the files once more just before a run: this machine's memory reclaim drops cold page
    cache within minutes, and a 20 MB corpus read from disk cost 0.83 s of wall (0.09 s CPU) where a
    cached one takes 0.02 s, so whichever of floor and kexlint came first after a pause paid it."""
    for arg in args:
        if os.path.isfile(arg):
            with open(arg, "rb") as handle:
                handle.read()


def best_of(code: str, args: list[str], repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        warm(args)
        runs.append(measure([sys.executable, "-c", code, *args]))
    best = min(runs, key=lambda r: r["seconds"])
    # Memory does not depend on which run was fastest: the lowest peak is the least disturbed one.
    return {**best, "peak_mib": min(r["peak_mib"] for r in runs)}


def corpus_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.yaml"))


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def has_parser_option() -> bool:
    """Another branch adds `--parser rapidyaml`; measure it only when this kexlint lists it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "kexlint", "--help"], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    return "--parser" in proc.stdout


def sizes_table(corpus: Path, sizes: list[str], repeat: int) -> None:
    print(f"1. kexlint --jobs 1 beside the floor (load {loadavg()})")
    print(f"{'corpus':<8} {'floor s':>8} {'kexlint s':>9} {'ratio':>6} {'objects/s':>10} "
          f"{'floor MiB':>9} {'kexlint MiB':>11} {'mem ratio':>9} findings")
    for size in sizes:
        paths = corpus_files(corpus / size)
        if not paths:
            print(f"{size}: no files under {corpus / size} (run bench/corpus.py first)")
            continue
        floor = best_of(FLOOR, paths, repeat)
        ours = best_of(KEXLINT, ["--jobs", "1", *paths], repeat)
        assert ours["objects"] == floor["objects"], (ours, floor)
        print(f"{size:<8} {floor['seconds']:8.2f} {ours['seconds']:9.2f} {ours['seconds'] / floor['seconds']:6.2f} "
              f"{ours['objects'] / ours['seconds']:10,.0f} {floor['peak_mib']:9.1f} "
              f"{ours['peak_mib']:11.1f} {ours['peak_mib'] / floor['peak_mib']:9.2f} {ours['findings']}")


def medium_table(corpus: Path, repeat: int, checkov: str | None) -> None:
    folder = corpus / "medium"
    paths = corpus_files(folder)
    if not paths:
        print(f"medium: no files under {folder} (run bench/corpus.py first)")
        return
    rows = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])]
    if has_parser_option():
        rows += [("--jobs 1 --parser rapidyaml", ["--jobs", "1", "--parser", "rapidyaml"]),
                 ("--jobs 2 --parser rapidyaml", ["--jobs", "2", "--parser", "rapidyaml"])]
    print(f"\n2. medium ({len(paths)} files), one run (load {loadavg()} at the start)")
    print(f"{'what':<28} {'wall s':>7} {'x floor':>7} {'CPU s':>6} {'peak MiB':>8} findings")
    floor = best_of(FLOOR, paths, repeat)
    print(f"{'floor (compose_all, 1 core)':<28} {floor['seconds']:7.2f} {1:7.2f} {floor['cpu']:6.2f} "
          f"{floor['peak_mib']:8.1f}")
    outputs: dict[str, dict] = {}
    for label, extra in rows:
        ours = best_of(KEXLINT, [*extra, *paths], repeat)
        outputs[label] = ours
        print(f"{'kexlint ' + label:<28} {ours['seconds']:7.2f} {ours['seconds'] / floor['seconds']:7.2f} "
              f"{ours['cpu']:6.2f} {ours['peak_mib']:8.1f} {ours['findings']}")
    if checkov:
        # checkov runs once: minutes per run. Its wall time includes its start-up (seconds), which
        # flatters kexlint by that much at most.
        warm(paths)
        run = measure([checkov, "-d", str(folder), "--framework", "kubernetes", "--quiet", "--compact",
                       "-o", "json"], env=dict(os.environ))
        seconds = run["process_seconds"]
        print(f"{'checkov (whole process)':<28} {seconds:7.1f} {seconds / floor['seconds']:7.0f} {'':>6} "
              f"{run['peak_mib']:8.1f}   exit {run['returncode']}")
        for label in outputs:
            print(f"  checkov / kexlint {label}: {seconds / outputs[label]['seconds']:.0f}x")
    print(f"(load {loadavg()} at the end)")


def wall(argv: list[str], repeat: int, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of running argv."""
    import resource

    times, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times), statistics.median(cpus)


def small_files(python: str, repeat: int) -> None:
    # Away from the repository, so that `python -m kexlint` imports the installed package rather
    # than the working tree from the current directory; without PYTHONPATH for the same reason.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory() as cwd:
        where = subprocess.run([python, "-c", "import kexlint; print(kexlint.__file__)"], capture_output=True,
                               text=True, env=env, cwd=cwd, check=False).stdout.strip()
        if not where:
            print(f"\n3. {python} cannot import kexlint: install it there (pip install .)")
            return
        editable = not ("site-packages" in where or "dist-packages" in where)
        kind = "an editable install (its import hook costs ~13 ms)" if editable else "a non-editable install"
        print(f"\n3. one small file, {python} with {kind}: {where} (load {loadavg()})")
        wall([python, "-m", "kexlint", "--no-config", str(ROOT / "examples/clean/influxdb.yaml")], 2, env, cwd)
        yaml_wall, yaml_cpu = wall([python, "-c", "import yaml"], repeat, env, cwd)
        # host-network is a JSON Schema rule (decided by kexlint.schemafast), host-port a Python check.
        smalls = (("clean", "examples/clean/influxdb.yaml"),
                  ("schema-rule finding", "examples/influxdb-hostnetwork.yaml"),
                  ("check finding", "examples/influxdb-hostport.yaml"))
        for label, small in smalls:
            one_wall, one_cpu = wall([python, "-m", "kexlint", "--no-config", str(ROOT / small)], repeat, env, cwd)
            print(f"{label:<20} {small:<34} wall: kexlint {one_wall * 1000:4.0f} ms, python -c 'import yaml' "
                  f"{yaml_wall * 1000:3.0f} ms, ratio {one_wall / yaml_wall:.2f}; CPU: {one_cpu * 1000:4.0f} "
                  f"vs {yaml_cpu * 1000:3.0f} ms, ratio {one_cpu / yaml_cpu:.2f} (medians of {repeat})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="output folder of bench/corpus.py")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--sizes", default="small,medium,huge", help="corpora of table 1 ('' for none)")
    parser.add_argument("--no-medium", action="store_true", help="leave out table 2")
    parser.add_argument("--checkov", metavar="EXE", help="also run this checkov executable on medium (table 2)")
    parser.add_argument("--small-python", metavar="PYTHON", default=sys.executable,
                        help="interpreter whose installed kexlint lints the small files (table 3)")
    args = parser.parse_args()
    if not available():
        print("note: /proc/PID/smaps_rollup or task/*/children missing: memory figures read 0")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load {loadavg()}")
    sizes = [size for size in args.sizes.split(",") if size]
    if sizes:
        sizes_table(args.corpus, sizes, args.repeat)
    if not args.no_medium:
        medium_table(args.corpus, args.repeat, args.checkov)
    small_files(args.small_python, max(args.repeat * 5, 10))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
