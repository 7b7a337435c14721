"""Read every document through both YAML builders and report where they differ (issue 13).

    python bench/compare_parsers.py bench/out/medium tests examples          # values, errors, positions
    python bench/compare_parsers.py bench/out/medium tests examples --findings   # and lint findings
    python bench/compare_parsers.py bench/out/medium --time 3                # parse and lint timings

Values are compared strictly (True is not 1, 1.0 is not 1), with the document's index and line, its
duplicate keys, and every error's message, line and column; `--positions` compares each document's
position tree too (libyaml's in both, but found from the document's own line and span).
`--findings` runs `kexlint --format json` once per parser over the same paths and compares the reports.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kexlint import loader, loader_ryml  # noqa: E402
from kexlint.lint import MANIFEST_SUFFIXES  # noqa: E402
from kexlint.loader import InputError, decode, read_documents  # noqa: E402
from tests.strict_values import strict  # noqa: E402 - the comparison the parser tests use


def files_of(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.suffix in MANIFEST_SUFFIXES and p.is_file()
                         and not any(part.startswith(".") for part in p.parts))
        elif path.is_file():
            found.append(path)
    return found



def reading(text: str, source: str, parser: str, positions: bool) -> list:
    loader.use_parser(parser)
    out = []
    for doc in read_documents(text, source):
        if isinstance(doc, InputError):
            out.append(("error", doc.message, doc.line, doc.column))
            continue
        item = ["doc", doc.index, doc.line, strict(doc.value), [(d.pointer, d.line, d.column) for d in doc.duplicates]]
        if positions:
            item.append(repr(doc._positions()))
        out.append(tuple(item))
    return out


def compare(files: list[Path], positions: bool, limit: int) -> int:
    disagreements = documents = 0
    for path in files:
        try:
            text = decode(path.read_bytes())
        except InputError:
            continue  # not text: both builders get the same error before parsing
        ours = reading(text, str(path), "libyaml", positions)
        theirs = reading(text, str(path), "rapidyaml", positions)
        documents += len(ours)
        if ours == theirs:
            continue
        disagreements += 1
        if disagreements <= limit:
            for index, (a, b) in enumerate(zip(ours, theirs, strict=False)):
                if a != b:
                    print(f"DIFF {path} item {index}:\n  libyaml:   {str(a)[:300]}\n  rapidyaml: {str(b)[:300]}")
                    break
            else:
                print(f"DIFF {path}: {len(ours)} items from libyaml, {len(theirs)} from rapidyaml")
    stats = loader_ryml.STATS
    print(f"{len(files)} files, {documents} documents/errors: {disagreements} files disagree; "
          f"rapidyaml built {stats['rapidyaml']} documents, handed {stats['libyaml']} to libyaml, "
          f"{stats['rest']} times the rest of a source")
    return disagreements


def lint_report(paths: list[str], parser: str) -> tuple[dict, float]:
    command = [sys.executable, "-m", "kexlint", "--no-config", "--format", "json", "--jobs", "1",
               "--parser", parser, *paths]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return {"report": json.loads(done.stdout), "stderr": done.stderr}, elapsed


def compare_findings(paths: list[str], limit: int) -> int:
    ours, _ = lint_report(paths, "libyaml")
    theirs, _ = lint_report(paths, "rapidyaml")
    differ = 0
    for key in ("findings", "errors", "summary", "skipped"):
        a, b = ours["report"].get(key), theirs["report"].get(key)
        if a != b:
            differ += 1
            print(f"DIFF lint {key}: libyaml {len(a or ())} entries, rapidyaml {len(b or ())}")
            if isinstance(a, list):
                shown = 0
                for item in a:
                    if item not in b and shown < limit:
                        print(f"  only libyaml:   {item}")
                        shown += 1
                for item in b:
                    if item not in a and shown < 2 * limit:
                        print(f"  only rapidyaml: {item}")
                        shown += 1
    if ours["stderr"] != theirs["stderr"]:
        differ += 1
        print(f"DIFF lint stderr:\n  libyaml:   {ours['stderr'][:300]!r}\n  rapidyaml: {theirs['stderr'][:300]!r}")
    summary = ours["report"]["summary"]
    print(f"lint reports: {'identical' if not differ else f'{differ} parts differ'} "
          f"({len(ours['report']['findings'])} findings, {len(ours['report']['errors'])} errors; {summary})")
    return differ


def time_parsing(files: list[Path], repeat: int) -> None:
    texts = [(decode(p.read_bytes()), str(p)) for p in files]
    best = {}
    for _ in range(repeat):
        for parser in ("libyaml", "rapidyaml"):
            loader.use_parser(parser)
            started = time.perf_counter()
            for text, source in texts:
                for _doc in read_documents(text, source):
                    pass
            elapsed = time.perf_counter() - started
            best[parser] = min(best.get(parser, elapsed), elapsed)
    print(f"parse only, best of {repeat}: libyaml {best['libyaml']:.3f} s, rapidyaml {best['rapidyaml']:.3f} s, "
          f"ratio {best['libyaml'] / best['rapidyaml']:.2f}x  (load {os.getloadavg()[0]:.2f})")


def time_lint(paths: list[str], repeat: int) -> None:
    best = {}
    for _ in range(repeat):
        for parser in ("libyaml", "rapidyaml"):
            _, elapsed = lint_report(paths, parser)
            best[parser] = min(best.get(parser, elapsed), elapsed)
    print(f"kexlint --format json --jobs 1, best of {repeat}: libyaml {best['libyaml']:.3f} s, "
          f"rapidyaml {best['rapidyaml']:.3f} s, ratio {best['libyaml'] / best['rapidyaml']:.2f}x  "
          f"(load {os.getloadavg()[0]:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--positions", action="store_true", help="compare position trees too")
    parser.add_argument("--findings", action="store_true", help="compare kexlint's JSON reports too")
    parser.add_argument("--time", type=int, metavar="REPEAT", help="time parsing and linting instead")
    parser.add_argument("--first", type=int, default=10, help="disagreements to print (default 10)")
    args = parser.parse_args()
    files = files_of(args.paths)
    if args.time:
        time_parsing(files, args.time)
        time_lint(args.paths, args.time)
        print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        return 0
    differ = compare(files, args.positions, args.first)
    if args.findings:
        differ += compare_findings(args.paths, args.first)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
