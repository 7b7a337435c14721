"""CA and serving certificate for the admission webhook (``kexlint webhook certs``).

The kube-apiserver only calls webhooks over TLS and verifies the server certificate against the
``caBundle`` of the ValidatingWebhookConfiguration. This module makes a small private CA plus a
serving certificate for the in-cluster Service names, so a cluster without cert-manager can still run
the webhook. Everything is done with ``cryptography``: no ``openssl`` subprocess (absent from slim
images, and its CLI differs between versions) and no hand-written X.509.

Key type: ECDSA P-256 for both the CA and the serving key. It is what Go's crypto/tls (the
apiserver's client) and Python's ssl (our server) both support natively, keys generate in
milliseconds instead of RSA's occasional seconds, handshakes are cheaper, and keys and certificates
are small enough to stay tidy in a Secret. We have no legacy clients that would need RSA.

``cryptography`` is imported inside the functions, never at module level, so importing this module
(e.g. to build the argparse tree) costs nothing on installs without the ``webhook`` extra.

Files are written atomically (temporary file in the same directory + ``os.replace``) because a
running server watches them and must never read a half-written PEM.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import ipaddress
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps cryptography out of the import path
    from cryptography import x509

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
TLS_CERT = "tls.crt"
TLS_KEY = "tls.key"

DEFAULT_DAYS = 365
# The CA lives much longer than the serving certificate: renewing the serving certificate must not
# change the caBundle that is already registered with the apiserver.
DEFAULT_CA_DAYS = 3650
# Backdate notBefore a little so nodes whose clocks run slightly behind ours accept a fresh cert.
CLOCK_SKEW = dt.timedelta(minutes=5)

CERT_MODE = 0o644  # certificates are public
KEY_MODE = 0o600  # private keys: owner only

# Service names are DNS-1035 labels, namespaces DNS-1123 labels (Kubernetes naming rules).
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME = re.compile(r"^(\*\.)?[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class CertError(Exception):
    """A problem the user has to fix, such as an unusable existing CA (exit code 1)."""


class InvalidArgument(CertError):
    """An argument that can never work, e.g. a malformed name (exit code 2, like argparse's errors)."""


@dataclass(frozen=True)
class CertResult:
    """What :func:`generate_certs` did."""

    out_dir: Path
    ca_reused: bool
    ca_bundle: str  # base64 of ca.crt, ready for clientConfig.caBundle
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_after: dt.datetime  # of the serving certificate
    warnings: tuple[str, ...] = ()


def service_dns_names(service: str, namespace: str) -> list[str]:
    """Every name under which the apiserver may reach ``service`` in ``namespace``.

    The apiserver dials ``NAME.NS.svc`` for clientConfig.service; the other forms cover in-cluster
    clients and clusters with a custom search path.
    """
    base = f"{service}.{namespace}"
    return [service, base, f"{base}.svc", f"{base}.svc.cluster.local"]


def split_sans(sans: Iterable[str]) -> tuple[list[str], list[IPAddress]]:
    """Sort ``--san`` values into DNS names and IP addresses (IPs need IPAddress SANs, not DNSName).

    Raises :class:`InvalidArgument` for values that are neither.
    """
    dns: list[str] = []
    ips: list[IPAddress] = []
    for raw in sans:
        value = raw.strip()
        try:
            ips.append(ipaddress.ip_address(value))
            continue
        except ValueError:
            pass
        name = value.lower()
        if len(name) > 253 or not _DNS_NAME.match(name):
            raise InvalidArgument(f"--san {raw!r} is neither an IP address nor a valid DNS name")
        dns.append(name)
    return dns, ips


def _dedupe(items: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _validate(service: str, namespace: str, days: int, ca_days: int) -> None:
    if len(service) > 63 or not _DNS1035_LABEL.match(service):
        raise InvalidArgument(f"--service {service!r} is not a valid Service name (DNS-1035 label)")
    if len(namespace) > 63 or not _DNS1123_LABEL.match(namespace):
        raise InvalidArgument(f"--namespace {namespace!r} is not a valid namespace name (DNS-1123 label)")
    if days < 1:
        raise InvalidArgument("--days must be at least 1")
    if ca_days < 1:
        raise InvalidArgument("--ca-days must be at least 1")


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` so readers see either the old or the new file, never a mix.

    The temporary file is created in the target directory (``os.replace`` is only atomic within
    one filesystem) with mode 0600 from the start, so a key is never briefly world-readable.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, and only a nicety.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def ca_bundle_from_file(path: str | os.PathLike[str]) -> str:
    """Base64 of a PEM CA file, as clientConfig.caBundle wants it (one line, no wrapping)."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _new_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _hash_for(key: Any) -> Any:
    """Signature hash for ``key``; Ed25519/Ed448 CAs (if someone brings one) sign without one."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return hashes.SHA256()


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _spki(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _make_ca(now: dt.datetime, ca_days: int) -> tuple[Any, x509.Certificate]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kexlint"),
            x509.NameAttribute(NameOID.COMMON_NAME, "kexlint webhook CA"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=ca_days))
        # path_length=0: this CA signs serving certificates only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, _hash_for(key))
    )
    return key, cert


def _load_ca(cert_path: Path, key_path: Path) -> tuple[Any, x509.Certificate]:
    """Load an existing CA pair, refusing anything we could not safely sign with."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise CertError(f"{cert_path} is not a PEM certificate: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertError(f"{key_path} is not an unencrypted PEM private key: {exc}") from exc
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise CertError(f"{key_path} does not belong to {cert_path}")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertError(f"{cert_path} is not a CA certificate (basicConstraints CA:TRUE missing)")
    return key, cert


def _make_serving_cert(
    ca_key: Any,
    ca_cert: x509.Certificate,
    dns_names: Sequence[str],
    ips: Sequence[IPAddress],
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> tuple[Any, x509.Certificate]:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _new_key()
    # CN is ignored by modern verifiers (SANs are what count) but helps humans; it is capped at 64.
    common_name = dns_names[2] if len(dns_names[2]) <= 64 else dns_names[0][:64]
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # ECDSA keys only sign during the handshake; keyEncipherment would be wrong for them.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(aki, critical=False)
        .sign(ca_key, _hash_for(ca_key))
    )
    return key, cert


def generate_certs(
    service: str,
    namespace: str,
    out_dir: str | os.PathLike[str],
    sans: Iterable[str] = (),
    days: int = DEFAULT_DAYS,
    ca_days: int = DEFAULT_CA_DAYS,
    now: dt.datetime | None = None,
) -> CertResult:
    """Create or renew the webhook certificates in ``out_dir``.

    An existing, unexpired ``ca.crt``/``ca.key`` pair is reused, so renewing only replaces
    ``tls.crt``/``tls.key`` and the caBundle registered with the apiserver stays valid. An expired CA
    is replaced (the caBundle then changes, and a warning says so). ``now`` exists for tests.
    """
    from cryptography.hazmat.primitives import serialization

    _validate(service, namespace, days, ca_days)
    extra_dns, ips = split_sans(sans)
    dns_names = _dedupe([*service_dns_names(service, namespace), *extra_dns])
    ips = _dedupe(ips)

    now = now or dt.datetime.now(dt.timezone.utc)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = out / CA_CERT, out / CA_KEY
    warnings: list[str] = []

    ca_key = ca_cert = None
    if ca_cert_path.exists() != ca_key_path.exists():
        # Half a CA: regenerating would silently invalidate a caBundle someone may have registered.
        present, missing = (
            (ca_cert_path, ca_key_path) if ca_cert_path.exists() else (ca_key_path, ca_cert_path)
        )
        raise CertError(
            f"{present} exists but {missing} does not; restore it or delete both to make a new CA"
        )
    if ca_cert_path.exists():
        ca_key, ca_cert = _load_ca(ca_cert_path, ca_key_path)
        if ca_cert.not_valid_after_utc <= now:
            warnings.append(
                f"existing CA expired at {ca_cert.not_valid_after_utc.isoformat()}; made a new CA, "
                "so the caBundle changed: update the ValidatingWebhookConfiguration"
            )
            ca_key = ca_cert = None
    ca_reused = ca_cert is not None
    if ca_cert is None:
        ca_key, ca_cert = _make_ca(now, ca_days)
        # Key first: a crash in between leaves "ca.key without ca.crt", which the next run reports
        # instead of silently replacing.
        write_atomic(ca_key_path, _key_pem(ca_key), KEY_MODE)
        write_atomic(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)

    not_after = now + dt.timedelta(days=days)
    if not_after > ca_cert.not_valid_after_utc:
        # A certificate cannot outlive its issuer in any verifier that matters.
        not_after = ca_cert.not_valid_after_utc
        warnings.append(
            f"CA expires {not_after.isoformat()}, before the requested {days} days; the serving "
            "certificate ends then too. Delete ca.crt/ca.key to start a new CA"
        )
    not_before = max(now - CLOCK_SKEW, ca_cert.not_valid_before_utc)
    tls_key, tls_cert = _make_serving_cert(ca_key, ca_cert, dns_names, ips, not_before, not_after)
    # Key before certificate: a watcher that reloads when tls.crt changes then finds the matching
    # key already in place. (A watcher must still tolerate a transient mismatch and retry.)
    write_atomic(out / TLS_KEY, _key_pem(tls_key), KEY_MODE)
    write_atomic(out / TLS_CERT, tls_cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)

    return CertResult(
        out_dir=out,
        ca_reused=ca_reused,
        ca_bundle=ca_bundle_from_file(ca_cert_path),
        dns_names=tuple(dns_names),
        ip_addresses=tuple(str(ip) for ip in ips),
        not_after=not_after,
        warnings=tuple(warnings),
    )


def add_certs_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``certs`` on the ``webhook`` sub-command group."""
    parser = subparsers.add_parser(
        "certs",
        help="create or renew the webhook's CA and serving certificate",
        description=(
            "Create a CA and a serving certificate for the webhook Service and write ca.crt, ca.key, "
            "tls.crt and tls.key to --out. An unexpired CA already in --out is reused, so only the "
            "serving certificate is renewed and the caBundle stays the same. Prints the caBundle "
            "(base64 of ca.crt) on stdout."
        ),
    )
    parser.add_argument(
        "--service", required=True, help="Service name the apiserver calls (e.g. kexlint-webhook)"
    )
    parser.add_argument("--namespace", required=True, help="namespace of that Service")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory for the PEM files")
    parser.add_argument(
        "--san",
        action="append",
        default=[],
        metavar="DNS_OR_IP",
        help="extra subject alternative name; IP addresses become IPAddress SANs (repeatable)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"serving certificate validity (default {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--ca-days",
        type=int,
        default=DEFAULT_CA_DAYS,
        help=f"validity of a newly created CA (default {DEFAULT_CA_DAYS})",
    )
    parser.set_defaults(func=cmd_certs)
    return parser


def cmd_certs(args: argparse.Namespace) -> int:
    """``kexlint webhook certs``: caBundle on stdout, diagnostics on stderr.

    Exit codes: 0 ok, 1 failure (unusable existing CA, I/O error, missing cryptography), 2 bad argument.
    """
    try:
        import cryptography  # noqa: F401
    except ImportError:
        print(
            "kexlint webhook certs needs the 'cryptography' package: pip install 'kexlint[webhook]'",
            file=sys.stderr,
        )
        return 1
    try:
        result = generate_certs(
            service=args.service,
            namespace=args.namespace,
            out_dir=args.out,
            sans=args.san,
            days=args.days,
            ca_days=args.ca_days,
        )
    except InvalidArgument as exc:
        print(f"kexlint webhook certs: {exc}", file=sys.stderr)
        return 2
    except (CertError, OSError) as exc:
        print(f"kexlint webhook certs: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"kexlint webhook certs: warning: {warning}", file=sys.stderr)
    names = ", ".join([*result.dns_names, *result.ip_addresses])
    print(
        f"{'reused' if result.ca_reused else 'created'} CA {result.out_dir / CA_CERT}; "
        f"serving certificate {result.out_dir / TLS_CERT} for {names}, "
        f"valid until {result.not_after.isoformat()}",
        file=sys.stderr,
    )
    print(result.ca_bundle)
    return 0
