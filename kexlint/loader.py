"""Bytes → documents: plain Python values plus a lazy map from JSON pointer to (line, column).

Values are built in one pass over libyaml's parser events instead of PyYAML's composer and
constructors: the events are produced in C, building dicts and lists from them costs less than
building nodes, and an iterative builder has no recursion to overflow on hostile nesting.

Positions are not recorded on that pass. Most documents never get a finding, so a document's
positions are computed only when somebody asks, by parsing that document's slice of the text
again with recording switched on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import yaml

from .records import dataclass, field

try:  # libyaml's C parser; the pure-Python one is a slow but correct fallback
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import Loader as _Parser  # type: ignore[assignment]

from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from .errors import InputError
from .scalars import (
    COLLECTION_TAGS,
    MERGE,
    NUMBER_START,
    PLAIN_SPECIAL_FIRST,
    PLAIN_WORDS,
    STRING_TAGS,
    scalar,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

Pointer = tuple  # path of str keys and int indexes from the document root
Position = tuple[int, int]  # 1-based line and column

MAX_DEPTH = 512  # below libyaml's own limit (1000 in newer builds), so the message is always ours
# Values that aliases may add to a document (each use counts the whole of what it repeats): beyond
# this it is an alias bomb.
MAX_EXPANDED_NODES = 1_000_000
# Entries of one mapping or sequence. A `kubectl get pods -A -o yaml` List of 50,000 pods stays far
# below; a 10 MB flow mapping of a million keys (seconds of parsing for nothing) does not.
MAX_COLLECTION_ITEMS = 250_000
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DuplicateKey:
    """A key repeated in one mapping; line and column are those of the repetition."""

    pointer: Pointer
    line: int
    column: int


# Where each value of a document was written, as a tree that mirrors the value: an entry is a
# packed position (int) for a scalar, alias or merged value, or [packed position, children] for a
# mapping (children: dict key → entry) or sequence (children: list of entries). A tree rather than a
# dict keyed by pointer because pointers cost memory in proportion to their depth, which on a deep
# and wide document (1000 levels × 200k items) means gigabytes.
PositionTree = Any if TYPE_CHECKING else object  # at run time typing stays unimported
Locations = tuple[PositionTree, dict[Pointer, Position]]

_COLUMN_BITS = 32
_COLUMN_MASK = (1 << _COLUMN_BITS) - 1


def _unpack(packed: int) -> Position:
    return (packed >> _COLUMN_BITS, packed & _COLUMN_MASK)


def _entry_position(entry: Any) -> int:
    return entry if type(entry) is int else entry[0]


@dataclass
class Document:
    """One YAML document (or a whole JSON file) of one source."""

    source: str
    index: int  # 0-based position of the document in its source
    line: int  # 1-based line where the document's content starts
    value: Any
    duplicates: list[DuplicateKey] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)
    locate_fn: Callable[[], Locations] | None = field(default=None, repr=False)
    _locations: Locations | None = field(default=None, repr=False)

    def _positions(self) -> Locations:
        if self._locations is None:
            try:
                self._locations = self.locate_fn() if self.locate_fn else (None, {})
            except (InputError, yaml.YAMLError, RecursionError):
                self._locations = (None, {})
        return self._locations

    def locate(self, pointer: Pointer) -> Position:
        """Position of the field at pointer, or of its deepest ancestor that has one."""
        entry = self._positions()[0]
        if entry is None:
            return (self.line, 1)
        found = _entry_position(entry)
        for key in pointer:
            if type(entry) is int:
                break
            children = entry[1]
            if isinstance(children, dict):
                entry = children.get(key) if isinstance(key, str) else None
            else:
                entry = children[key] if type(key) is int and 0 <= key < len(children) else None
            if entry is None:
                break
            found = _entry_position(entry)
        return _unpack(found)

    def first_occurrence(self, pointer: Pointer) -> Position | None:
        """Where a repeated key was first written."""
        return self._positions()[1].get(tuple(pointer))


# --- the builder ---------------------------------------------------------------------------------

_MERGE_KEY = object()
_NO_KEY = object()


def _mark(mark: Any, line_offset: int) -> Position:
    return (mark.line + 1 + line_offset, mark.column + 1)


def _check_open_sizes(stack: list[list[Any]], event: Any, line_offset: int) -> None:
    """The builder's check of its open collections, every 65,536 events rather than per value."""
    for open_frame in stack:
        if len(open_frame[0]) > MAX_COLLECTION_ITEMS:
            raise InputError(f"a {'mapping' if open_frame[1] else 'sequence'} with more than "
                             f"{MAX_COLLECTION_ITEMS:,} entries", *_mark(event.start_mark, line_offset))


