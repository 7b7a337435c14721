"""The fake Kubernetes API server (fakeapi.py), one per test, with certificates made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("kubernetes")


@pytest.fixture(scope="session")
def api_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("cryptography")
    from kexlint.webhook.certs import generate_certs

    out = tmp_path_factory.mktemp("apicerts")
    generate_certs("kubernetes", "default", out, sans=["127.0.0.1", "localhost"])
    return out


@pytest.fixture
def fake_api(api_certs: Path, tmp_path: Path):
    """A running fake apiserver loaded with the recorded objects; `fake_api.kubeconfig` points at it."""
    from fakeapi import FakeAPI

    api = FakeAPI(api_certs, tmp_path / "kubeconfig")
    api.load_recordings()
    api.start()
    yield api
    api.stop()
