"""Remember which exact texts passed schema validation, so the CLI need not import jsonschema
(about 50 ms, more than the rest of a small lint) to re-validate unchanged rule and config files.

The key is a digest of the texts and the schema they were checked against; any change to either
validates again. Without a writable cache directory everything is simply validated every time.
"""

from __future__ import annotations

import marshal
import os
import sys

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


def _data_file(name: str) -> str:
    # marshal's format may change between Python versions: each keeps its own.
    return os.path.join(_folder(), f"{name}-py{sys.version_info[0]}.{sys.version_info[1]}.marshal")


def read_data(name: str) -> object | None:
    """Data kept by write_data(), or None. marshal rather than JSON: the json package costs ~3 ms
    of start-up to import, and gives back neither integer keys nor tuples, nor tells them apart."""
    if os.environ.get("KEXLINT_NO_CACHE"):
        return None
    try:
        with open(_data_file(name), "rb") as handle:
            blob = handle.read()  # whole: marshal.load() on the file reads it in tiny pieces, 30x slower
        return marshal.loads(blob)
    except (OSError, EOFError, ValueError, TypeError):  # missing, or truncated or damaged
        return None


def write_data(name: str, data: object) -> None:
    """Data of plain types (dict, list, str, int, float, bool, None...), which read_data() gives
    back equal and of the same types; anything else (a date from YAML) is simply not kept."""
    try:
        blob = marshal.dumps(data)
    except ValueError:
        return
    if os.environ.get("KEXLINT_NO_CACHE"):
        return
    try:
        folder = _folder()
        os.makedirs(folder, exist_ok=True)
        target = _data_file(name)
        temporary = f"{target}.{os.getpid()}"
        with open(temporary, "wb") as handle:
            handle.write(blob)
        os.replace(temporary, target)  # whole or not at all, for a concurrent reader
    except OSError:
        pass
