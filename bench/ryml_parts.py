"""Where the rapidyaml path's time goes on a corpus, beside libyaml's builder, in one run (issue 13).

    python bench/ryml_parts.py bench/out/medium
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import ryml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kexlint import loader, loader_ryml  # noqa: E402


def timed(label, fn, base=None):
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed:6.3f} s" + (f"  ({elapsed / base:.2f} of libyaml's builder)" if base else ""))
    return elapsed


def main() -> None:
    files = sorted(Path(sys.argv[1]).glob("*.yaml"))
    texts = [p.read_text(encoding="utf-8") for p in files]
    chunks = [c for t in texts for c in t.split("\n---\n")]
    tree = ryml.Tree()
    emitted = []

    def parse_emit():
        for chunk in chunks:
            tree.clear()
            tree.clear_arena()
            ryml.parse_in_arena(chunk.encode(), tree)
            emitted.append(ryml.emit_json(tree, tree.root_id()))

    print(f"{len(files)} files, {len(chunks)} documents, load {os.getloadavg()[0]:.2f}")
    base = timed("libyaml builder (loader.libyaml_documents)",
                 lambda: [list(loader.libyaml_documents(t, "x.yaml")) for t in texts])
    timed("rapidyaml path (loader_ryml.yaml_documents)",
          lambda: [list(loader_ryml.yaml_documents(t, "x.yaml")) for t in texts], base)
    timed("  rapidyaml parse + emit_json", parse_emit, base)
    timed("  json.loads with the duplicate-key hook", lambda: [loader_ryml._DECODER.decode(e) for e in emitted], base)
    timed("  json.loads, plain", lambda: [loader.json.loads(e) for e in emitted], base)
    timed("  text screens (_suspect)", lambda: [loader_ryml._suspect(c) for c in chunks], base)
    timed("  JSON screen (_RISKY_STRING)", lambda: [loader_ryml._RISKY_STRING.search(e) for e in emitted], base)
    print(f"rapidyaml built {loader_ryml.STATS['rapidyaml']}, libyaml {loader_ryml.STATS['libyaml']}, "
          f"rest of a source {loader_ryml.STATS['rest']}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
