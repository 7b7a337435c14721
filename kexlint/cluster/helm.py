"""Helm v3/v4 release Secrets: the manifests a release applied, as Helm stored them.

A release Secret (`type: helm.sh/release.v1`, labels owner=helm, name, status, version) holds in
`data.release` base64 (the Secret's own encoding) of base64 of gzip of the release JSON, whose
`manifest` is the rendered YAML. Only the latest deployed revision of each release matters: older
revisions are history, and a failed upgrade never replaced what runs.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

RELEASE_TYPE = "helm.sh/release.v1"
# A release manifest is rendered YAML; refuse a gzip bomb long before it fills memory.
MAX_RELEASE_BYTES = 64 * 2**20


class ReleaseError(ValueError):
    """A release Secret that does not decode; the message names the Secret."""


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    revision: int
    status: str
    manifest: str
    secret: str  # "namespace/name" of the Secret it came from

    @property
    def source(self) -> str:
        """How findings name it, in place of a file."""
        return f"helm release {self.namespace}/{self.name} (revision {self.revision})"


def decode_release(secret: dict[str, Any]) -> dict[str, Any]:
    """The release JSON of one release Secret. Raises ReleaseError."""
    metadata = secret.get("metadata") if isinstance(secret.get("metadata"), dict) else {}
    where = f"Secret {metadata.get('namespace')}/{metadata.get('name')}"
    data = secret.get("data") if isinstance(secret.get("data"), dict) else {}
    encoded = data.get("release")
    if not isinstance(encoded, str):
        raise ReleaseError(f"{where}: no data.release")
    try:
        packed = base64.b64decode(base64.b64decode(encoded, validate=True), validate=True)
        if packed[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(packed)) as stream:
                raw = stream.read(MAX_RELEASE_BYTES + 1)
        else:  # very old Helm 3 releases were not compressed
            raw = packed
        if len(raw) > MAX_RELEASE_BYTES:
            raise ReleaseError(f"{where}: release is over {MAX_RELEASE_BYTES // 2**20} MiB")
        release = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error) as error:
        if isinstance(error, ReleaseError):
            raise
        raise ReleaseError(f"{where}: not a Helm release ({type(error).__name__}: {error})") from None
    if not isinstance(release, dict):
        raise ReleaseError(f"{where}: not a Helm release (the JSON is not an object)")
    return release


def latest_deployed(secrets: Iterable[dict[str, Any]]) -> tuple[list[Release], list[str]]:
    """The latest deployed revision of each release, and one-line problems for Secrets that do not decode.

    Revisions are chosen by the Secret's labels first, so only the chosen ones are decoded."""
    best: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for secret in secrets:
        if secret.get("type") != RELEASE_TYPE:
            continue
        metadata = secret.get("metadata") if isinstance(secret.get("metadata"), dict) else {}
        labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
        if labels.get("status") != "deployed":
            continue
        try:
            revision = int(labels.get("version", ""))
        except ValueError:
            revision = 0
        key = (str(metadata.get("namespace")), str(labels.get("name") or metadata.get("name")))
        if key not in best or revision > best[key][0]:
            best[key] = (revision, secret)
    releases, problems = [], []
    for (namespace, name), (revision, secret) in sorted(best.items()):
        try:
            release = decode_release(secret)
        except ReleaseError as error:
            problems.append(str(error))
            continue
        manifest = release.get("manifest")
        info = release.get("info") if isinstance(release.get("info"), dict) else {}
        releases.append(Release(str(release.get("name") or name), str(release.get("namespace") or namespace),
                                int(release.get("version") or revision), str(info.get("status", "")),
                                manifest if isinstance(manifest, str) else "",
                                f"{namespace}/{secret['metadata'].get('name')}"))
    return releases, problems
