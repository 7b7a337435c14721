"""JUnit XML: valid against the Jenkins xUnit JUnit schema and shaped the way GitLab reads it."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from .conftest import SCHEMAS, run_kexlint

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  hostNetwork: {host_network}
  containers:
  - name: c
    image: x
"""


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def _junit(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[str, ET.Element]:
    done = run_kexlint("-f", "junit", "--no-config", *args, cwd=tmp_path, stdin=stdin)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.stdout, ET.fromstring(done.stdout.encode())


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    # The path GitLab's JUnit parser walks.
    return {f"{suite.get('name')} | {case.get('name')}": case
            for suite in root.findall("testsuite") for case in suite.findall("testcase")}


def test_failures_passes_skips_and_errors(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "pods.yaml").write_text(
        POD.format(name="bad", host_network="true") + "---\n" + POD.format(name="good", host_network="false"))
    (tmp_path / "apps" / "ok.yaml").write_text(POD.format(name="fine", host_network="false"))
    (tmp_path / "apps" / "cni.yaml").write_text(POD.format(name="cni", host_network="true").replace(
        "  name: cni\n", "  name: cni\n  annotations: {ignore.kexlint.io/host-network: CNI}\n"))
    (tmp_path / "apps" / "broken.yaml").write_text("kind: [\n")
    text, root = _junit(tmp_path, "--show-suppressed", "apps")
    schema.validate(text)
    cases = _cases(root)
    failure = cases["apps/pods.yaml | Pod bad host-network"].find("failure")
    assert failure is not None and failure.get("type") == "error"
    assert failure.get("message", "").startswith("apps/pods.yaml:6:3: hostNetwork: true")
    assert (failure.text or "").startswith("apps/pods.yaml:6:3: error host-network")
    assert "fix: " in (failure.text or "")
    # Clean objects are passing testcases; suppressed findings are skipped ones.
    assert len(cases["apps/pods.yaml | Pod good"]) == 0
    assert len(cases["apps/ok.yaml | Pod fine"]) == 0
    skipped = cases["apps/cni.yaml | Pod cni host-network"].find("skipped")
    assert skipped is not None and skipped.get("message") == "suppressed: annotation: CNI"
    assert cases["apps/cni.yaml | Pod cni"] is not None
    error = next(c for k, c in cases.items() if k.startswith("apps/broken.yaml | read")).find("error")
    assert error is not None and error.get("message", "").startswith("apps/broken.yaml:2:1: ")
    # The counts agree with the testcases, per suite and in total.
    for suite in root.findall("testsuite"):
        found = suite.findall("testcase")
        assert int(suite.get("tests", -1)) == len(found)
        assert int(suite.get("failures", -1)) == sum(c.find("failure") is not None for c in found)
        assert int(suite.get("errors", -1)) == sum(c.find("error") is not None for c in found)
        assert int(suite.get("skipped", -1)) == sum(c.find("skipped") is not None for c in found)
    assert root.get("tests") == "6" and root.get("failures") == "1" and root.get("errors") == "1"


def test_without_show_suppressed_a_suppressed_object_is_just_clean(tmp_path: Path, schema) -> None:
    manifest = POD.format(name="cni", host_network="true").replace(
        "  name: cni\n", "  name: cni\n  annotations: {ignore.kexlint.io/host-network: CNI}\n")
    text, root = _junit(tmp_path, "-", stdin=manifest)
    schema.validate(text)
    assert list(_cases(root)) == ["<stdin> | Pod cni"]


def test_characters_xml_cannot_carry_are_replaced(tmp_path: Path, schema) -> None:
    # YAML's "\a" and "\x1b" are legal in a manifest string and illegal in XML 1.0.
    text, root = _junit(tmp_path, "-", stdin=POD.format(name='"bell\\a esc\\x1b"', host_network="true"))
    schema.validate(text)
    assert "<stdin> | Pod bell\ufffd esc\ufffd host-network" in _cases(root)


def test_nothing_to_lint_is_still_a_valid_report(tmp_path: Path, schema) -> None:
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")
    text, root = _junit(tmp_path, "values.yaml")
    schema.validate(text)
    assert root.get("tests") == "1" and root.get("failures") == "0"
