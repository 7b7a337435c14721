"""CPU time of the YAML loader alone on a corpus, beside libyaml's own compose_all (issue 13).

    python bench/loader_cpu.py bench/out/medium [--repeat 5] [--module kexlint.loader]

Best of N of time.process_time, the rows alternating within each round so that a change of load
hits all of them alike. Prints the load average before and after.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--module", action="append", default=[],
                        help="a module with libyaml_documents (default kexlint.loader); repeatable")
    args = parser.parse_args()
    files = [p for c in args.corpus for p in sorted(Path(c).rglob("*.y*ml"))]
    texts = [p.read_text(encoding="utf-8") for p in files]

    def floor() -> None:
        for text in texts:
            for _ in yaml.compose_all(text, Loader=yaml.CSafeLoader):
                pass

    def events() -> None:
        for text in texts:
            parser = yaml.CSafeLoader(text)
            get = parser.get_event
            while get() is not None:
                pass
            parser.dispose()

    rows = {"compose_all (CSafeLoader)": floor, "CParser events only": events}
    for name in args.module or ["kexlint.loader"]:
        module = importlib.import_module(name)

        def run(module=module) -> None:
            for text in texts:
                for _ in module.libyaml_documents(text, "x.yaml"):
                    pass

        rows[f"{name}.libyaml_documents"] = run
    best = {label: float("inf") for label in rows}
    print(f"{len(files)} files; load {open('/proc/loadavg').read().split()[0]}")
    for _ in range(args.repeat):
        for label, fn in rows.items():
            started = time.process_time()
            fn()
            best[label] = min(best[label], time.process_time() - started)
    base = best["compose_all (CSafeLoader)"]
    for label, seconds in best.items():
        print(f"{label:<44} {seconds:6.3f} s CPU  {seconds / base:5.2f}x floor")
    print(f"load {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
