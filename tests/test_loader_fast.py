"""The libyaml builder's fast paths (issue 13) against the builder they replaced
(tests/loader_reference.py): the same values with their types, document indexes, lines and spans,
duplicate keys with their lines, errors with line and column, limits, and position trees."""

from __future__ import annotations

import random
import sys
from typing import Any

import loader_reference
import pytest
import yaml
from test_hostile import ERROR_CASES, KEY_BOMB, LIST_BOMB, MAP_BOMB, MERGE_BOMB

from kexlint import loader, scalars
from kexlint.errors import InputError


def strict(value: Any) -> str:
    """Types spelled out: repr tells True from 1 and 1.0 from 1, and keeps the order of keys. Position
    trees of 511 levels are 1022 deep, past the recursion limit repr honours."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        return repr(value)
    finally:
        sys.setrecursionlimit(limit)


def reading(builder_class: type, text: str, record: bool, line_offset: int = 3) -> list[Any]:
    """Everything a builder makes of a stream, up to and including its error."""
    builder = builder_class(text, "t.yaml", line_offset, record=record)
    out: list[Any] = []
    try:
        for doc in builder.documents(2):
            out.append((doc.index, doc.line, doc.span, strict(doc.value),
                        [(d.pointer, d.line, d.column) for d in doc.duplicates]))
            if record:
                out.append((strict(builder.positions), sorted(builder.first_positions.items(), key=repr)))
    except InputError as err:
        out.append(("InputError", err.message, err.line, err.column))
    except yaml.YAMLError as err:
        out.append((type(err).__name__, str(err)))
    return out


def assert_same(text: str) -> None:
    for record in (False, True):
        assert reading(loader._Builder, text, record) == reading(loader_reference._Builder, text, record), (
            record, text)


# --- hand-written cases: each of the builder's branches ---------------------------------------------

CASES = [
    "a: 1\nb: [x, {c: yes}]\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: [1, 2]\n  d: {e: 1, e: 2}\n",
    "- {a: 1, a: 2}\n- [{b: 1}, {b: 1, b: 2}]\n",
    "x: &a {p: 1}\ny: *a\nz: [*a, *a]\n",
    "k: &s scalar\n*s : value\nm: {*s : v, *s : w}\n",
    "base: &b {hostNetwork: true, x: 1}\nspec:\n  hostNetwork: false\n  <<: *b\n  x: 2\n  x: 3\n",
    "a: &a {p: 1}\nb: &b {q: 2, p: 3}\nc: {<<: [*a, *b], r: 4, p: 5}\n",
    "c: {<<: {p: 1}, p: 2}\nd: {!!merge <<: {p: 1}}\ne: {'<<': 1}\nf: {\"<<\": 1}\n",
    "c: {<<: 1}\n",
    "c: {<<: [{a: 1}, 2]}\n",
    "a: &m <<\nb: {*m : {x: 1}}\nc: *m\n",
    "&m <<: {a: 1}\nb: *m\n",
    "l: &l [a, b]\nm: {*l : x}\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    "[a]: b\n",
    "a: *nope\n",
    "a: &x [1, *x]\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "v: !!python/object:os.system x\n",
    "v: !custom x\n",
    "!custom k: v\n",
    "!!int 3: v\n!!float 1: w\n!!bool yes: x\n!!null ~: y\n",
    "v: [!!int 12, !!int '12', !!float 1, !!bool on, !!null '', !!str 1, ! 1, !!binary aGk=, !!timestamp 2001-01-01]\n",
    "v: !!int abc\n",
    "v: !!int ''\n",
    "v: !!float x\n",
    "v: !!map {a: 1}\nw: !!seq [1]\nx: !!omap [{a: 1}]\ny: !!set {a: ~}\n",
    "v: !!str {a: 1}\n",
    "v: !!map [1]\n",
    "v: 0x" + "f" * 300 + "\n",
    "v: " + "9" * 400 + "\n",
    "v: !!int " + "9" * 400 + "\n",
    "v: [" + ", ".join(scalars.PLAIN_WORDS) + "]\n",
    "v: [" + ", ".join(f"'{w}'" for w in scalars.PLAIN_WORDS) + "]\n",
    "{" + ", ".join(f"{w}: {w}" for w in scalars.PLAIN_WORDS) + "}\n",
    "v: [0, 00, 017, 0o17, 0x1F, -0x1F, +1, -0, 0., 1., -.5, .5, 1e4, 1E+3, 1_000, 0_8080, 08080, .inf, -.Inf, "
    "+.inf, .NaN, .nan, 12:30, 2024-01-01, 10.0.0.1, 1.2.3, 0x, 1e, 0b101, 0b2, +, -, ., 1__0, ++1, '1']\n",
    "v:\nw: ~\nx: ''\ny: \"\"\nz: !!null\n",
    "",
    "# only a comment\n",
    "---\n---\n",
    "--- 1\n--- a\n--- [1]\n--- *x\n",
    "--- &r {a: 1}\n--- &r [1]\n",
    "a: 1\n---\nb: 2\n...\n---\nc: [3\n",
    "a: b: c\n",
    "a:\n  - b\n  c: d\n",
    "k: 'x\n",
    "k: \"\\x01\\0\"\n",
    "\ufeffk: v\n",
    "a: |\n  x\n  y\nb: >-\n  z\n\n  w\n",
    "é: ü\n\"\\u00e9\": 1\n",
    "a: 1\r\nb: 2\r\na: 3\r\n",
    "s: [[[[[[[[[[1]]]]]]]]]]\n",
    "- - - - a\n    - b\n  - c\n",
    LIST_BOMB,
    MAP_BOMB,
    KEY_BOMB,
    MERGE_BOMB,
    "wide: &w [" + ",".join(["x"] * 3000) + "]\nrefs: [" + ",".join(["*w"] * 100) + "]\n",
    "a: " + "[" * 600 + "]" * 600 + "\n",
    "a: " + "{a: " * 600 + "1" + "}" * 600 + "\n",
    "- " * 600 + "x\n",
    "a: " + "[" * 511 + "]" * 511 + "\n",
]


@pytest.mark.parametrize("text", CASES)
def test_cases_read_as_before(text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize("name", [n for n in ERROR_CASES if n.startswith(("bomb", "deep", "alias", "complex"))])
def test_hostile_cases_read_as_before(name: str) -> None:
    assert_same(ERROR_CASES[name].text.decode())


@pytest.mark.parametrize("shape", ["mapping", "mapping-shifted", "sequence", "nested"])
def test_collection_limit_trips_at_the_same_event(shape: str) -> None:
    # The count of entries is checked every 65,536 events; the fast path takes a key and its value in one
    # turn, so the check must land on the same event (key or value) as before: both parities.
    n = loader.MAX_COLLECTION_ITEMS + 50_000
    text = {
        "mapping": "{" + ", ".join(f"k{i}: v" for i in range(n)) + "}\n",  # the check lands on a key
        "mapping-shifted": "[{" + ", ".join(f"k{i}: v" for i in range(n)) + "}]\n",  # on a value
        "sequence": "[" + ", ".join("x" for _ in range(n)) + "]\n",
        "nested": "a: [{" + ", ".join(f"k{i}: [v]" for i in range(n)) + "}]\n",
    }[shape]
    expected = reading(loader_reference._Builder, text, False)
    assert expected[-1][0] == "InputError", expected[-1]
    assert reading(loader._Builder, text, False) == expected


# --- random streams ----------------------------------------------------------------------------------

_KEYS = ["k", "a b", "80", "on", "yes", "'q'", '"d"', "'<<'", "!!str 1", "!!int 7", "~", "null", "1.5",
         "&ka k", "*ka", "*kb", "x", "x", "y", "? z\n"]
_VALUES = ["a", "b c", "80", "-1", "1.5", "1e3", "0x1F", "017", "0o17", "1_000", ".inf", ".NaN", "yes", "on", "off",
           "y", "n", "~", "null", "true", "", "'q'", '"q"', '"a\\tb"', "'it''s'", "[1, 2]", "{k: v}", "{}", "[]",
           "{k: v, k: w}", "&va v", "&vb {p: 1}", "&vc [1]", "*va", "*vb", "*vc", "!!int 12", "!!bool on",
           "!!float 1", "!!null ''", "! 12", "12:30", "2024-01-01", "é", "[*va, *vb]", "{<<: *vb}", "{<<: [*vb, *vb]}",
           "|\n  text\n", ">-\n  a\n  b\n", "{a: [b, {c: d}]}", "[a, {b: c}, [d]]", "&ka kk", "*ka"]
# Rarely: what ends the stream with an error.
_BAD = ["*nope", "!!int x", "!x y", "!!str {a: 1}", "?", "a: b", "- x", "[a]: b", "*vc : x", "{<<: 1}"]
# Anchors the keys and values above refer to, written first in most documents.
_PRELUDE = "anchors: {ka: &ka k, kb: &kb kb, va: &va v, vb: &vb {p: 1, q: [2]}, vc: &vc [1], m: &m {m: 1}}\n"


def _value(rnd: random.Random, pad: str) -> str:
    return rnd.choice(_BAD if rnd.random() < 0.02 else _VALUES).replace("\n", "\n" + pad)


def _random_block(rnd: random.Random, indent: int, depth: int) -> list[str]:
    lines = []
    pad = " " * indent
    for _ in range(rnd.randint(1, 5)):
        key = rnd.choice(_KEYS)
        roll = rnd.random()
        if depth < 4 and roll < 0.25:
            lines.append(pad + key + ":" + rnd.choice(["", "", " &n", " !!map"]))
            lines += _random_block(rnd, indent + 2, depth + 1)
        elif depth < 4 and roll < 0.4:
            lines.append(pad + key + ":")
            for _ in range(rnd.randint(1, 3)):
                if rnd.random() < 0.3:
                    sub = _random_block(rnd, indent + 4, depth + 1)
                    lines.append(pad + "  - " + sub[0].lstrip())
                    lines += sub[1:]
                else:
                    lines.append(pad + "  - " + _value(rnd, pad + "    "))
        elif roll < 0.5:
            lines.append(pad + "<<: " + rnd.choice(["*vb", "[*vb, *m]", "{q: 1, k: 2}", "*m", "*m", "*vb", "*n",
                                                    "*va"]))
        else:
            lines.append(pad + key + ": " + _value(rnd, pad + "  "))
    return lines


@pytest.mark.parametrize("seed", range(4))
def test_random_streams_read_as_before(seed: int) -> None:
    rnd = random.Random(1300 + seed)
    for _ in range(400):
        docs = [("" if rnd.random() < 0.1 else _PRELUDE) + "\n".join(_random_block(rnd, 0, 0)) + "\n"
                for _ in range(rnd.randint(1, 3))]
        text = rnd.choice(["", "---\n", "# c\n", "--- &r\n"]) + "---\n".join(docs)
        assert_same(text)


# --- scalars -----------------------------------------------------------------------------------------

def test_plain_words_are_what_the_resolvers_say() -> None:
    # Every word PyYAML's bool and null resolvers accept, from their own regexps' alternatives.
    words = {"y", "Y", "n", "N", "~"}
    for first in "yYnNtTfFoO~":
        for tag, regexp in scalars.RESOLVERS.get(first, []):
            if tag.endswith((":bool", ":null")):
                words |= {w for w in regexp.pattern.replace("^(?:", "").replace(")$", "").replace(" ", "")
                          .replace("\n", "").split("|") if w and w != "~"}
    assert set(scalars.PLAIN_WORDS) == words
    for word, value in scalars.PLAIN_WORDS.items():
        assert strict(scalars._resolve_plain(word)) == strict(value), word
    assert not set(scalars.PLAIN_WORDS) & {w for w in words if w[0] in scalars.NUMBER_START}


def test_the_shortcut_resolves_as_resolve_plain() -> None:
    rnd = random.Random(13)
    alphabet = "yYnNtTfFoO~aelrsuE0123456789.+-_:x "
    # Not with a final line break: PyYAML's regexps end in `$`, which takes "yes\n" for a bool, but no
    # plain scalar ends with one (libyaml folds or drops trailing breaks; see the test below).
    samples = [w + s for w in scalars.PLAIN_WORDS for s in ("", "s", " ", "\nx", "_")]
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))) for _ in range(20_000)]
    for text in samples:
        try:
            expected = strict(scalars._resolve_plain(text))
        except InputError as err:
            with pytest.raises(InputError, match=err.message):
                scalars.resolve_plain(text)
            continue
        assert strict(scalars.resolve_plain(text)) == expected, text


@pytest.mark.parametrize("text", ["a: yes\n\n", "a: yes\n  \n\n", "- on\n\n\n- b", "a: [yes\n\n]", "a: no\n  \n  x\n",
                                  "a: ~\n#c\n", "? yes\n\n: 1\n"])
def test_no_plain_scalar_ends_with_a_line_break(text: str) -> None:
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.ScalarEvent):
            assert not event.value.endswith(("\n", "\r")), event


def test_remembered_numbers_are_bounded_and_right() -> None:
    text = "v: [" + ", ".join(str(i) for i in range(2 * loader._PLAIN_NUMBERS_MAX)) + ", 1_0, 1e3, 0o17]\n"
    for _ in range(2):  # the second reading takes them from the table
        assert_same(text)
    assert len(loader._PLAIN_NUMBERS) <= loader._PLAIN_NUMBERS_MAX
    assert all(type(v) in (int, float, str, bool, type(None)) for v in loader._PLAIN_NUMBERS.values())
