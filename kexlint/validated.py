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

from . import __version__


def _folder() -> str:
    # os.path rather than pathlib, which with urllib.parse costs ~4 ms of start-up to import.
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kexlint", "validated")


def digest(*texts: str) -> str:
    sha = sha256(__version__.encode())
    for text in texts:
        sha.update(b"\0" + text.encode("utf-8"))
    return sha.hexdigest()


def known(key: str) -> bool:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return False
    return os.path.exists(os.path.join(_folder(), key))


def remember(key: str) -> None:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return
    try:
        folder = _folder()
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, key), "a"):
            pass
    except OSError:
        pass  # a read-only home only costs the validation next time


def read(name: str) -> str | None:
    """A text kept under the cache by write(), or None."""
    if os.environ.get("KEXLINT_NO_CACHE"):
        return None
    try:
        with open(os.path.join(_folder(), name), encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def write(name: str, text: str) -> None:
    if os.environ.get("KEXLINT_NO_CACHE"):
        return
    try:
        folder = _folder()
        os.makedirs(folder, exist_ok=True)
        temporary = os.path.join(folder, f".{name}.{os.getpid()}")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, os.path.join(folder, name))  # whole or not at all, for a concurrent reader
    except OSError:
        pass
