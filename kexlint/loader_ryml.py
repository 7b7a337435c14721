"""YAML documents through rapidyaml, for the documents it reads exactly as the libyaml builder does.

rapidyaml parses in C++ and emits JSON that `json.loads` turns into values, several times faster
than building values from libyaml's events in Python. Walking its tree from Python instead would
cost a binding call (about a microsecond) per node per attribute, slower than libyaml, so the JSON
emitter is used, and it is trusted only where it cannot differ:

- it does not resolve YAML 1.1 scalars as Kubernetes does (`yes`, `on`, `~`, `0o17`, `017`,
  `1_000`, `.NaN` come out as strings, or rewritten, or as invalid JSON such as `+1`), so a
  document with a plain scalar of any such shape is read by libyaml;
- it expands neither anchors nor merge keys the go-yaml way and keeps tags and duplicate keys
  silently, so documents with `&`, `*`, `!`, `<<`, complex keys or a repeated key are read by libyaml;
- it accepts input libyaml refuses (a tab after a colon, `@` or a backtick starting a plain
  scalar, control characters), ends a final block scalar with a newline libyaml does not add and
  drops one after some block scalar headers that carry a comment: those documents are read by
  libyaml too, which gives them the usual values or error lines.

Documents are split at `---` lines, each parsed on its own, so a document handed to libyaml is
just its own text. When libyaml finds an error in one, the rest of the source is read by libyaml
from that document on, which then reports and resumes exactly as it does alone. Positions are
always libyaml's (a document's text is parsed again when a finding asks where it is).

Limits stay libyaml's: a document that might nest deeper than MAX_DEPTH, or hold more than
MAX_COLLECTION_ITEMS entries in one collection, is never given to rapidyaml (its parser does not
recurse, but its emitter gives up past some depth, and the limits' messages are libyaml's).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import ryml

from .errors import InputError
from .loader import (
    MAX_COLLECTION_ITEMS,
    MAX_DEPTH,
    Document,
    _Builder,
    _yaml_locator,
    libyaml_documents,
)
from .scalars import MAX_INT_BITS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

# Anything here sends the whole source to libyaml: a BOM, directives (`%YAML`) and `...` lines change
# where documents start and end, which the split at `---` lines would not see.
# (Each pattern here starts with a literal so that the search skips along at memchr speed.)
_WHOLE_SOURCE = re.compile(r"\n(?:%|\.\.\.(?=[ \t\n]|\Z))")
# loader._DOC_SEPARATOR, found by its line break.
_SEPARATOR = re.compile(r"\n---(?=[ \t\n]|\Z)")
# Documents larger than this are libyaml's: Kubernetes stores no object over 1.5 MiB (etcd's request
# limit), and on a large scalar libyaml is as fast as rapidyaml, while the screens below would read
# the text several times over (10 MB on one line: ~1 s against libyaml's 0.1 s).
_MAX_DOCUMENT = 2**20

# Plain scalars that Kubernetes reads as something else than the emitter writes: YAML 1.1 words,
# Go's number syntax, special floats. Looked for in the emitted JSON, where each scalar is one token
# between quotes: the emitter keeps a plain scalar's text as written (or, for `.NaN`, still looks
# like one), and a quoted scalar that looks like this (`"yes"`) merely costs a libyaml read.
_RISKY_STRING = re.compile(
    r'"(?:y|Y|n|N|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE|Null|NULL|~'
    r'|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)'  # special floats (the emitter lowercases them)
    r'|\+[^"]*'  # a leading +
    r'|[-+]?0[0-9xXoObB_][^"]*'  # Go's prefixes and leading zeros (octal, or a float)
    r'|[-+]?\.?[0-9][^"]*_[^"]*)"')  # underscores, which go-yaml drops
# What the emitter does not keep, or rapidyaml reads where libyaml does not, found in the document's
# text; each pattern starts with a rare character so that the search skips the rest quickly.
_PROPERTY = re.compile(r"[&*!@`%](?<=[\s\[{,].)")  # anchors, aliases, tags; `@`, backtick, `%` libyaml refuses
_COMPLEX_KEY = re.compile(r"\?(?<=[\s\[{,]\?)(?:\s|$)")
_EMPTY_KEY = re.compile(r"[\n\[{,?-][ \t]*:(?:\s|$)")  # `- :` is {"": null} to rapidyaml, an error to libyaml
# A collection as a key; a block scalar header with a comment (rapidyaml 0.15 then drops the final
# line break of some: `|  # expect: x` does, `| # c` does not) or an indentation indicator (`|2`
# over a line of spaces: rapidyaml "", libyaml " \n").
_AFTER = re.compile(r"[\]}|>](?:(?<=[\]}])[ \t]*:(?:\s|$)|(?<=[|>])(?:[0-9+-]*[ \t]+#|[+-]?[1-9]))")
# Tabs, CR, NEL, the Unicode line separators, BOMs and the characters YAML does not allow.
_ODD_CHARACTER = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# How deep a document may nest is bounded by its flow brackets plus two levels per column of the
# deepest line's leading spaces, dashes and question marks: these keep that bound below MAX_DEPTH.
_MAX_BRACKETS = 200
_MAX_LEAD = 120
_DEEP_LINE = re.compile(rf"^[ ?-]{{{_MAX_LEAD}}}", re.MULTILINE)
assert _MAX_BRACKETS + 2 * (_MAX_LEAD + 1) < MAX_DEPTH
_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_SEPARATOR_LINE = re.compile(r"---[ \t]*(?:#[^\n]*)?\n")


# How documents were read, for bench/compare_parsers.py: by rapidyaml, handed to libyaml one at a
# time, or the rest of a source handed to libyaml.
STATS = {"rapidyaml": 0, "libyaml": 0, "rest": 0}


class _Ineligible(Exception):
    """This document is libyaml's to read."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Ineligible  # a duplicate key: libyaml reports it with its line
    return result


