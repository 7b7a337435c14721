"""JSON Schema conditions of the rules, evaluated without importing jsonschema.

Importing jsonschema costs 45-90 ms (referencing, attrs, format checkers), more than the rest of a
one-file lint, and the rule conditions use a handful of keywords. A schema made only of the keywords
below is compiled here into nested closures giving the same errors, in the same order, as
`Draft202012Validator.iter_errors` (path and instance, which is all a finding uses); any other shape
returns None and the rule uses jsonschema, which stays the reference (tests/test_schemafast.py).

Closures rather than generated source cached by digest: compiling these schemas takes microseconds,
so a cache would only add file I/O and a second copy of every condition to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

# (path relative to the value checked, instance at the error)
Error = tuple[tuple["Any", ...], "Any"]  # quoted: typing stays unimported at run time
Check = Callable[["Any"], Iterator[Error]]

# Keywords that never produce an error (format is an annotation without a format checker).
_ANNOTATIONS = {"$schema", "$comment", "title", "description", "default", "examples", "format"}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # As jsonschema's draft 4+ checker: 1.0 is an integer, True is not.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


class Unsupported(Exception):
    pass


def equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: true is not 1, 1.0 is 1, containers compared item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return bool(one == two)


def compile_schema(schema: Any) -> Check | None:
    """The schema as a function value → errors, or None when it uses anything not handled here."""
    if schema is False:
        return lambda value: iter((((), value),))
    try:
        return _compile(schema)
    except Unsupported:
        return None


def _nothing(value: Any) -> Iterator[Error]:
    return iter(())


def _compile(schema: Any) -> Check:
    if schema is True:
        return _nothing
    if not isinstance(schema, dict):
        # A nested `false` included: jsonschema reports its error without the path below (4.26).
        raise Unsupported
    parts = [_keyword(key, sub, schema) for key, sub in schema.items() if key not in _ANNOTATIONS]
    parts = [p for p in parts if p is not None]
    if not parts:
        return _nothing
    if len(parts) == 1:
        return parts[0]

    def check(value: Any) -> Iterator[Error]:
        for part in parts:
            yield from part(value)
    return check


def _valid(check: Check) -> Callable[[Any], bool]:
    return lambda value: next(check(value), None) is None


def _keyword(key: str, sub: Any, schema: dict[str, Any]) -> Check | None:  # noqa: C901 - one branch a keyword
    if key == "type":
        names = [sub] if isinstance(sub, str) else sub
        if not isinstance(names, list) or not all(n in _TYPES for n in names):
            raise Unsupported
        tests = [_TYPES[n] for n in names]

        def check_type(value: Any) -> Iterator[Error]:
            if not any(test(value) for test in tests):
                yield (), value
        return check_type
    if key == "const":
        def check_const(value: Any) -> Iterator[Error]:
            if not equal(value, sub):
                yield (), value
        return check_const
    if key == "enum":
        if not isinstance(sub, list):
            raise Unsupported

        def check_enum(value: Any) -> Iterator[Error]:
            if not any(equal(value, each) for each in sub):
                yield (), value
        return check_enum
    if key == "not":
        valid = _valid(_compile(sub))

        def check_not(value: Any) -> Iterator[Error]:
            if valid(value):
                yield (), value
        return check_not
    if key == "properties":
        if not isinstance(sub, dict):
            raise Unsupported
        props = [(name, _compile(s)) for name, s in sub.items()]

        def check_properties(value: Any) -> Iterator[Error]:
            if isinstance(value, dict):
                for name, check in props:
                    if name in value:
                        for path, instance in check(value[name]):
                            yield (name, *path), instance
        return check_properties
    if key == "items":
        if "prefixItems" in schema:
            raise Unsupported
        if sub is False:
            def check_no_items(value: Any) -> Iterator[Error]:
                if isinstance(value, list) and value:
                    yield (), value
            return check_no_items
        each = _compile(sub)

        def check_items(value: Any) -> Iterator[Error]:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    for path, instance in each(item):
                        yield (index, *path), instance
        return check_items
    if key in ("minItems", "maxItems"):
        if type(sub) is not int:
            raise Unsupported
        too_few = key == "minItems"

        def check_count(value: Any) -> Iterator[Error]:
            if isinstance(value, list) and (len(value) < sub if too_few else len(value) > sub):
                yield (), value
        return check_count
    if key == "required":
        if not isinstance(sub, list):
            raise Unsupported

        def check_required(value: Any) -> Iterator[Error]:
            if isinstance(value, dict):
                for name in sub:
                    if name not in value:
                        yield (), value
        return check_required
    if key == "if":
        valid = _valid(_compile(sub))
        then = _compile(schema["then"]) if "then" in schema else None
        otherwise = _compile(schema["else"]) if "else" in schema else None

        def check_if(value: Any) -> Iterator[Error]:
            branch = then if valid(value) else otherwise
            if branch is not None:
                yield from branch(value)
        return check_if
    if key in ("then", "else"):
        return None  # applied by "if"; alone they do nothing
    if key == "allOf":
        if not isinstance(sub, list):
            raise Unsupported
        subs = [_compile(s) for s in sub]

        def check_all(value: Any) -> Iterator[Error]:
            for check in subs:
                yield from check(value)
        return check_all
    if key == "anyOf":
        if not isinstance(sub, list):
            raise Unsupported
        valids = [_valid(_compile(s)) for s in sub]

        def check_any(value: Any) -> Iterator[Error]:
            if not any(valid(value) for valid in valids):
                yield (), value
        return check_any
    raise Unsupported
