"""`.kexlint.yaml`: discovery, validation against a JSON Schema, and what it means for the engine."""

from __future__ import annotations

import fnmatch
import os
import re
from functools import cache

from . import validated
from .checks import Settings
from .findings import LEVELS, ObjectRef
from .loader import InputError, decode, read_documents
from .records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

CONFIG_NAMES = (".kexlint.yaml", ".kexlint.yml")
# The newest stable Kubernetes release, the default target: 1.37, released August 2026. Change it
# here only; the CLI help, the webhook's default config and the docs are derived from it.
DEFAULT_KUBE_VERSION = "1.37"
DEFAULT_KUBE_VERSION_RELEASED = "2026-08"
DEFAULT_NODE_PORT_RANGE = "30000-32767"
# The newest Gateway API release, the default target for its CRD versions (deprecated-api, fix): v1.6
# (v1.6.0 and its patches; v1.7 had only release candidates when this was set). Gateway API releases
# are not tied to Kubernetes releases, so this is a setting of its own.
DEFAULT_GATEWAY_API_VERSION = "1.6"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the offending key."""


@dataclass(frozen=True)
class Exclusion:
    reason: str
    rules: frozenset[str] | None = None
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None
    path: str | None = None

    def matches(self, rule: str, ref: ObjectRef, source: str | None) -> bool:
        if self.rules is not None and rule not in self.rules:
            return False
        if self.namespace is not None and not fnmatch.fnmatchcase(ref.namespace or "", self.namespace):
            return False
        if self.kind is not None and not fnmatch.fnmatchcase(ref.kind or "", self.kind):
            return False
        if self.name is not None and not fnmatch.fnmatchcase(ref.name or "", self.name):
            return False
        if self.path is not None and not (source and _path_matches(source, self.path)):
            return False
        return True


def _path_matches(source: str, pattern: str) -> bool:
    source = source.replace("\\", "/").removeprefix("./")
    if fnmatch.fnmatchcase(source, pattern):
        return True
    # `dir/**` and `**/x.yaml` also match at any depth from the start of a relative path.
    return pattern.endswith("/**") and source.startswith(pattern[:-2])


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool | None = None
    level: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    settings: Settings = Settings()
    fail_on: str = "error"
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    exclusions: tuple[Exclusion, ...] = ()
    webhook: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    # gitignore-style patterns of paths never read, relative to the config file's folder (kexlint.paths).
    exclude_paths: tuple[str, ...] = ()

    def exclusion(self, rule: str, ref: ObjectRef, source: str | None) -> Exclusion | None:
        for exclusion in self.exclusions:
            if exclusion.matches(rule, ref, self.relative_source(source) if exclusion.path else source):
                return exclusion
        return None

    def relative_source(self, source: str | None) -> str | None:
        """Path globs are relative to the config file's folder, as in .gitignore, whatever folder
        kexlint runs in and however the file was named (relative or absolute)."""
        if source is None or self.path is None or not os.path.exists(source):
            return source
        base = os.path.dirname(os.path.abspath(self.path))
        relative = os.path.relpath(os.path.abspath(source), base)
        return source if relative.startswith("..") else relative


_RANGE = re.compile(r"^\s*(\d+)\s*(?:([-+])\s*(\d+))?\s*$")


def parse_port_range(text: str) -> tuple[int, int]:
    """The apiserver's --service-node-port-range syntax: `30000-32767`, `30000+2767` or `30000`."""
    match = _RANGE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a port range (e.g. 30000-32767 or 30000+2767)")
    base = int(match.group(1))
    if match.group(2) is None:
        low, high = base, base
    elif match.group(2) == "-":
        low, high = base, int(match.group(3))
    else:
        low, high = base, base + int(match.group(3))
    if not (0 < low <= high <= 65535):
        raise ValueError(f"{text!r} is not a port range within 1-65535")
    return low, high


def parse_kube_version(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.\d+)?\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes version (e.g. 1.36)")
    return int(match.group(1)), int(match.group(2))


def parse_gateway_api_version(text: str) -> tuple[int, int]:
    """A Gateway API release: `1.5`, `v1.5` or `v1.5.1` (the patch does not change served versions)."""
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.\d+)?\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a Gateway API release (e.g. 1.5 or v1.5.1)")
    return int(match.group(1)), int(match.group(2))


def _schema_text() -> str:
    with open(os.path.join(os.path.dirname(__file__), "schemas", "config.schema.json"), encoding="utf-8") as handle:
        return handle.read()


@cache
def _schema_validator() -> Any:
    import json

    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(_schema_text()))


def find_config(start: str | os.PathLike[str]) -> str | None:
    """The nearest `.kexlint.yaml` in start or one of its parents. With os.path, as the path is
    looked for on every run and pathlib costs ~4 ms of start-up to import."""
    folder = os.path.realpath(start)  # Path.resolve()
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


