"""A YAML stream cut into documents by hand, and ruamel.yaml set up to re-serialise one of them.

Why not round-trip the whole stream with ruamel: measured on a Helm-rendered file, `load_all` +
`dump_all` re-indents the sequences of documents nobody touched (`  - port` → `- port`), drops
`...` end markers and turns `~` into an empty value. So the stream is split on `---` / `...` lines
here, documents that need no change are copied through as text, and only the document being
converted goes through ruamel, with the indentation measured from that document.
"""

from __future__ import annotations

import difflib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter

_DOC_START = re.compile(r"---(?=[ \t\r\n]|$)")
_DOC_END = re.compile(r"\.\.\.(?=[ \t\r\n]|$)")
# A marker line that carries nothing but maybe a comment; `--- !tag` or `--- {a: 1}` carry content.
_BARE_MARKER_REST = re.compile(r"[ \t]*(#.*)?\r?\n?")
_BLANK_OR_COMMENT = re.compile(r"[ \t]*(#.*)?\r?\n?")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass
class Chunk:
    """One document's text: prefix + body + suffix, which join back to exactly the input."""

    prefix: str  # the `---` line and the blank and comment lines before the content (Helm's `# Source:`)
    body: str  # the content: what ruamel parses and, if the document changes, re-serialises
    suffix: str  # a `...` line and the blank and comment lines after it
    line: int  # 0-based line of the file where body starts

    @property
    def text(self) -> str:
        return self.prefix + self.body + self.suffix


def split_documents(text: str) -> list[Chunk]:
    """Cut a stream at `---` lines and after `...` lines, keeping every character."""
    chunks: list[Chunk] = []
    prefix: list[str] = []
    body: list[str] = []
    suffix: list[str] = []
    phase = "prefix"
    line_no = 0
    body_line = 0

    def close() -> None:
        nonlocal prefix, body, suffix
        if prefix or body or suffix:
            chunks.append(Chunk("".join(prefix), "".join(body), "".join(suffix), body_line))
        prefix, body, suffix = [], [], []

    for line in _LINES.findall(text):
        if _DOC_START.match(line):
            close()
            if _BARE_MARKER_REST.fullmatch(line, 3):
                phase = "prefix"
                prefix.append(line)
            else:
                phase = "body"
                body_line = line_no
                body.append(line)
        elif phase != "prefix" and _DOC_END.match(line):
            phase = "suffix"
            suffix.append(line)
        elif phase == "suffix" and not _BLANK_OR_COMMENT.fullmatch(line):
            # Content after `...` without a `---`: YAML allows a bare document there.
            close()
            phase = "body"
            body_line = line_no
            body.append(line)
        elif phase == "suffix":
            suffix.append(line)
        elif phase == "prefix" and _BLANK_OR_COMMENT.fullmatch(line):
            prefix.append(line)
        else:
            if phase == "prefix":
                phase = "body"
                body_line = line_no
            body.append(line)
        line_no += 1
    close()
    return chunks


def new_yaml() -> YAML:
    """A round-trip loader/dumper that keeps quotes and never re-wraps long lines."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 20
    # Keep `[{name: gw}]` as written: by default ruamel drops the braces of a one-entry mapping in a
    # flow list (`[name: gw]`), the same value but not what anyone writes in a manifest.
    yaml.brace_single_entry_mapping_in_flow_sequence = True
    return yaml


def _nodes(value: Any) -> Iterator[Any]:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, CommentedMap):
            stack.extend(node.values())
            yield node
        elif isinstance(node, CommentedSeq):
            stack.extend(node)
            yield node


@dataclass(frozen=True)
class Style:
    """How a document is indented, in ruamel's terms, and how it spells null."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0
    null: str = ""


_NULLS = re.compile(r"(?:^|:|-)[ \t]+(~|null|Null|NULL)[ \t]*(?:#.*)?$", re.MULTILINE)


def detect_style(root: Any, body: str) -> Style:
    """The most common mapping indent and sequence layout of a parsed document.

    Positions come from ruamel's line/column records: a nested block mapping's first key is
    `mapping` columns right of its parent key; a block sequence item's content is `sequence`
    columns right of the parent key and its dash `offset` columns right of it.
    """
    lines = body.splitlines()
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    for node in _nodes(root):
        if not isinstance(node, CommentedMap) or node.fa.flow_style():
            continue
        for key, value in node.items():
            if not isinstance(value, (CommentedMap, CommentedSeq)) or not value or value.fa.flow_style():
                continue
            key_line, key_col = node.lc.key(key)
            if isinstance(value, CommentedMap):
                first_line, first_col = value.lc.key(next(iter(value)))
                if first_line > key_line:
                    maps[first_col - key_col] += 1
            else:
                item_line, item_col = value.lc.item(0)
                if item_line <= key_line or item_line >= len(lines):
                    continue
                dash = lines[item_line].rfind("-", 0, item_col)
                if dash >= key_col:
                    seqs[(item_col - key_col, dash - key_col)] += 1
    mapping = maps.most_common(1)[0][0] if maps else 2
    sequence, offset = seqs.most_common(1)[0][0] if seqs else (mapping, 0)
    if sequence < offset + 2:  # ruamel needs room for "- "
        sequence = offset + 2
    nulls = Counter(match.group(1) for match in _NULLS.finditer(body))
    null = nulls.most_common(1)[0][0] if nulls else ""
    return Style(mapping, sequence, offset, null)


def _representer(null: str) -> type[RoundTripRepresenter]:
    """A representer spelling null the way the document does (ruamel always writes it empty)."""
    if not null:
        return RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        def represent_none(self, data: Any) -> Any:
            return self.represent_scalar("tag:yaml.org,2002:null", null)

    # add_representer copies the class's table before changing it, so RoundTripRepresenter is untouched.
    Representer.add_representer(type(None), Representer.represent_none)
    return Representer


def dump_document(root: Any, style: Style) -> str:
    yaml = new_yaml()
    yaml.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    yaml.Representer = _representer(style.null)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


_RUNS_OF_BLANKS = re.compile(r"(?<=\S)[ \t]+")


def restore_spacing(old: str, new: str) -> str:
    """new, with each line that differs from its old counterpart only in blanks between tokens
    (`value:   x`, a comment's column) put back as it was.

    ruamel normalises such spacing in every line of a document it writes. Indentation is never
    restored (it is structure) and the caller re-reads the result to make sure it means the same.
    """
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            for before, after in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True):
                same = _RUNS_OF_BLANKS.sub(" ", before.rstrip()) == _RUNS_OF_BLANKS.sub(" ", after.rstrip())
                out.append(before if same else after)
        else:
            out.extend(new_lines[j1:j2])
    return "".join(out)
