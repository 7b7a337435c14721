"""The rule registry: every `*.yaml` in the rules directory, validated against a meta-schema."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from functools import cache, cached_property
from types import ModuleType

import yaml

from . import validated
from .checks import Hit
from .model import Target
from .records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any


class RuleFileError(Exception):
    """A rule file that is not a valid rule; the message names the file and field."""


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    level: str
    target: str
    message: str
    fix: str
    docs: dict[str, Any]
    kinds: frozenset[str] | None = None
    enabled: bool = True
    schema: dict[str, Any] | None = None
    check: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def module(self) -> ModuleType | None:
        return _check_module(self.check) if self.check else None

    @cached_property
    def is_collector(self) -> bool:
        """A cross-object rule: its module collects facts and concludes over them. Cached: asked per
        rule and target, and a module lookup each time added up to ~10% of a webhook review."""
        return self.module is not None and hasattr(self.module, "collect")

    @cached_property
    def validator(self) -> Any:
        """Compiled once per rule; jsonschema is imported only when a target needs it."""
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema) if self.schema else None

    @cached_property
    def schema_paths(self) -> tuple[tuple[str, ...], ...] | None:
        """Where in a target the schema can fail, when it says so plainly.

        A schema made only of `properties` and `items` passes every target that lacks all of its
        leaves, so a target without any of those paths skips validation: the cheap structural check
        before the schema. None when the schema has other keywords on the way down.
        """
        return _leaf_paths(self.schema) if self.schema else None

    @cached_property
    def fast_check(self) -> Any:
        """The schema compiled without jsonschema (kexlint.schemafast), None for shapes it does not
        handle: those, and every rule another engineer adds with new keywords, use jsonschema."""
        from .schemafast import compile_schema

        return compile_schema(self.schema) if self.schema else None

    def schema_errors(self, value: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
        """(path, instance) of each error, as jsonschema's iter_errors gives them."""
        fast = self.fast_check
        if fast is not None:
            yield from fast(value)
            return
        validator = self.validator
        assert validator is not None
        for error in validator.iter_errors(value):
            yield tuple(error.absolute_path), error.instance

    def schema_hits(self, target: Target) -> Iterator[Hit]:
        for path, instance in self.schema_errors(target.value):
            field_name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
            yield Hit(path, self.message.format(value=_show(instance), field=field_name))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # sent as a JSON integer (8.08e3 is hostPort 8080 to the apiserver)
    if isinstance(value, (dict, list)):
        import json  # rarely: json costs ~3 ms of start-up to import

        return json.dumps(value)[:80]
    return str(value)


_PLAIN = {"type", "description", "properties", "items"}


def _leaf_paths(schema: Any) -> tuple[tuple[str, ...], ...] | None:
    if not isinstance(schema, dict) or set(schema) - _PLAIN or not ({"properties", "items"} & set(schema)):
        return None
    if set(schema) & {"type"} and schema["type"] not in ("object", "array"):
        return None  # a type check can fail on its own, wherever the value sits
    paths: list[tuple[str, ...]] = []
    for key, sub in (schema.get("properties") or {}).items():
        below = _leaf_paths(sub)
        paths.extend([(key,)] if below is None else [(key, *p) for p in below])
    if "items" in schema:
        below = _leaf_paths(schema["items"])
        paths.extend([("*",)] if below is None else [("*", *p) for p in below])
    return tuple(paths)


def has_path(value: Any, path: tuple[str, ...]) -> bool:
    """Whether any value sits at path (`*` stands for every item of a list)."""
    if not path:
        return True
    head, rest = path[0], path[1:]
    if head == "*":
        return isinstance(value, list) and any(has_path(item, rest) for item in value)
    return isinstance(value, dict) and head in value and has_path(value[head], rest)


@cache
def _check_module(name: str) -> ModuleType:
    return importlib.import_module(f"kexlint.checks.{name}")


def _meta_schema_text() -> str:
    with open(os.path.join(os.path.dirname(__file__), "schemas", "rule.schema.json"), encoding="utf-8") as handle:
        return handle.read()


@cache
def _meta_validator() -> Any:
    import json

    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(_meta_schema_text()))


