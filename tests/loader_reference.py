"""The libyaml builder as it was before issue 13 made it cheaper (kexlint/loader.py at aaf3910), kept
unchanged as the oracle of tests/test_loader_fast.py: values, duplicates, errors and positions of the
new builder must be exactly these."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from yaml.cyaml import CParser as _Parser
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

from kexlint.errors import InputError
from kexlint.loader import (
    _COLUMN_BITS,
    _MERGE_KEY,
    _NO_KEY,
    MAX_COLLECTION_ITEMS,
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    Document,
    DuplicateKey,
    Pointer,
    Position,
    PositionTree,
    _entry_position,
    _unpack,
)
from kexlint.scalars import COLLECTION_TAGS, MERGE, RESOLVERS, STRING_TAGS, scalar


class _Frame:
    __slots__ = ("container", "is_map", "key", "key_mark", "anchor", "start_count", "merged", "position",
                 "children")

    def __init__(self, container: Any, is_map: bool, anchor: str | None, start_count: int) -> None:
        self.container = container
        self.is_map = is_map
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.anchor = anchor
        self.start_count = start_count
        # Keys whose value came from a `<<` merge and was not written in this mapping (yet): writing
        # one of them afterwards is an override, not a duplicate.
        self.merged: set[Any] | None = None
        # Only when recording positions: this container's packed position and its children's entries.
        self.position = 0
        self.children: Any = None


def _path(stack: list[_Frame]) -> list[Any]:
    path: list[Any] = []
    for frame in stack[:-1]:
        path.append(frame.key if frame.is_map else len(frame.container))
    return path


def _mark(mark: Any, line_offset: int) -> Position:
    return (mark.line + 1 + line_offset, mark.column + 1)


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
        # One loop over the document's events with no call per value: this is the hot path, and
        # Python function calls would cost more than libyaml's parsing.
        record = self.record
        offset = self.line_offset
        line_base = (1 + offset) << _COLUMN_BITS

        def packed(mark: Any) -> int:  # only when recording: a call per value is affordable there
            return line_base + (mark.line << _COLUMN_BITS) + mark.column + 1

        anchors: dict[str, tuple[Any, int]] = {}
        duplicates: list[DuplicateKey] = []
        stack: list[_Frame] = []
        frame: _Frame | None = None  # stack[-1]
        count = 0  # events, with every alias use counted at the full size of what it repeats
        expanded = 0  # what aliases added to count
        root: Any = None
        have_root = False
        first_mark = None

        while True:
            event = get_event()
            kind = type(event)
            count += 1
            if not count & 0xFFFF:
                # Now and then rather than per value: the hot loop stays as it is.
                for open_frame in stack:
                    if len(open_frame.container) > MAX_COLLECTION_ITEMS:
                        raise InputError(f"a {'mapping' if open_frame.is_map else 'sequence'} with more than "
                                         f"{MAX_COLLECTION_ITEMS:,} entries", *_mark(event.start_mark, offset))
            if first_mark is None:
                first_mark = event.start_mark
            if kind is ScalarEvent:
                if frame is not None and frame.is_map and frame.key is _NO_KEY:
                    # A key stays the text as written; only `<<` is special.
                    tag = event.tag
                    if tag is None or tag in STRING_TAGS:
                        key = event.value
                        if key == "<<" and tag is None and event.implicit[0]:
                            key = _MERGE_KEY
                    elif tag == MERGE and event.value == "<<":
                        key = _MERGE_KEY  # `!!merge <<`, which go-yaml takes as a merge key too
                    else:
                        key = str(self._scalar(event))
                    frame.key = key
                    frame.key_mark = event.start_mark
                    if event.anchor is not None:
                        anchors[event.anchor] = (key, 1)
                    continue
                tag = event.tag
                if tag is None:
                    value: Any = event.value
                    if event.implicit[0] and (not value or value[0] in RESOLVERS):
                        value = self._scalar(event)
                else:
                    value = self._scalar(event)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                mark = event.start_mark
                entry = None
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.tag not in COLLECTION_TAGS:
                    raise InputError(f"unsupported YAML tag {event.tag!r}", *_mark(event.start_mark, offset))
                if len(stack) >= MAX_DEPTH:
                    raise InputError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event.start_mark, offset))
                is_map = kind is MappingStartEvent
                frame = _Frame({} if is_map else [], is_map, event.anchor, count)
                if record:
                    # Located where it starts; a mapping's value is moved to its key when placed.
                    frame.position = packed(event.start_mark)
                    frame.children = {} if is_map else []
                stack.append(frame)
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                assert frame is not None
                value = frame.container
                entry = [frame.position, frame.children] if record else None
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, count - frame.start_count + 1)
                stack.pop()
                frame = stack[-1] if stack else None
                mark = event.start_mark
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
                if frame is not None and frame.is_map and frame.key is _NO_KEY:
                    if isinstance(value, (dict, list)):
                        raise InputError("mapping keys must be scalars", *_mark(event.start_mark, offset))
                    frame.key = value
                    frame.key_mark = event.start_mark
                    continue
                mark = event.start_mark
                entry = None
            elif kind is DocumentEndEvent:
                break
            else:  # pragma: no cover - libyaml emits nothing else inside a document
                raise InputError(f"unexpected YAML event {kind.__name__}", *_mark(event.start_mark, offset))

            # The value is complete: put it where it belongs. When recording, entry is its
            # position-tree entry (None: a leaf at mark).
            if frame is None:
                root, have_root = value, True
                if record:
                    self.positions = entry if entry is not None else packed(mark)
            elif not frame.is_map:
                if record:
                    frame.children.append(entry if entry is not None else packed(mark))
                frame.container.append(value)
            else:
                key = frame.key
                if key is _NO_KEY:
                    # A mapping or sequence in key position (`? a: b`, `[a]: b`): scalar and alias keys
                    # are taken when their event arrives, collections only end up here.
                    raise InputError("mapping keys must be scalars", *_mark(mark, offset))
                frame.key = _NO_KEY
                if key is _MERGE_KEY:
                    self._merge(frame, value, packed(frame.key_mark) if record else 0)
                    continue
                container = frame.container
                if key in container:
                    if frame.merged is not None and key in frame.merged:
                        frame.merged.discard(key)  # overrides a merged value: not a duplicate
                    else:
                        line, column = _mark(frame.key_mark, offset)
                        pointer = (*_path(stack), key)
                        duplicates.append(DuplicateKey(pointer, line, column))
                        if record:
                            self.first_positions.setdefault(
                                pointer, _unpack(_entry_position(frame.children[key])))
                if record:
                    # A value in a mapping is located at its key.
                    here = packed(frame.key_mark)
                    frame.children[key] = here if entry is None else [here, entry[1]]
                container[key] = value
        if not have_root:
            return None
        assert first_mark is not None
        doc = Document(self.source, index, first_mark.line + 1 + offset, root, duplicates)
        # Character span of the document in this builder's text, from the start of its first line.
        doc.span = (first_mark.index - first_mark.column, event.end_mark.index)
        return doc

    def _scalar(self, event: ScalarEvent) -> Any:
        try:
            return scalar(event)
        except InputError as err:
            raise InputError(err.message, *_mark(event.start_mark, self.line_offset)) from None

    def _merge(self, frame: _Frame, value: Any, here: int) -> None:
        """Apply `<<: value` to the open mapping where it is written, as go-yaml v2 does
        (sigs.k8s.io/yaml, so kubectl and the apiserver): it overrides keys written before it and is
        overridden by keys written after it; in a list, earlier mappings win. The YAML 1.1 draft (and
        PyYAML) let explicit keys always win, which reads `hostNetwork: false` followed by
        `<<: *hostnet` as false while Kubernetes runs the pod with host networking.
        Merged keys are located at the `<<` (here, packed) that brought them in."""
        merged = value if isinstance(value, list) else [value]
        if not all(isinstance(m, dict) for m in merged):
            raise InputError("merge key '<<' needs a mapping or a list of mappings",
                             *_mark(frame.key_mark, self.line_offset))
        container = frame.container
        if frame.merged is None:
            frame.merged = set()
        for source in reversed(merged):
            for key, item in source.items():
                if key not in container:
                    frame.merged.add(key)
                container[key] = item
                if self.record:
                    frame.children[key] = here