def _merge_into(container: dict[Any, Any], merged_keys: set[Any], value: Any, mark: Any, line_offset: int
                ) -> list[dict[Any, Any]]:
    """Apply `<<: value` to the open mapping where it is written, as go-yaml v2 does
    (sigs.k8s.io/yaml, so kubectl and the apiserver): it overrides keys written before it and is
    overridden by keys written after it; in a list, earlier mappings win. The YAML 1.1 draft (and
    PyYAML) let explicit keys always win, which reads `hostNetwork: false` followed by
    `<<: *hostnet` as false while Kubernetes runs the pod with host networking.
    merged_keys gets the keys it brought that were not written before; returns the mappings merged."""
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(m, dict) for m in sources):
        raise InputError("merge key '<<' needs a mapping or a list of mappings", *_mark(mark, line_offset))
    for source in reversed(sources):
        for key, item in source.items():
            if key not in container:
                merged_keys.add(key)
            container[key] = item
    return sources


# Plain scalars that start like a number → what they resolve to (immutable values only: int, float,
# bool, None, str), shared by every builder of the process; bounded, since a hostile file could
# write a million distinct numbers.
_PLAIN_NUMBERS: dict[str, Any] = {}
_PLAIN_NUMBERS_MAX = 4096


def _is_merge_key(event: ScalarEvent) -> bool:
    """A plain `<<`, or `!!merge <<`, as go-yaml (which Kubernetes reads YAML with) takes them."""
    if event.value != "<<":
        return False
    return (event.tag is None and event.implicit[0]) or event.tag == MERGE