def validate_rule_data(data: Any, path: str) -> None:
    """The rule file against the meta-schema, and its condition against JSON Schema itself."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    errors = sorted(_meta_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise RuleFileError(f"{path}: {where}: {error.message}")
    if "schema" in data:
        try:
            Draft202012Validator.check_schema(data["schema"])
        except SchemaError as err:
            where = "/".join(str(p) for p in err.absolute_path)
            raise RuleFileError(f"{path}: schema/{where}: {err.message}") from None


def parse_rule(data: Any, path: str, schema_checked: bool = False) -> Rule:
    if not schema_checked:
        validate_rule_data(data, path)
    name = os.path.splitext(os.path.basename(path))[0]  # Path(path).stem
    if data["id"] != name:
        raise RuleFileError(f"{path}: id: {data['id']!r} must equal the file name {name!r}")
    if "check" in data:
        try:
            module = _check_module(data["check"])
        except ImportError:
            raise RuleFileError(f"{path}: check: no check named {data['check']!r} in kexlint/checks") from None
        if not hasattr(module, "check") and not (hasattr(module, "collect") and hasattr(module, "conclude")):
            raise RuleFileError(f"{path}: check: {data['check']!r} defines neither check() nor "
                                "collect() and conclude()")
    try:
        data["message"].format(value="", field="", **data.get("params", {}))
    except (KeyError, IndexError, ValueError) as err:
        raise RuleFileError(f"{path}: message: bad placeholder {err}") from None
    return Rule(
        id=data["id"], summary=data["summary"], level=data["level"], target=data["target"],
        message=data["message"], fix=data["fix"], docs=data["docs"],
        kinds=frozenset(data["kinds"]) if "kinds" in data else None,
        enabled=data.get("enabled", True), schema=data.get("schema"), check=data.get("check"),
        params=data.get("params", {}), path=path,
    )


def load_rule_file(path: str | os.PathLike[str]) -> Rule:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle.read())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise RuleFileError(f"{path}: cannot read rule file: {err}") from None
    return parse_rule(data, str(path))


def rules_folder() -> str:
    """The shipped rules: `kexlint/rules/` in an installed wheel (setuptools maps the top-level
    `rules/` there), the top-level `rules/` in a source tree or an editable install. Plain paths
    rather than importlib.resources or pathlib, which cost import time on every run."""
    here = os.path.dirname(os.path.realpath(__file__))
    installed = os.path.join(here, "rules")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(here), "rules")


@cache
def builtin_rules() -> tuple[Rule, ...]:
    """The rules shipped in the package, sorted by id; the directory is the registry.

    Every file is validated against the meta-schema when its exact text has not been validated
    before (see kexlint.validated); the cheap checks (id, check module, message) run every time.
    """
    folder = rules_folder()
    texts = {}
    for name in os.listdir(folder):
        if name.endswith(".yaml"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                texts[name] = handle.read()
    key = "rules-" + validated.digest(_meta_schema_text(), *(f"{n}\0{t}" for n, t in sorted(texts.items())))
    checked = validated.known(key)
    datas = _cached_rule_data(key) if checked else None
    parsed = datas is None
    if datas is None:
        datas = {}
        for name, text in sorted(texts.items()):
            try:
                datas[name] = yaml.load(text, Loader=_RuleLoader)
            except yaml.YAMLError as err:
                raise RuleFileError(f"rules/{name}: {err}") from None
    rules = [parse_rule(data, f"rules/{name}", schema_checked=checked) for name, data in datas.items()]
    if not checked:
        validated.remember(key)
    if parsed:
        _cache_rule_data(key, datas)
    return tuple(sorted(rules, key=lambda rule: rule.id))


def _data_name(key: str) -> str:
    return f"{key}-yaml{yaml.__version__}"


def _cached_rule_data(key: str) -> dict[str, Any] | None:
    """The rule files' data as parsed the last time these exact texts were validated: PyYAML's
    constructors took 40-70 ms of a one-file lint for 26 small files, reading it back 0.1."""
    datas = validated.read_data(_data_name(key))
    return datas if isinstance(datas, dict) else None


def _cache_rule_data(key: str, datas: dict[str, Any]) -> None:
    validated.write_data(_data_name(key), datas)


_RuleLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in builtin_rules()}
