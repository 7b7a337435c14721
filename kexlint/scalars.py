"""Scalars read the way Kubernetes reads YAML: YAML 1.1 types (go-yaml v2 via sigs.k8s.io/yaml),
with only JSON-like tags accepted."""

from __future__ import annotations

import re

from yaml.constructor import SafeConstructor
from yaml.events import ScalarEvent
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

# Kubernetes integers are int64; far bigger ones are refused so that no later str() of them hits
# Python's 4300-digit conversion limit (0x… literals are not subject to it when parsed).
MAX_INT_BITS = 1024

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Tags that name a plain JSON-like value; anything else (!!python/object, custom tags) is refused
# rather than constructed or silently read as a string.
STRING_TAGS = {_STR, "tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp", "!"}
COLLECTION_TAGS = {None, "!", _MAP, _SEQ, "tag:yaml.org,2002:omap", "tag:yaml.org,2002:set"}

RESOLVERS = Resolver.yaml_implicit_resolvers
_constructor = SafeConstructor()
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _construct(tag: str, value: str) -> Any:
    if tag == _STR or tag in STRING_TAGS:
        return value
    try:
        if tag == _BOOL:
            return _constructor.construct_yaml_bool(ScalarNode(tag, value))
        if tag == _INT:
            number = _constructor.construct_yaml_int(ScalarNode(tag, value))
            if number.bit_length() > MAX_INT_BITS:
                raise InputError(f"integer of more than {MAX_INT_BITS} bits")
            return number
        if tag == _FLOAT:
            return _constructor.construct_yaml_float(ScalarNode(tag, value))
    except (ValueError, KeyError, IndexError):
        # Only an explicit tag gets here with text that does not fit it (`!!int abc`, `!!int ''`), or
        # an integer over Python's 4300-digit conversion limit.
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise InputError(f"{shown!r} is not a valid {tag.rsplit(':', 1)[-1]}") from None
    if tag == _NULL:
        return None
    raise InputError(f"unsupported YAML tag {tag!r}")


# go-yaml v2, which Kubernetes reads YAML with (sigs.k8s.io/yaml), also takes y/Y/n/N as booleans;
# PyYAML's resolver does not.
_SHORT_BOOLS = {"y": True, "Y": True, "n": False, "N": False}


_NUMBER_START = frozenset("+-0123456789.")
_SPECIAL_FLOATS = {".inf", ".nan"}
# go-yaml v2's resolve.go: what a plain scalar must look like to be tried as a float.
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _go_parse_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64): 0x/0o/0b prefixes and a leading 0 for octal."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text[1:] if text[:1] == "+" else text)
    if not body:
        return None
    base, digits = 10, body
    lowered = body[:2].lower()
    if lowered in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[lowered], body[2:]
    elif body[0] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    if not digits or not digits.isascii() or not digits.isalnum():
        return None
    if len(digits) > MAX_INT_BITS:  # before int(): Python refuses more than 4300 decimal digits
        return _construct(_INT, text)  # raises the usual "not a valid int" / "more than N bits"
    try:
        number = sign * int(digits, base)
    except ValueError:
        return None
    if number.bit_length() > MAX_INT_BITS:
        raise InputError(f"integer of more than {MAX_INT_BITS} bits")
    # Past int64 go-yaml reads a float; kept as an int here so the message shows the digits written.
    return number


def _go_yaml_number(value: str) -> int | float | None:
    """A plain scalar as go-yaml v2 (which kubectl and sigs.k8s.io/yaml use) resolves a number:
    underscores dropped, Go's integer syntax, then its float syntax. `08080`, `0_8080` and `1e4`
    are floats there (integral ones reach the apiserver as JSON integers); `0o17620` is an int."""
    if value[0] == ".":
        try:
            return float(value) if _YAML_STYLE_FLOAT.match(value) else None
        except ValueError:
            return None
    plain = value.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _YAML_STYLE_FLOAT.match(plain):
        return float(plain)
    return None


def _resolve_plain(value: str) -> Any:
    """A plain scalar read the way Kubernetes reads YAML 1.1 (yes/no/on/off/y/n are booleans)."""
    if not value:
        return None
    if len(value) == 1 and value in _SHORT_BOOLS:
        return _SHORT_BOOLS[value]
    if value.isdigit() and (value[0] != "0" or value == "0") and value.isascii() and len(value) < 300:
        return int(value)  # the common case of the int resolver, without its regex and constructor
    if value[0] in _NUMBER_START:
        number = _go_yaml_number(value)
        if number is not None:
            return number
        if value.lstrip("+-").lower() not in _SPECIAL_FLOATS:
            # go-yaml v2 reads no sexagesimal (1:30) or other YAML 1.1 number forms: a string.
            return value
    resolvers = RESOLVERS.get(value[0])
    if resolvers is None:
        return value
    for tag, regexp in resolvers:
        if regexp.match(value):
            if tag == _TIMESTAMP or tag == MERGE or tag == "tag:yaml.org,2002:value":
                return value
            return _construct(tag, value)
    return value


# The plain scalars that _resolve_plain reads as something other than a string and that do not start
# like a number: YAML 1.1 booleans and nulls, plus go-yaml's y/n. With PLAIN_SPECIAL_FIRST they let
# the loader resolve the common plain string (a name, an image) with a set test and no call; what
# starts like a number still goes through _resolve_plain. tests/test_scalars_fast.py checks the table
# against _resolve_plain and PyYAML's resolvers.
PLAIN_WORDS: dict[str, Any] = {
    **_SHORT_BOOLS,
    **{word: True for word in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{word: False for word in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")},
    **{word: None for word in ("~", "null", "Null", "NULL")},
}
NUMBER_START = _NUMBER_START
PLAIN_SPECIAL_FIRST = frozenset(word[0] for word in PLAIN_WORDS) | _NUMBER_START


def resolve_plain(value: str) -> Any:
    """_resolve_plain with the shortcuts the loader takes inline (the reference for tests)."""
    if not value:
        return None
    if value[0] not in PLAIN_SPECIAL_FIRST:
        return value
    if value[0] in _NUMBER_START:
        return _resolve_plain(value)
    return PLAIN_WORDS.get(value, value)


def scalar(event: ScalarEvent) -> Any:
    tag = event.tag
    if tag is None:
        if event.implicit[0]:
            return _resolve_plain(event.value)
        return event.value
    if tag == "!":
        return event.value
    return _construct(tag, event.value)