def _integer(text: str) -> int:
    number = int(text)  # over Python's 4300-digit limit: ValueError, libyaml's to report
    if number.bit_length() > MAX_INT_BITS:
        raise _Ineligible  # libyaml's error, with its line
    return number


def _constant(name: str) -> Any:
    raise _Ineligible  # NaN or Infinity: not what go-yaml reads


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_int=_integer, parse_constant=_constant)


class _QuietStderr:
    """rapidyaml prints each error to stderr before raising it; the error is libyaml's to report."""

    def __init__(self) -> None:
        self.devnull = os.open(os.devnull, os.O_WRONLY)
        self.saved = os.dup(2)

    def __enter__(self) -> None:
        os.dup2(self.devnull, 2)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 2)

    def close(self) -> None:
        os.close(self.devnull)
        os.close(self.saved)


def _suspect(body: str) -> bool:
    """Whether the document's text has anything rapidyaml might read otherwise than libyaml."""
    return bool(body[:1] in "&*!@`%?:" or "<<" in body or _ODD_CHARACTER.search(body) or _PROPERTY.search(body)
                or _COMPLEX_KEY.search(body) or _EMPTY_KEY.search(body) or _AFTER.search(body)
                or body.count("[") + body.count("{") > _MAX_BRACKETS or _DEEP_LINE.search(body)
                or body.count("\n") + body.count(",") >= MAX_COLLECTION_ITEMS)


def _value(body: str, tree: Any, quiet: _QuietStderr) -> dict[str, Any]:
    """The mapping rapidyaml reads in a document's text, or _Ineligible."""
    if _suspect(body):
        raise _Ineligible
    tree.clear()
    tree.clear_arena()
    try:
        with quiet:
            ryml.parse_in_arena(body.encode(), tree)
            root = tree.root_id()
            if not tree.is_map(root):
                raise _Ineligible  # lists, scalars, empty documents and streams: rare, libyaml's
            emitted = ryml.emit_json(tree, root)
    except ryml.ExceptionBasic:
        raise _Ineligible from None
    if _RISKY_STRING.search(emitted):
        raise _Ineligible
    try:
        value = _DECODER.decode(emitted)
    except (ValueError, RecursionError):
        raise _Ineligible from None
    if not isinstance(value, dict):
        raise _Ineligible
    return value


def yaml_documents(text: str, source: str) -> Iterator[Document | InputError]:
    """The same documents, values and errors as loader.yaml_documents through libyaml."""
    if "\ufeff" in text or text[:1] == "%" or text.startswith("...") or _WHOLE_SOURCE.search(text):
        STATS["rest"] += 1
        yield from libyaml_documents(text, source)
        return
    starts = [0, *(match.start() + 1 for match in _SEPARATOR.finditer(text))]
    tree = ryml.Tree()
    quiet = _QuietStderr()
    try:
        index = 0
        line_offset = 0
        counted = 0
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else len(text)
            line_offset += text.count("\n", counted, start)
            counted = start
            chunk = text[start:end]
            separated = chunk.startswith("---") and chunk[3:4] in ("", " ", "\t", "\n")
            head = 0
            if separated:
                match = _SEPARATOR_LINE.match(chunk)
                head = match.end() if match else -1  # content on the `---` line: libyaml's
            content = _CONTENT_LINE.search(chunk, head) if head >= 0 else None
            if not separated and content is None:
                continue  # only comments and blank lines before the first `---`: no document
            doc = None
            if content is not None and chunk.endswith("\n") and len(chunk) <= _MAX_DOCUMENT:
                try:
                    value = _value(chunk[head:], tree, quiet)
                except _Ineligible:
                    pass
                else:
                    line_start = chunk.rfind("\n", 0, content.start()) + 1
                    line = line_offset + chunk.count("\n", 0, line_start) + 1
                    span = (start + line_start, end)
                    doc = Document(source, index, line, value, span=span,
                                   locate_fn=_yaml_locator(text, source, line - 1, span))
            if doc is not None:
                STATS["rapidyaml"] += 1
                index += 1
                yield doc
                continue
            try:
                docs = list(_Builder(chunk, source, line_offset).documents(index))
            except Exception:  # noqa: BLE001 - whatever it is, libyaml's reading of the rest says it
                STATS["rest"] += 1
                yield from libyaml_documents(text, source, start, line_offset, index)
                return
            STATS["libyaml"] += len(docs)
            for doc in docs:
                doc.locate_fn = _yaml_locator(chunk, source, doc.line - 1, doc.span)
                index = doc.index + 1
                yield doc
    finally:
        quiet.close()