class _Builder:
    """Turns the events of one YAML stream into Documents."""

    def __init__(self, text: str, source: str, line_offset: int = 0, record: bool = False) -> None:
        self.text = text
        self.source = source
        self.line_offset = line_offset
        self.record = record
        # Filled only when recording: the position tree of the first document (see Locations), and
        # for repeated keys the position of the first occurrence.
        self.positions: PositionTree = None
        self.first_positions: dict[Pointer, Position] = {}

    def documents(self, first_index: int = 0) -> Iterator[Document]:
        parser = _Parser(self.text)
        try:
            get_event = parser.get_event
            get_event()  # StreamStartEvent
            index = first_index
            while True:
                event = get_event()
                if type(event) is StreamEndEvent:
                    return
                doc = self._document(get_event, event, index)
                index += 1
                if doc is not None:
                    yield doc
        finally:
            parser.dispose()

    def _document(self, get_event: Callable[[], Any], start: Any, index: int) -> Document | None:
        """One document's values, duplicates and (when recording) positions, from its events.

        One loop with no call per value: this is the hot path of a lint, and Python function calls
        would cost more than libyaml's parsing. The open collection lives in locals and the
        enclosing ones in lists (an object per collection costs a Python __init__), a key and the
        scalar value after it are taken in one turn, and plain scalars resolve without a call unless
        they start like a number. tests/test_loader_fast.py holds it to the builder it replaced."""
        record = self.record
        offset = self.line_offset
        line_base = (1 + offset) << _COLUMN_BITS  # packed positions: see PositionTree
        anchors: dict[str, tuple[Any, int]] = {}
        duplicates: list[DuplicateKey] = []
        # Open collections, each [container, is_map, key, key_at, anchor, start, merged, children,
        # position]; the last two only when recording: its packed position and its children's entries.
        stack: list[list[Any]] = []
        frame: list[Any] | None = None  # stack[-1]
        container: Any = None  # frame[0]
        in_map = False  # frame[1]
        children: Any = None  # frame[7]
        # The key of the open mapping waiting for its value, and the event that wrote it (for its
        # line); kept in frame[2] and frame[3] while a nested collection is open, where _repeated
        # reads them for a duplicate's pointer.
        pending: Any = _NO_KEY
        pending_at: Any = None
        count = 0  # events, with every alias use counted at the full size of what it repeats
        expanded = 0  # what aliases added to count
        root: Any = None
        have_root = False
        first_mark = None
        words = PLAIN_WORDS
        special_first = PLAIN_SPECIAL_FIRST
        number_start = NUMBER_START
        numbers = _PLAIN_NUMBERS
        scalar_event = ScalarEvent
        mapping_start = MappingStartEvent
        sequence_start = SequenceStartEvent

        while True:
            event = get_event()
            kind = type(event)
            count += 1
            if not count & 0xFFFF:
                _check_open_sizes(stack, event, offset)
            if kind is scalar_event and in_map and pending is _NO_KEY:
                # A key stays the text as written; only `<<` is special.
                tag = event.tag
                if tag is None:
                    pending = event.value
                    if pending == "<<" and event.implicit[0]:
                        pending = _MERGE_KEY
                elif tag in STRING_TAGS:
                    pending = event.value
                elif tag == MERGE and event.value == "<<":
                    pending = _MERGE_KEY  # `!!merge <<`, which go-yaml takes as a merge key too
                else:
                    pending = str(self._scalar(event))
                pending_at = event
                if event.anchor is not None:
                    anchors[event.anchor] = (pending, 1)
                # Its value, in the same turn: nearly always a scalar.
                event = get_event()
                kind = type(event)
                count += 1
                if not count & 0xFFFF:
                    _check_open_sizes(stack, event, offset)
            if kind is scalar_event:
                tag = event.tag
                if tag is None:
                    value: Any = event.value
                    if not value:
                        if event.implicit[0]:
                            value = None
                    elif value[0] in special_first and event.implicit[0]:
                        if value[0] not in number_start:
                            value = words.get(value, value)
                        elif value in numbers:
                            value = numbers[value]
                        else:
                            value = self._plain_number(event)
                else:
                    value = self._scalar(event)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                if in_map:
                    if pending is _MERGE_KEY or pending in container:
                        self._repeated(stack, pending, value, pending_at, duplicates, None)
                    else:
                        container[pending] = value
                        if record:  # a value in a mapping is located at its key
                            mark = pending_at.start_mark
                            children[pending] = line_base + (mark.line << _COLUMN_BITS) + mark.column + 1
                    pending = _NO_KEY
                elif frame is not None:
                    container.append(value)
                    if record:
                        mark = event.start_mark
                        children.append(line_base + (mark.line << _COLUMN_BITS) + mark.column + 1)
                else:
                    first_mark = event.start_mark
                    root, have_root = value, True
                    if record:
                        self.positions = line_base + (first_mark.line << _COLUMN_BITS) + first_mark.column + 1
                continue
            if kind is mapping_start or kind is sequence_start:
                if event.tag not in COLLECTION_TAGS:
                    raise InputError(f"unsupported YAML tag {event.tag!r}", *_mark(event.start_mark, offset))
                if len(stack) >= MAX_DEPTH:
                    raise InputError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event.start_mark, offset))
                if frame is None:
                    first_mark = event.start_mark
                else:
                    frame[2] = pending
                    frame[3] = pending_at
                in_map = kind is mapping_start
                container = {} if in_map else []
                if record:
                    # Located where it starts; a mapping's value is moved to its key when placed.
                    mark = event.start_mark
                    children = {} if in_map else []
                    frame = [container, in_map, _NO_KEY, None, event.anchor, count, None, children,
                             line_base + (mark.line << _COLUMN_BITS) + mark.column + 1]
                else:
                    frame = [container, in_map, _NO_KEY, None, event.anchor, count, None]
                stack.append(frame)
                pending = _NO_KEY
                continue
            if kind is MappingEndEvent or kind is SequenceEndEvent:
                assert frame is not None
                value = container
                entry = [frame[8], children] if record else None
                if frame[4] is not None:
                    anchors[frame[4]] = (value, count - frame[5] + 1)
                stack.pop()
                if stack:
                    frame = stack[-1]
                    container, in_map, pending, pending_at = frame[0], frame[1], frame[2], frame[3]
                    if record:
                        children = frame[7]
                else:
                    frame = container = None
                    in_map = False
            elif kind is AliasEvent:
                anchored = anchors.get(event.anchor)
                if anchored is None:
                    raise InputError(f"alias *{event.anchor} refers to an unknown or enclosing anchor",
                                     *_mark(event.start_mark, offset))
                value, size = anchored
                count += size
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    raise InputError(f"aliases expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?)",
                                     *_mark(event.start_mark, offset))
                if in_map and pending is _NO_KEY:
                    if isinstance(value, (dict, list)):
                        raise InputError("mapping keys must be scalars", *_mark(event.start_mark, offset))
                    pending = value
                    pending_at = event
                    continue
                entry = None  # an alias is located where it is written, not where its anchor is
                if frame is None:  # pragma: no cover - no anchor exists before the root
                    first_mark = event.start_mark
            elif kind is DocumentEndEvent:
                break
            else:  # pragma: no cover - libyaml emits nothing else inside a document
                raise InputError(f"unexpected YAML event {kind.__name__}", *_mark(event.start_mark, offset))

            # A collection or alias value is complete: put it where it belongs. When recording,
            # entry is its position-tree entry (None: a leaf where its event starts).
            if frame is None:
                root, have_root = value, True
                if record:
                    mark = event.start_mark
                    self.positions = (entry if entry is not None
                                      else line_base + (mark.line << _COLUMN_BITS) + mark.column + 1)
            elif not in_map:
                container.append(value)
                if record:
                    mark = event.start_mark
                    children.append(entry if entry is not None
                                    else line_base + (mark.line << _COLUMN_BITS) + mark.column + 1)
            elif pending is _NO_KEY:
                # A mapping or sequence in key position (`? a: b`, `[a]: b`): scalar and alias keys
                # are taken when their event arrives, collections only end up here.
                raise InputError("mapping keys must be scalars", *_mark(event.start_mark, offset))
            else:
                if record:
                    mark = pending_at.start_mark
                    here = line_base + (mark.line << _COLUMN_BITS) + mark.column + 1
                    entry = here if entry is None else [here, entry[1]]
                if pending is _MERGE_KEY or pending in container:
                    self._repeated(stack, pending, value, pending_at, duplicates, entry)
                else:
                    container[pending] = value
                    if record:
                        children[pending] = entry
                pending = _NO_KEY
        if not have_root:
            return None
        assert first_mark is not None
        doc = Document(self.source, index, first_mark.line + 1 + offset, root, duplicates)
        # Character span of the document in this builder's text, from the start of its first line.
        doc.span = (first_mark.index - first_mark.column, event.end_mark.index)
        return doc

    def _repeated(self, stack: list[list[Any]], key: Any, value: Any, key_at: Any,
                  duplicates: list[DuplicateKey], entry: Any) -> None:
        """The placing of a value whose key is `<<` or already in the open mapping; when recording,
        entry is the value's position-tree entry (None for a scalar: a leaf at its key)."""
        frame = stack[-1]
        container = frame[0]
        if frame[6] is None:
            # Keys whose value came from a `<<` merge and was not written in this mapping (yet):
            # writing one of them afterwards is an override, not a duplicate.
            frame[6] = set()
        mark = key_at.start_mark
        here = ((1 + self.line_offset + mark.line) << _COLUMN_BITS) + mark.column + 1
        if key is _MERGE_KEY:
            sources = _merge_into(container, frame[6], value, mark, self.line_offset)
            if self.record:
                # Merged keys are located at the `<<` that brought them in, in the merge's order.
                children = frame[7]
                for source in reversed(sources):
                    for merged in source:
                        children[merged] = here
            return
        if key in frame[6]:
            frame[6].discard(key)  # overrides a merged value: not a duplicate
        else:
            line, column = _mark(mark, self.line_offset)
            path = [open_frame[2] if open_frame[1] else len(open_frame[0]) for open_frame in stack[:-1]]
            pointer = (*path, key)
            duplicates.append(DuplicateKey(pointer, line, column))
            if self.record:
                self.first_positions.setdefault(pointer, _unpack(_entry_position(frame[7][key])))
        container[key] = value
        if self.record:
            frame[7][key] = here if entry is None else entry

    def _plain_number(self, event: ScalarEvent) -> Any:
        """A plain scalar that starts like a number, resolved and remembered: manifests repeat a few
        hundred of them (ports, replicas, sizes) thousands of times."""
        value = self._scalar(event)
        if len(_PLAIN_NUMBERS) < _PLAIN_NUMBERS_MAX and len(event.value) <= 32:
            _PLAIN_NUMBERS[event.value] = value
        return value

    def _scalar(self, event: ScalarEvent) -> Any:
        try:
            return scalar(event)
        except InputError as err:
            raise InputError(err.message, *_mark(event.start_mark, self.line_offset)) from None