# A config is a few hundred bytes; anything near this is not one.
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: str | os.PathLike[str] | None, known_rules: set[str]) -> Config:
    """Read with the manifests' loader and its limits (depth, aliases, size), so a hostile config
    (an alias bomb) fails in milliseconds with one line instead of being expanded first."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config: {err.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: config is over {MAX_CONFIG_BYTES >> 20} MiB; that is not a config")
    try:
        text = decode(raw)
    except InputError as err:
        raise ConfigError(f"{path}: config cannot be read: {err.message}") from None
    data: Any = None
    for doc in read_documents(text, str(path), is_json=False):
        if isinstance(doc, InputError):
            where = f":{doc.line}:{doc.column}" if doc.line and doc.column else f":{doc.line}" if doc.line else ""
            message = doc.message if doc.message.startswith("invalid YAML") else f"invalid YAML: {doc.message}"
            raise ConfigError(f"{path}{where}: {message}")
        if doc.index > 0:
            raise ConfigError(f"{path}:{doc.line}: a config is one YAML document; found a second one")
        if doc.duplicates:
            dup = doc.duplicates[0]
            raise ConfigError(f"{path}:{dup.line}:{dup.column}: key {dup.pointer[-1]!r} is written twice")
        data = doc.value
    return parse_config(data or {}, str(path), known_rules)


def _allowed(schema: dict[str, Any]) -> list[str]:
    """What a schema accepts, in words: enum values, and `a mapping (keys …)` for an object branch."""
    import json

    words: list[str] = []
    for branch in schema.get("oneOf") or schema.get("anyOf") or [schema]:
        if "enum" in branch:
            words.extend(json.dumps(v) if not isinstance(v, str) else v for v in branch["enum"])
        elif branch.get("type") == "object" and branch.get("properties"):
            words.append(f"a mapping with {', '.join(branch['properties'])}")
        elif "type" in branch:
            words.append(f"a {branch['type']}")
    return words


def _schema_message(error: Any) -> str:
    """jsonschema's message, except where it does not say what would do: enums and oneOf."""
    import json

    if error.validator in ("enum", "oneOf", "anyOf"):
        allowed = _allowed(error.schema)
        if allowed:
            value = json.dumps(error.instance) if not isinstance(error.instance, (dict, list)) else \
                f"a {type(error.instance).__name__}"
            return f"{value} is not allowed; use one of: {', '.join(allowed)}"
    return error.message


def parse_config(data: Any, source: str, known_rules: set[str]) -> Config:
    import json  # here, not at the top: a lint without a config file need not import it (~3 ms)

    # The same config text is validated once (kexlint.validated), not on every pre-commit run.
    key = "config-" + validated.digest(_schema_text(), json.dumps(data, sort_keys=True, default=str))
    if not validated.known(key):
        errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise ConfigError(f"{source}: {where}: {_schema_message(error)}")
        validated.remember(key)

    def fail(where: str, message: str) -> ConfigError:
        return ConfigError(f"{source}: {where}: {message}")

    try:
        kube_version = parse_kube_version(data.get("kube-version", DEFAULT_KUBE_VERSION))
    except ValueError as err:
        raise fail("kube-version", str(err)) from None
    try:
        gateway_api_version = parse_gateway_api_version(data.get("gateway-api-version", DEFAULT_GATEWAY_API_VERSION))
    except ValueError as err:
        raise fail("gateway-api-version", str(err)) from None
    try:
        node_ports = parse_port_range(data.get("node-port-range", DEFAULT_NODE_PORT_RANGE))
    except ValueError as err:
        raise fail("node-port-range", str(err)) from None

    rules: dict[str, RuleSetting] = {}
    for rule_id, value in (data.get("rules") or {}).items():
        if rule_id not in known_rules:
            raise fail(f"rules/{rule_id}", f"unknown rule (known: {', '.join(sorted(known_rules))})")
        if value == "off" or value is False:
            rules[rule_id] = RuleSetting(enabled=False)
        elif isinstance(value, str):
            rules[rule_id] = RuleSetting(enabled=True, level=value)
        else:
            level = value.get("level")
            enabled = False if level == "off" else value.get("enabled", True)
            rules[rule_id] = RuleSetting(enabled, None if level == "off" else level, value.get("params", {}))

    exclusions = []
    for index, item in enumerate(data.get("exclude") or []):
        unknown = set(item.get("rules", ())) - known_rules
        if unknown:
            raise fail(f"exclude/{index}/rules", f"unknown rule {sorted(unknown)[0]!r}")
        exclusions.append(Exclusion(
            reason=item["reason"],
            rules=frozenset(item["rules"]) if "rules" in item else None,
            namespace=item.get("namespace"), kind=item.get("kind"), name=item.get("name"),
            path=item.get("path"),
        ))
    return Config(
        settings=Settings(kube_version=kube_version, node_port_range=node_ports,
                          gateway_api_version=gateway_api_version),
        fail_on=data.get("fail-on", "error"),
        rules=rules,
        exclusions=tuple(exclusions),
        webhook=data.get("webhook") or {},
        path=source,
        exclude_paths=tuple(data.get("exclude-paths") or ()),
    )


assert set(LEVELS) == {"info", "warning", "error"}
