"""kexlint.records makes the classes dataclasses makes: each record class of the package against a
dataclass twin built from the same fields, and the edge cases one by one."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil

import pytest

import kexlint
from kexlint import records
from kexlint.records import FrozenInstanceError, dataclass, field, replace


def record_classes() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(kexlint.__path__, "kexlint."):
        if info.name.split(".")[1] in ("webhook", "cluster", "fix", "tools") or info.name.endswith("loader_ryml"):
            continue  # extras' dependencies (flask, kubernetes, ruamel, rapidyaml) may be missing
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and records.FIELDS in value.__dict__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


def is_frozen(cls: type) -> bool:
    return "__setattr__" in cls.__dict__


def twin(cls: type) -> type:
    """The same class body given to dataclasses.dataclass."""
    body: dict = {"__annotations__": dict(cls.__annotations__), "__module__": cls.__module__,
                  "__qualname__": cls.__qualname__}
    for spec in records.fields(cls):
        if spec.default_factory is not records.MISSING:
            body[spec.name] = dataclasses.field(default_factory=spec.default_factory, repr=spec.repr)
        elif spec.default is not records.MISSING:
            body[spec.name] = dataclasses.field(default=spec.default, repr=spec.repr)
        elif not spec.repr:
            body[spec.name] = dataclasses.field(repr=False)
    for name, value in cls.__dict__.items():
        code = getattr(getattr(value, "__wrapped__", value), "__code__", None)
        if code is not None and code.co_filename not in ("<string>", records.__file__):
            body[name] = value  # the class's own methods, which neither generator replaces
    return dataclasses.dataclass(frozen=is_frozen(cls))(type(cls.__name__, (), body))


def sample(cls: type, salt: str) -> dict:
    return {spec.name: (spec.name, salt) for spec in records.fields(cls)}


CLASSES = record_classes()


def test_the_package_defines_its_classes_as_records() -> None:
    assert len(CLASSES) >= 25


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_each_record_behaves_as_its_dataclass_twin(cls: type) -> None:
    other = twin(cls)
    ours_sig, theirs_sig = inspect.signature(cls.__init__), inspect.signature(other.__init__)
    # The same defaults, the default_factory sentinels alike (each module has its own).
    assert [(p.name, p.kind, repr(p.default)) for p in ours_sig.parameters.values()] == \
           [(p.name, p.kind, repr(p.default)) for p in theirs_sig.parameters.values()]
    assert cls.__match_args__ == other.__match_args__
    assert (cls.__hash__ is None) == (other.__hash__ is None)
    for name in cls.__annotations__:
        assert (name in cls.__dict__) == (name in other.__dict__)
        if name in cls.__dict__:
            assert cls.__dict__[name] is other.__dict__[name]
    values, changed = sample(cls, "a"), sample(cls, "b")
    ours, theirs = cls(**values), other(**values)
    assert repr(ours) == repr(theirs)
    assert (ours == cls(**values)) is (theirs == other(**values)) is True
    if values:
        assert (ours == cls(**changed)) is (theirs == other(**changed)) is False
    assert (ours == object()) is (theirs == object()) is False
    if cls.__hash__ is not None:
        assert hash(ours) == hash(theirs)
    first = next(iter(values), None)
    if first is not None:
        assert repr(replace(ours, **{first: changed[first]})) == \
               repr(dataclasses.replace(theirs, **{first: changed[first]}))
    if is_frozen(cls) and first is not None:
        with pytest.raises(AttributeError) as ours_error:
            setattr(ours, first, 1)
        with pytest.raises(dataclasses.FrozenInstanceError) as theirs_error:
            setattr(theirs, first, 1)
        assert str(ours_error.value) == str(theirs_error.value)
        assert isinstance(ours_error.value, FrozenInstanceError)
    assert pickle.loads(pickle.dumps(ours)) == ours


def test_defaults_and_factories() -> None:
    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: list = field(default_factory=list)
        note: str = field(default="", repr=False)

    a, b = Point(1), Point(1)
    assert a.tags == [] and a.tags is not b.tags
    assert Point.y == 0 and "tags" not in Point.__dict__ and Point.note == ""
    assert repr(Point(1, 2, [3], "n")) == "test_defaults_and_factories.<locals>.Point(x=1, y=2, tags=[3])"
    assert Point(1, 2, []) == Point(x=1, y=2) and hash(Point(1, 2, ())) == hash((1, 2, (), ""))
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'x'"):
        del a.x
    with pytest.raises(TypeError):
        Point()
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        replace(a, z=1)


def test_plain_records_are_mutable_and_unhashable() -> None:
    @dataclass
    class Box:
        items: list = field(default_factory=list)

    box = Box()
    box.items = [1]
    assert box == Box([1]) and Box.__hash__ is None
    with pytest.raises(TypeError):
        hash(box)


def test_a_class_of_its_own_keeps_its_methods() -> None:
    @dataclass(frozen=True)
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

        def __hash__(self) -> int:
            return 7

    assert repr(Named("a")) == "<a>" and hash(Named("a")) == 7


def test_recursive_repr_says_dots() -> None:
    @dataclass
    class Node:
        child: object = None

    node = Node()
    node.child = node
    assert repr(node) == "test_recursive_repr_says_dots.<locals>.Node(child=...)"


def test_what_records_refuse() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        @dataclass
        class Bad:
            items: list = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @dataclass
        class Order:
            a: int = 0
            b: int

    @dataclass
    class Base:
        a: int

    with pytest.raises(TypeError, match="cannot inherit"):
        @dataclass
        class Child(Base):
            b: int

    with pytest.raises(TypeError, match="ClassVar"):
        @dataclass
        class WithClassVar:
            a: ClassVar[int] = 0  # noqa: F821 - a string annotation, never evaluated


def test_replace_hands_a_dataclass_to_dataclasses() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int

    assert replace(Plain(1), a=2) == Plain(2)