# --- which parser builds YAML documents -----------------------------------------------------------

PARSERS = ("libyaml", "rapidyaml")
PARSER_ENV = "KEXLINT_PARSER"
# From the environment so that the whole test suite can run through another parser; the CLI's
# --parser overrides it. Only libyaml is imported unless another is selected.
_parser = os.environ.get(PARSER_ENV) or "libyaml"


def use_parser(name: str) -> None:
    """Select the YAML parser; ImportError (with how to install it) when it is not installed."""
    global _parser
    if name not in PARSERS:
        raise ValueError(f"unknown parser {name!r} (choose from {', '.join(PARSERS)})")
    if name == "rapidyaml":
        try:
            import ryml  # noqa: F401 - only to fail here, once, with a clear line
        except ImportError:
            raise ImportError("--parser rapidyaml needs the rapidyaml package: "
                              "pip install 'kexlint[rapidyaml]'") from None
    _parser = name


def selected_parser() -> str:
    return _parser


def _other_reader() -> Callable[[str, str], Iterator[Document | InputError]]:
    use_parser(_parser)  # the environment's choice is checked when first used
    from .loader_ryml import yaml_documents as ryml_documents

    return ryml_documents


# --- sources -------------------------------------------------------------------------------------

_DOC_SEPARATOR = re.compile(r"^---(?:[ \t]|\r?$)", re.MULTILINE)  # CRLF files too
# A byte order mark where a document starts, on the line after a `---`: files concatenated with
# `echo ---` between them carry their BOMs along, and kubectl drops them and applies every
# document, where libyaml reads the BOM as content. Before a `---` (`cat a.yaml b.yaml` with BOMs)
# kubectl fails on the whole file, so that one stays an error here too.
_DOC_START_BOM = re.compile(r"^(---(?:[ \t][^\n]*)?\r?\n)\ufeff", re.MULTILINE)


