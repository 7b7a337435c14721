"""kexlint reads every spelling of a scalar as kubectl 1.35 does (go-yaml v2 -> sigs.k8s.io/yaml -> JSON).

The table is generated: ints, octal/hex/binary forms, floats with integral and non-integral values,
underscores, signs, exponents, quoted and plain, booleans, YAML 1.1 and 1.2 forms. kubectl's own
offline reading (`kubectl create --dry-run=client -o json`) is the reference.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
from pathlib import Path

from k8s_tools import tool

from kexlint.loader import read_documents

BODIES = ["8080", "08080", "017620", "0o17620", "0O17620", "0x1F90", "0X1f90", "0b1111110010000", "0_8080",
          "8_080", "8080.0", "8.08e3", "8.08E+3", "8080e0", "1e4", ".8080e4", "8080.", "8080.5", "1:30",
          "0.", "00", "0", "1_000_000", "0x_1F", "9223372036854775807", "18446744073709551615"]
SPELLINGS = sorted({f"{sign}{body}" for sign, body in itertools.product(["", "-", "+"], BODIES)}
                   | {f"'{b}'" for b in BODIES[:6]} | {f'"{b}"' for b in BODIES[:6]}
                   | {"true", "yes", "on", "y", "Y", "n", "off", "no", "false", "True", "NO", "null", "~", "",
                      "2001-12-14", "1.0e+3", "1.0e3"})
# .inf and .nan are left out: kubectl refuses them ("json: unsupported value: -Inf").


def _manifest() -> str:
    data = "".join(f"  k{i}: {s}\n" for i, s in enumerate(SPELLINGS))
    return f"apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n{data}"


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, float) and math.isnan(ours):
        return theirs is None or (isinstance(theirs, float) and math.isnan(theirs))
    if type(ours) is bool or type(theirs) is bool:
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        if abs(ours) >= 1 << 63:  # past int64 kubectl's JSON holds a float; kexlint keeps the digits
            return float(ours) == float(theirs)
        return ours == theirs
    return ours == theirs


def test_every_spelling_reads_as_kubectl_reads_it(tmp_path: Path) -> None:
    kubectl = tool("kubectl")
    path = tmp_path / "thing.yaml"
    path.write_text(_manifest())
    proc = subprocess.run([kubectl, "label", "--local", "-f", str(path), "x=y", "-o", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)["spec"]
    doc = next(iter(read_documents(path.read_text(), str(path))))
    ours = doc.value["spec"]
    differ = [f"{s!r}: kexlint {ours.get(f'k{i}')!r}, kubectl {theirs.get(f'k{i}')!r}"
              for i, s in enumerate(SPELLINGS) if not _same(ours.get(f"k{i}"), theirs.get(f"k{i}"))]
    assert not differ, "\n".join(differ)
