"""Rule files are validated at load time; a malformed one is a clear error naming file and field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from kexlint.registry import RuleFileError, builtin_rules, load_rule_file, rules_folder

SHIPPED = Path(rules_folder()) / "host-network.yaml"


def good() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("fix"), "host-network.yaml: (top level): 'fix' is a required property"),
    (lambda d: d.update(level="fatal"), "host-network.yaml: level: 'fatal' is not one of"),
    (lambda d: d.update(target="node"), "host-network.yaml: target: 'node' is not one of"),
    (lambda d: d["docs"].pop("why"), "host-network.yaml: docs: 'why' is a required property"),
    (lambda d: d.update(check="host_port_conflict"), "host-network.yaml: (top level):"),
    (lambda d: d.update(schema={"type": "nonsense"}), "host-network.yaml: schema/type:"),
    (lambda d: d.update(id="other-id"), "id: 'other-id' must equal the file name 'host-network'"),
    (lambda d: d.update(message="{nope}"), "message: bad placeholder"),
    (lambda d: (d.pop("schema"), d.update(check="no_such_check")), "check: no check named 'no_such_check'"),
    (lambda d: d.update(extra=1), "Additional properties are not allowed ('extra' was unexpected)"),
])
def test_malformed_rule_file(tmp_path: Path, change, message: str) -> None:
    data = copy.deepcopy(good())
    change(data)
    path = tmp_path / "host-network.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(RuleFileError) as error:
        load_rule_file(path)
    assert str(error.value).startswith(str(path)), error.value
    assert message in str(error.value)


def test_unreadable_rule_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("id: [\n")
    with pytest.raises(RuleFileError, match="cannot read rule file"):
        load_rule_file(path)


def test_shipped_rules_are_valid_and_the_folder_is_the_registry() -> None:
    files = sorted(p.stem for p in Path(rules_folder()).glob("*.yaml"))
    assert [rule.id for rule in builtin_rules()] == files
    for path in Path(rules_folder()).glob("*.yaml"):
        load_rule_file(path)  # full validation, whatever the cache says


def test_every_pod_spec_kind_has_its_api_group() -> None:
    """The webhook reviews the kinds of BUILTIN_KIND_GROUPS; a pod-spec kind missing there would be
    linted by the CLI and waved through by the webhook."""
    from kexlint.model import BUILTIN_KIND_GROUPS, POD_SPEC_PATHS, WHOLE_OBJECT_TARGETS

    whole_objects = {kind for kinds in WHOLE_OBJECT_TARGETS.values() for kind in kinds}
    # ReferenceGrant is no target of its own: dangling-route reads it as a fact.
    assert set(POD_SPEC_PATHS) | whole_objects | {"ReferenceGrant"} == set(BUILTIN_KIND_GROUPS)
    for rule in builtin_rules():
        assert rule.kinds is None or rule.kinds <= set(BUILTIN_KIND_GROUPS), rule.id
