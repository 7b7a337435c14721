"""The rule registry: every `*.yaml` in the rules directory, validated against a meta-schema."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .checks import Hit
from .model import Target


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

    @property
    def is_collector(self) -> bool:
        return self.module is not None and hasattr(self.module, "Collector")

    def validator(self) -> Draft202012Validator | None:
        return _validator(self.id, json.dumps(self.schema, sort_keys=True)) if self.schema else None

    def schema_keys(self) -> frozenset[str] | None:
        """Keys one of which a target must have for the schema to be able to fail.

        A schema that only says how some properties must look passes every object lacking all of
        them, so such targets can skip validation: the cheap structural check before the schema.
        """
        if not self.schema or set(self.schema) - {"type", "properties", "description"}:
            return None
        if self.schema.get("type", "object") != "object":
            return None
        return frozenset(self.schema.get("properties", {}))

    def schema_hits(self, target: Target) -> Iterator[Hit]:
        validator = self.validator()
        assert validator is not None
        for error in validator.iter_errors(target.value):
            path = tuple(error.absolute_path)
            field_name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
            yield Hit(path, self.message.format(value=_show(error.instance), field=field_name))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)[:80]
    return str(value)


@cache
def _validator(rule_id: str, schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text))


@cache
def _check_module(name: str) -> ModuleType:
    return importlib.import_module(f"kexlint.checks.{name}")


@cache
def _meta_validator() -> Draft202012Validator:
    text = resources.files("kexlint").joinpath("schemas/rule.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def parse_rule(data: Any, path: str) -> Rule:
    errors = sorted(_meta_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise RuleFileError(f"{path}: {where}: {error.message}")
    name = Path(path).stem
    if data["id"] != name:
        raise RuleFileError(f"{path}: id: {data['id']!r} must equal the file name {name!r}")
    if "schema" in data:
        try:
            Draft202012Validator.check_schema(data["schema"])
        except SchemaError as err:
            where = "/".join(str(p) for p in err.absolute_path)
            raise RuleFileError(f"{path}: schema/{where}: {err.message}") from None
    if "check" in data:
        try:
            module = _check_module(data["check"])
        except ImportError:
            raise RuleFileError(f"{path}: check: no check named {data['check']!r} in kexlint/checks") from None
        if not hasattr(module, "check") and not hasattr(module, "Collector"):
            raise RuleFileError(f"{path}: check: {data['check']!r} defines neither check() nor Collector")
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


def load_rule_file(path: Path) -> Rule:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise RuleFileError(f"{path}: cannot read rule file: {err}") from None
    return parse_rule(data, str(path))


def rules_folder() -> Any:
    """The shipped rules: package data `kexlint.rules` when installed, `rules/` in a source tree."""
    try:
        folder = resources.files("kexlint.rules")
        if folder.joinpath("host-network.yaml").is_file():
            return folder
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "rules"


@cache
def builtin_rules() -> tuple[Rule, ...]:
    """The rules shipped in the package, sorted by id; the directory is the registry."""
    folder = rules_folder()
    rules = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            try:
                data = yaml.load(entry.read_text("utf-8"), Loader=_RuleLoader)
            except yaml.YAMLError as err:
                raise RuleFileError(f"rules/{entry.name}: {err}") from None
            rules.append(parse_rule(data, f"rules/{entry.name}"))
    return tuple(sorted(rules, key=lambda rule: rule.id))


_RuleLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in builtin_rules()}
