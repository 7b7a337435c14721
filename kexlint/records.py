"""Record classes as `@dataclasses.dataclass` makes them, for the shapes kexlint uses, without
importing dataclasses.

That import pulls in inspect, ast, dis and tokenize: 15 ms of a one-file lint here (python -c
'import yaml, dataclasses' against 'import yaml'), and dataclass() then compiles each generated
method on its own, ~0.5 ms a class for the 31 classes defined before the first file is read. Here
only __init__ is compiled, the rest are closures: ~0.15 ms a class.

Supported: `@dataclass` and `@dataclass(frozen=True)` over annotated fields with or without
defaults, `field(default=..., default_factory=..., repr=...)`, and `replace()`. The methods are
those dataclasses writes, with the same behaviour (tests/test_records.py compares them): __init__,
__repr__, __eq__, __hash__ (frozen: of the fields; not frozen: None, unhashable), a frozen record's
__setattr__/__delattr__ raising FrozenInstanceError, __match_args__. Anything else (inheriting from
a record, ClassVar, other options) is refused rather than half done: use dataclasses there, as the
webhook, cluster and fix packages do.
"""

from __future__ import annotations

from _thread import get_ident
from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")


class _Sentinel:
    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __repr__(self) -> str:
        return self.shown


MISSING: Any = _Sentinel("MISSING")
_HAS_FACTORY = _Sentinel("<factory>")  # the __init__ default of a field with a default_factory
FIELDS = "__record_fields__"


class FrozenInstanceError(AttributeError):
    """Assigning to or deleting a field of a frozen record (as dataclasses.FrozenInstanceError)."""


class Field:
    __slots__ = ("name", "default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING,
          repr: bool = True) -> Any:
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, repr)


def dataclass(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """@dataclass or @dataclass(frozen=True), as dataclasses.dataclass with its other defaults."""
    def wrap(cls: type[T]) -> type[T]:
        return _process(cls, frozen)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    return tuple(getattr(obj, FIELDS).values())


def replace(obj: T, /, **changes: Any) -> T:
    """A copy with some fields changed, built through __init__ as dataclasses.replace does; a
    dataclass goes to dataclasses.replace."""
    record_fields = getattr(obj, FIELDS, None)
    if record_fields is None:  # a dataclass (the webhook's, the cluster cache's)
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for name in changes:
        if name not in record_fields:
            raise TypeError(f"{type(obj).__name__}.__init__() got an unexpected keyword argument {name!r}")
    for name in record_fields:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)  # type: ignore[return-value]


def _process(cls: type[T], frozen: bool) -> type[T]:
    if any(hasattr(base, FIELDS) or hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record cannot inherit from a record or dataclass")
    found: dict[str, Field] = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.split("[")[0].rsplit(".", 1)[-1] in ("ClassVar", "InitVar", "KW_ONLY"):
            raise TypeError(f"{cls.__name__}.{name}: ClassVar, InitVar and KW_ONLY need dataclasses")
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(value, MISSING, True)
        spec.name = name
        if isinstance(spec.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(spec.default)} for field {name} is not allowed: "
                             "use default_factory")
        # The class attributes dataclasses leaves: the default, or none.
        if spec.default is not MISSING:
            setattr(cls, name, spec.default)
        elif isinstance(value, Field):
            delattr(cls, name)
        found[name] = spec
    _check_order(cls, found)
    setattr(cls, FIELDS, found)
    for name, method in _methods(cls, found, frozen).items():
        if name in ("__setattr__", "__delattr__") and name in cls.__dict__:
            raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
        if name not in cls.__dict__ or (name == "__hash__" and _hash_is_implicit(cls)):
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    if not frozen and _hash_is_implicit(cls):
        cls.__hash__ = None  # type: ignore[assignment] # eq without frozen: unhashable, as dataclasses makes it
    cls.__match_args__ = tuple(found)  # type: ignore[attr-defined]
    return cls


def _check_order(cls: type, found: dict[str, Field]) -> None:
    seen_default = False
    for spec in found.values():
        has_default = spec.default is not MISSING or spec.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")
        seen_default = seen_default or has_default


def _hash_is_implicit(cls: type) -> bool:
    """No __hash__ of the class's own (defining __eq__ alone sets it to None): dataclasses' test."""
    own = cls.__dict__.get("__hash__", MISSING)
    return own is MISSING or (own is None and "__eq__" in cls.__dict__)


def _methods(cls: type, found: dict[str, Field], frozen: bool) -> dict[str, Callable[..., Any]]:
    """The methods dataclasses 3.11 generates. Only __init__ is compiled, as dataclasses compiles
    it, with what it uses as closure variables, since objects are made in the hot loops; compiling
    the others too took most of the ~0.6 ms a class. They are closures: __eq__ and __hash__ over
    the fields' values as one attrgetter reads them, the same tuple dataclasses builds."""
    names = tuple(found)
    closure = {"__object_setattr": object.__setattr__, "__HAS_FACTORY": _HAS_FACTORY}
    params, body = ["self"], []
    for name, spec in found.items():
        if spec.default_factory is not MISSING:
            closure[f"__factory_{name}"] = spec.default_factory
            params.append(f"{name}=__HAS_FACTORY")
            value = f"__factory_{name}() if {name} is __HAS_FACTORY else {name}"
        elif spec.default is not MISSING:
            closure[f"__default_{name}"] = spec.default
            params.append(f"{name}=__default_{name}")
            value = name
        else:
            params.append(name)
            value = name
        body.append(f"__object_setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    lines = [f"def __create({', '.join(closure)}):", f"  def __init__({', '.join(params)}):",
             *(f"    {line}" for line in body or ["pass"]), "  return __init__"]
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # the source is built above from field names
    methods: dict[str, Callable[..., Any]] = {"__init__": namespace["__create"](*closure.values())}

    shown = tuple(name for name, spec in found.items() if spec.repr)

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in shown)})"

    if len(names) > 1:
        values = attrgetter(*names)
    elif names:
        only = attrgetter(names[0])

        def values(self: Any) -> tuple[Any, ...]:
            return (only(self),)
    else:
        def values(self: Any) -> tuple[Any, ...]:
            return ()

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    methods.update(__repr__=_recursive_repr(__repr__), __eq__=__eq__)
    if frozen:
        def __hash__(self: Any) -> int:
            return hash(values(self))

        def __setattr__(self: Any, name: str, value: Any) -> None:
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)

        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    return methods


def _recursive_repr(repr_: Callable[[Any], str]) -> Callable[[Any], str]:
    """"..." for a record met again inside its own repr, as dataclasses' repr gives."""
    running: set[tuple[int, int]] = set()

    def wrapper(self: Any) -> str:
        key = (id(self), get_ident())
        if key in running:
            return "..."
        running.add(key)
        try:
            return repr_(self)
        finally:
            running.discard(key)

    wrapper.__wrapped__ = repr_  # type: ignore[attr-defined]
    return wrapper
