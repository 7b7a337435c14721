"""The rule files' parsed data is kept by digest; rules read back from it equal rules parsed from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from kexlint import registry, validated


def fields(rules: tuple) -> list[tuple]:
    return [(r.id, r.level, r.target, r.message, r.fix, r.docs, r.kinds, r.enabled, r.schema, r.check, r.params,
             r.path) for r in rules]


def test_rules_from_the_cache_equal_rules_from_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("KEXLINT_NO_CACHE", raising=False)
    load = registry.builtin_rules.__wrapped__
    from_yaml = load()
    kept = list((tmp_path / "kexlint" / "validated").glob("rules-*.marshal"))
    assert len(kept) == 1
    # Only the kept data is read now: YAML parsing would fail.
    monkeypatch.setattr(registry.yaml, "load", lambda *a, **k: pytest.fail("parsed YAML"))
    from_cache = load()
    assert fields(from_cache) == fields(from_yaml) and len(from_yaml) > 20
    # A damaged cache file is parsed again from YAML rather than trusted.
    kept[0].write_bytes(b"{not marshal")
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fields(load()) == fields(from_yaml)


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("KEXLINT_NO_CACHE", "1")
    registry.builtin_rules.__wrapped__()
    assert validated.read("anything") is None
    assert not (tmp_path / "kexlint").exists()
