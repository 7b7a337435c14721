"""Where the fields of cross-object facts are written, found only for the facts that become findings.

Every workload and Service hands facts to the cross-object rules, and each fact names its field as
file:line. Finding that line means parsing the document again while recording positions, which cost
as much as all the rules together on a corpus of charts; yet only the facts of a conflict are ever
shown. So for a file on disk the engine records a Spot (the document's first line, its length and
the field's pointer) and the line is looked up after the conclusions, here, by reading the file
again and parsing only that document's slice.

Only texts whose lines Python and libyaml count alike are deferred: no BOM rewrite (which moves
characters), no line breaks other than `\\n` and `\\r\\n`, and no JSON (whose documents do not start
at a line). Everything else is located at once, as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from .loader import Document, InputError, _yaml_locator, decode

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

# (source file, first line of the document, length of its text, pointer of the field)
Spot = tuple[str, int, int, tuple["Any", ...]]  # quoted: typing stays unimported at run time
Position = tuple[int, int]

# libyaml counts \r, NEL, LS and PS as line breaks too; a BOM after `---` is dropped before parsing.
_UNSAFE = ("\r", "\x85", "\u2028", "\u2029", "\ufeff")


def deferrable(text: str, source: str) -> bool:
    """Can the positions of this file's documents be found again from their line and length?"""
    if source.endswith(".json") or text.lstrip()[:1] == "{":
        return False
    # CRLF alone would be safe, but a lone \r is not, and telling them apart costs a scan too.
    return not any(char in text for char in _UNSAFE)


def _line_starts(text: str, lines: list[int]) -> dict[int, int]:
    """Character offset of the start of each wanted 1-based line (ascending)."""
    starts, line, offset = {}, 1, 0
    for wanted in lines:
        while line < wanted and offset >= 0:
            offset = text.find("\n", offset)
            if offset >= 0:
                offset += 1
            line += 1
        if offset < 0:
            break
        starts[wanted] = offset
    return starts


def locate(spots: Mapping[str, Spot], read: Any) -> dict[str, Position]:
    """Each spot's (line, column); read(source) → the file's bytes (raising InputError or OSError).

    A file that cannot be read again, or changed so that the slice no longer parses, gives the
    document's first line, as a document whose positions cannot be recorded does."""
    by_source: dict[str, dict[str, Spot]] = {}
    for key, spot in spots.items():
        by_source.setdefault(spot[0], {})[key] = spot
    found: dict[str, Position] = {}
    for source, wanted in by_source.items():
        try:
            text = decode(read(source))
        except (InputError, OSError):
            text = ""
        starts = _line_starts(text, sorted({spot[1] for spot in wanted.values()}))
        documents: dict[tuple[int, int], Document] = {}
        for key, (_, first_line, length, pointer) in wanted.items():
            if first_line not in starts:
                found[key] = (first_line, 1)
                continue
            doc = documents.get((first_line, length))
            if doc is None:
                # The loader's own locator over the document's slice, as a Document made while
                # reading sets it (the recording parse alone; the values are not needed again).
                start = starts[first_line]
                doc = documents[(first_line, length)] = Document(
                    source, 0, first_line, None,
                    locate_fn=_yaml_locator(text, source, first_line - 1, (start, start + length)))
            found[key] = doc.locate(pointer)
    return found
