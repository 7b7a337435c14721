"""Fixtures shared by the tests that run the real server (see serving.py for the helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CA and serving certificate made once by `kexlint webhook certs`; copy them before changing them."""
    pytest.importorskip("cryptography")
    from serving import make_certs

    out = tmp_path_factory.mktemp("certs")
    make_certs(out)
    return out