def _utf16_without_bom(head: bytes) -> bool:
    """ASCII text as UTF-16: every other byte is zero, the others are not."""
    head = head[:len(head) - len(head) % 2]
    if len(head) < 4:
        return False
    evens, odds = head[0::2], head[1::2]
    return (not any(evens) and all(odds)) or (not any(odds) and all(evens))


def decode(data: bytes) -> str:
    """Bytes → text, as UTF-8 or (with a BOM) UTF-16/32; anything else is an InputError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise InputError(f"invalid UTF-16: {err.reason}", 1, 1) from None
    if _utf16_without_bom(data[:32]):
        # YAML's encoding detection takes `00 xx` / `xx 00` for UTF-16 without a byte order mark;
        # libyaml and go-yaml do not, so kubectl cannot read it either: say what it is.
        raise InputError("UTF-16 text without a byte order mark; save it as UTF-8", 1, 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        what = "binary data" if b"\x00" in data[:8192] else "invalid UTF-8"
        raise InputError(f"not a text file ({what} at byte {err.start})", line, column) from None


def _line_start(text: str, line: int) -> int:
    """Index of the first character of 0-based line `line` (len(text) past the end)."""
    index = 0
    for _ in range(line):
        index = text.find("\n", index) + 1
        if index == 0:
            return len(text)
    return index


def _yaml_locator(text: str, source: str, line_offset: int, span: tuple[int, int] | None = None
                  ) -> Callable[[], Locations]:
    def locate() -> Locations:
        # Slice only when asked: most documents are never located.
        builder = _Builder(text[span[0]:span[1]] if span else text, source, line_offset, record=True)
        for _ in builder.documents():
            break
        return builder.positions, builder.first_positions

    return locate


def _parse_error(err: yaml.MarkedYAMLError, line_offset: int) -> InputError:
    mark = err.problem_mark or err.context_mark
    problem = err.problem or "invalid YAML"
    if "maximum nesting depth" in problem:
        # Newer libyaml builds stop at 1000 levels themselves, in the scanner, which reads ahead of
        # our own count: one message whichever limit trips first.
        problem = f"nesting deeper than {MAX_DEPTH} levels"
    elif err.context:
        problem = f"{problem} ({err.context})"
    if mark is None:
        return InputError(problem)
    return InputError(problem, mark.line + 1 + line_offset, mark.column + 1)


def yaml_documents(text: str, source: str) -> Iterator[Document | InputError]:
    """Every document of a YAML stream; after an error, resume at the next `---` line."""
    if _parser != "libyaml":
        yield from _other_reader()(text, source)
        return
    yield from libyaml_documents(text, source)


def libyaml_documents(text: str, source: str, start: int = 0, line_offset: int = 0, index: int = 0
                      ) -> Iterator[Document | InputError]:
    """yaml_documents through libyaml, from character `start` (the start of a line, with
    `line_offset` lines before it and `index` documents) on: another builder hands over here."""
    if "\ufeff" in text:
        text = _DOC_START_BOM.sub(r"\1", text)
    while True:
        chunk = text[start:] if start else text
        last_line = line_offset
        try:
            for doc in _Builder(chunk, source, line_offset).documents(index):
                index = doc.index + 1
                last_line = doc.line
                doc.locate_fn = _yaml_locator(chunk, source, doc.line - 1, doc.span)
                yield doc
            return
        except InputError as err:
            if not err.line:
                err.line = last_line or line_offset + 1
            yield err
            error_line = err.line
        except yaml.MarkedYAMLError as err:
            error = _parse_error(err, line_offset)
            yield error
            error_line = error.line or last_line + 1
        except yaml.reader.ReaderError as err:
            # A character YAML does not allow (NUL, other control characters); the offset is the
            # position in this chunk, which libyaml counts in bytes of UTF-8: close enough for a line.
            before = chunk[:err.position]
            line = line_offset + before.count("\n") + 1
            yield InputError(f"{err.reason}: character #x{err.character:04x} is not allowed in YAML"
                             if isinstance(err.character, int) else err.reason,
                             line, err.position - (before.rfind("\n") + 1) + 1)
            return
        except yaml.YAMLError as err:
            yield InputError(str(err).splitlines()[0] if str(err) else "invalid YAML", last_line + 1)
            return
        # The error's own line may be the separator of the next document.
        match = _DOC_SEPARATOR.search(text, max(_line_start(text, error_line - 1), start + 1))
        if match is None:
            return
        start = match.start()
        line_offset = text.count("\n", 0, start)
        index += 1


class _DuplicateTracker:
    """object_pairs_hook for json.loads that keeps the last value and remembers repeated keys."""

    def __init__(self) -> None:
        self.repeated: dict[int, list[str]] = {}

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                self.repeated.setdefault(id(result), []).append(key)
            result[key] = value
        return result


def _json_duplicates(value: Any, repeated: dict[int, list[str]], doc: Document) -> list[DuplicateKey]:
    found: list[DuplicateKey] = []
    stack: list[tuple[Pointer, Any]] = [((), value)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, dict):
            for key in repeated.get(id(node), ()):
                line, column = doc.locate((*pointer, key))
                found.append(DuplicateKey((*pointer, key), line, column))
            stack.extend(((*pointer, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*pointer, i), v) for i, v in enumerate(node))
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_locator(text: str, source: str, start: int, end: int, line: int) -> Callable[[], Locations]:
    def locate() -> Locations:
        # JSON is YAML: the value's slice, re-read with positions. What precedes it on its first line
        # (another value of the stream, `{...}{...}`) becomes spaces so that columns stay right.
        line_start = text.rfind("\n", 0, start) + 1
        builder = _Builder(" " * (start - line_start) + text[start:end], source, line - 1, record=True)
        for _ in builder.documents():
            break
        return builder.positions, builder.first_positions

    return locate


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_error(text: str, position: int, message: str) -> InputError:
    line = text.count("\n", 0, position) + 1
    return InputError(f"invalid JSON: {message}", line, position - (text.rfind("\n", 0, position) + 1) + 1)


def json_documents(text: str, source: str) -> Iterator[Document | InputError]:
    """Every value of a JSON stream (`{...}\n{...}` or `{...}{...}`), each its own document, as
    kubectl's decoder reads one value after another; an error ends the stream, since a JSON value
    has no separator to resume at."""
    import json  # here: JSON input is rare, and json costs ~3 ms of start-up to import

    position = _JSON_SPACE.match(text).end()  # type: ignore[union-attr]
    index = 0
    line, counted = 1, 0  # lines counted as the stream goes: a count from the start would be quadratic
    while position < len(text) or index == 0:
        # A tracker per value: it keys repeated keys by id(), and ids are reused once a value is freed.
        tracker = _DuplicateTracker()
        decoder = json.JSONDecoder(object_pairs_hook=tracker, parse_constant=_reject_constant)
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            yield _json_error(text, err.pos, err.msg)
            return
        except ValueError as err:
            yield _json_error(text, position, str(err))
            return
        except RecursionError:
            yield _json_error(text, position, "nesting too deep")
            return
        line += text.count("\n", counted, position)
        counted = position
        doc = Document(source, index, line, value, span=(position, end),
                       locate_fn=_json_locator(text, source, position, end, line))
        if tracker.repeated:
            doc.duplicates = _json_duplicates(value, tracker.repeated, doc)
        yield doc
        index += 1
        position = _JSON_SPACE.match(text, end).end()  # type: ignore[union-attr]


def looks_like_json(name: str, text: str) -> bool:
    """JSON by file name; for stdin, by its first character (YAML streams rarely start with `{`)."""
    if name.endswith(".json"):
        return True
    return not name.endswith((".yaml", ".yml")) and text.lstrip()[:1] == "{"


def read_documents(text: str, source: str, is_json: bool | None = None) -> Iterator[Document | InputError]:
    """Documents of one source's text; errors come out in the stream instead of being raised."""
    if is_json if is_json is not None else source.endswith(".json"):
        if not text.strip():
            return  # an empty .json file holds nothing to lint, as an empty .yaml file does
        yield from json_documents(text, source)
        return
    if text.lstrip()[:1] == "{":
        # kubectl takes a stream that starts with `{` for JSON, so `{...}\n{...}` in a .yaml file is
        # two objects, where YAML sees one flow mapping and garbage. One value alone (or YAML flow
        # style JSON cannot read) keeps the YAML reading.
        stream = list(json_documents(text, source))
        if len(stream) > 1 and not any(isinstance(doc, InputError) for doc in stream):
            yield from stream
            return
    yield from yaml_documents(text, source)
