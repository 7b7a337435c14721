"""`kexlint webhook certs`: the chain verifies, a real TLS handshake succeeds, renewal keeps the CA."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

pytest.importorskip("cryptography", reason="the webhook extra (cryptography) is not installed")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: E402

from kexlint.webhook import certs  # noqa: E402
from kexlint.webhook.commands import run  # noqa: E402

SERVICE = "kexlint-webhook"
NAMESPACE = "policy"
SVC_NAMES = [
    SERVICE,
    f"{SERVICE}.{NAMESPACE}",
    f"{SERVICE}.{NAMESPACE}.svc",
    f"{SERVICE}.{NAMESPACE}.svc.cluster.local",
]


def _run_certs(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    rc = run(["certs", "--service", SERVICE, "--namespace", NAMESPACE, "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.out


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def cert_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "certs"
    _run_certs(out, capsys, "--san", "127.0.0.1", "--san", "webhook.example.test")
    return out


def test_writes_the_four_pem_files_with_private_keys_0600(cert_dir: Path) -> None:
    assert sorted(p.name for p in cert_dir.iterdir()) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
    for name in ("ca.key", "tls.key"):
        assert stat.S_IMODE((cert_dir / name).stat().st_mode) == 0o600, name
        assert (cert_dir / name).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    for name in ("ca.crt", "tls.crt"):
        assert (cert_dir / name).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_ca_is_a_self_signed_ca(cert_dir: Path) -> None:
    ca = _load(cert_dir / "ca.crt")
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"


def test_serving_cert_is_signed_by_the_ca_with_sans_eku_and_validity(cert_dir: Path) -> None:
    ca = _load(cert_dir / "ca.crt")
    leaf = _load(cert_dir / "tls.crt")
    leaf.verify_directly_issued_by(ca)  # issuer name matches and the CA's key made the signature

    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [*SVC_NAMES, "webhook.example.test"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]

    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    now = dt.datetime.now(dt.timezone.utc)
    assert leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc
    lifetime = leaf.not_valid_after_utc - now
    assert dt.timedelta(days=certs.DEFAULT_DAYS - 1) < lifetime <= dt.timedelta(days=certs.DEFAULT_DAYS)
    assert ca.not_valid_after_utc >= leaf.not_valid_after_utc


def test_days_sets_the_serving_lifetime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run_certs(tmp_path, capsys, "--days", "30")
    leaf = _load(tmp_path / "tls.crt")
    lifetime = leaf.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(days=29) < lifetime <= dt.timedelta(days=30)


def test_stdout_is_the_base64_ca_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run_certs(tmp_path, capsys)
    assert out.strip() == base64.b64encode((tmp_path / "ca.crt").read_bytes()).decode()
    assert out.count("\n") == 1  # one line: pasteable into caBundle / usable as $(...)


def test_rerun_keeps_the_ca_and_renews_the_serving_cert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_bundle = _run_certs(tmp_path, capsys)
    ca_crt, ca_key = (tmp_path / "ca.crt").read_bytes(), (tmp_path / "ca.key").read_bytes()
    tls_crt, tls_key = (tmp_path / "tls.crt").read_bytes(), (tmp_path / "tls.key").read_bytes()

    second_bundle = _run_certs(tmp_path, capsys)

    assert second_bundle == first_bundle
    assert (tmp_path / "ca.crt").read_bytes() == ca_crt
    assert (tmp_path / "ca.key").read_bytes() == ca_key
    assert (tmp_path / "tls.crt").read_bytes() != tls_crt
    assert (tmp_path / "tls.key").read_bytes() != tls_key
    new_leaf = _load(tmp_path / "tls.crt")
    new_leaf.verify_directly_issued_by(_load(tmp_path / "ca.crt"))
    assert new_leaf.serial_number != x509.load_pem_x509_certificate(tls_crt).serial_number
    # atomic writes leave no temporary files behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]


def test_expired_ca_is_replaced(tmp_path: Path) -> None:
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    old = certs.generate_certs(SERVICE, NAMESPACE, tmp_path, days=1, ca_days=2, now=long_ago)
    new = certs.generate_certs(SERVICE, NAMESPACE, tmp_path)
    assert not new.ca_reused
    assert new.ca_bundle != old.ca_bundle
    assert any("expired" in w for w in new.warnings)
    _load(tmp_path / "tls.crt").verify_directly_issued_by(_load(tmp_path / "ca.crt"))


def test_serving_cert_never_outlives_the_ca(tmp_path: Path) -> None:
    certs.generate_certs(SERVICE, NAMESPACE, tmp_path, ca_days=10)
    result = certs.generate_certs(SERVICE, NAMESPACE, tmp_path, days=365)
    assert result.ca_reused and result.warnings
    assert _load(tmp_path / "tls.crt").not_valid_after_utc <= _load(tmp_path / "ca.crt").not_valid_after_utc


def test_half_a_ca_is_refused_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run_certs(tmp_path, capsys)
    (tmp_path / "ca.crt").unlink()
    key = (tmp_path / "ca.key").read_bytes()
    rc = run(["certs", "--service", SERVICE, "--namespace", NAMESPACE, "--out", str(tmp_path)])
    assert rc == 1
    assert "ca.key" in capsys.readouterr().err
    assert (tmp_path / "ca.key").read_bytes() == key


def test_mismatched_ca_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    certs.generate_certs(SERVICE, NAMESPACE, tmp_path)
    certs.generate_certs(SERVICE, NAMESPACE, other)
    (tmp_path / "ca.key").write_bytes((other / "ca.key").read_bytes())
    rc = run(["certs", "--service", SERVICE, "--namespace", NAMESPACE, "--out", str(tmp_path)])
    assert rc == 1
    assert "does not belong" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--service", "Bad_Name", "--namespace", NAMESPACE],
        ["--service", SERVICE, "--namespace", "Not.A.Namespace"],
        ["--service", SERVICE, "--namespace", NAMESPACE, "--san", "not a name"],
        ["--service", SERVICE, "--namespace", NAMESPACE, "--days", "0"],
    ],
)
def test_invalid_input_fails_without_writing(tmp_path: Path, argv: list[str]) -> None:
    out = tmp_path / "out"
    assert run(["certs", *argv, "--out", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir())


def test_missing_required_option_is_a_usage_error(tmp_path: Path) -> None:
    assert run(["certs", "--namespace", NAMESPACE, "--out", str(tmp_path)]) == 2


def test_ipv6_san(tmp_path: Path) -> None:
    certs.generate_certs(SERVICE, NAMESPACE, tmp_path, sans=["::1"])
    sans = _load(tmp_path / "tls.crt").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("::1")]


# --- a real TLS handshake -----------------------------------------------------------------------


def _handshake(cert_dir: Path, server_hostname: str) -> bytes:
    """Serve one connection with tls.crt/tls.key on 127.0.0.1; connect verifying against ca.crt."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_dir / "tls.crt", cert_dir / "tls.key")

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello from kexlint")
            except (ssl.SSLError, OSError):
                pass  # the client rejected us; the client side reports why

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert_dir / "ca.crt"))
        assert client_ctx.check_hostname and client_ctx.verify_mode == ssl.CERT_REQUIRED
        # Strict RFC 5280 checks (Python 3.13 turns them on by default): catches a CA lacking
        # critical basicConstraints, keyUsage or key identifiers.
        client_ctx.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                return tls.recv(100)
    finally:
        thread.join(timeout=10)
        listener.close()


@pytest.mark.parametrize(
    "hostname", [f"{SERVICE}.{NAMESPACE}.svc", f"{SERVICE}.{NAMESPACE}.svc.cluster.local"]
)
def test_tls_handshake_verifies_service_name(cert_dir: Path, hostname: str) -> None:
    assert _handshake(cert_dir, hostname) == b"hello from kexlint"


def test_tls_handshake_verifies_ip_san(cert_dir: Path) -> None:
    assert _handshake(cert_dir, "127.0.0.1") == b"hello from kexlint"


def test_tls_handshake_rejects_other_names(cert_dir: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(cert_dir, "other.policy.svc")


def test_tls_handshake_without_ip_san_rejects_the_ip(tmp_path: Path) -> None:
    certs.generate_certs(SERVICE, NAMESPACE, tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tmp_path, "127.0.0.1")


def test_tls_handshake_still_verifies_after_renewal(cert_dir: Path) -> None:
    certs.generate_certs(SERVICE, NAMESPACE, cert_dir, sans=["127.0.0.1"])
    assert _handshake(cert_dir, f"{SERVICE}.{NAMESPACE}.svc") == b"hello from kexlint"
