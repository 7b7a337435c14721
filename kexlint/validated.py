"""Remember which exact texts passed schema validation, so the CLI need not import jsonschema
(about 50 ms, more than the rest of a small lint) to re-validate unchanged rule and config files.

The key is a digest of the texts and the schema they were checked against; any change to either
validates again. Without a writable cache directory everything is simply validated every time.
"""

from __future__ import annotations

import os

try:
    # The built-in module: hashlib's OpenSSL binding takes ~3 ms to load, more than the hashing.
    from _sha256 import sha256
except ImportError:  # a Python built without its own hashes
    from hashlib import sha256
from pathlib import Path

from . import __version__


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kexlint" / "validated"


def digest(*texts: str) -> str:
    sha = sha256(__version__.encode())
    for text in texts:
        sha.update(b"\0" + text.encode("utf-8"))
    return sha.hexdigest()


def known(key: str) -> bool:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return False
    return (_folder() / key).exists()


def remember(key: str) -> None:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return
    try:
        folder = _folder()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
    except OSError:
        pass  # a read-only home only costs the validation next time


def read(name: str) -> str | None:
    """A text kept under the cache by write(), or None."""
    if os.environ.get("KEXLINT_NO_CACHE"):
        return None
    try:
        return (_folder() / name).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write(name: str, text: str) -> None:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return
    try:
        folder = _folder()
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}"
        temporary.write_text(text, "utf-8")
        temporary.replace(folder / name)  # whole or not at all, for a concurrent reader
    except OSError:
        pass
