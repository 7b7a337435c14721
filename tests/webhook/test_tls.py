"""The review port's TLS (issue 8): no CBC suites, optional mutual TLS with --client-ca, metrics elsewhere.

Real server, real handshakes on loopback, clients that verify the server against its CA.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviews import admission_review, pod
from serving import Server, kexlint, start_server

pytest.importorskip("gunicorn")
pytest.importorskip("cryptography")

# TLS 1.2 CBC suites (with SHA-1 and SHA-2 MACs) for an ECDSA certificate, as an old client offers them.
CBC_SUITES = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"


def _client_pki(out: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a client certificate (clientAuth) it signed, as the apiserver's client identity would be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} client CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "ca.crt", out / "client.crt", out / "client.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _handshake(server: Server, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        return context.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


def _refused(server: Server, context: ssl.SSLContext) -> bool:
    """True if the server refuses the handshake, or (TLS 1.3 client auth) the first request on it."""
    try:
        with _handshake(server, context) as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return not tls.recv(100).startswith(b"HTTP/1.1 200")
    except (ssl.SSLError, ConnectionError):
        return True


@pytest.fixture(scope="module")
def plain(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("tls"), certs / "tls.crt", certs / "tls.key", certs / "ca.crt",
                           workers=1)
    yield running
    running.stop()


def test_cbc_only_clients_cannot_connect(plain: Server) -> None:
    context = plain.context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 has no CBC suites to offer
    context.set_ciphers(CBC_SUITES)
    with pytest.raises(ssl.SSLError):
        _handshake(plain, context).close()


def test_aead_suites_are_served(plain: Server) -> None:
    tls12 = plain.context()
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with _handshake(plain, tls12) as tls:
        name, version, _ = tls.cipher()
        assert version == "TLSv1.2" and ("GCM" in name or "CHACHA20" in name), name
    with _handshake(plain, plain.context()) as tls:
        assert tls.version() == "TLSv1.3"


def test_mutual_tls_requires_a_client_certificate_from_the_client_ca(certs: Path, tmp_path: Path) -> None:
    ca, cert, key = _client_pki(tmp_path / "apiserver", "apiserver")
    _, other_cert, other_key = _client_pki(tmp_path / "other", "other")
    server = start_server(tmp_path, certs / "tls.crt", certs / "tls.key", certs / "ca.crt", workers=1,
                          client_ca=ca, client_cert=(cert, key))
    try:
        # The apiserver's certificate: reviews work.
        assert server.review(admission_review("CREATE", pod("web")))["allowed"] is True
        # No client certificate: the probes' paths answer (the kubelet presents none), reviews do not.
        anonymous = Server(server.process, server.port, server.cafile, server.log)
        assert anonymous.call("GET", "/healthz")[0] == 200
        assert anonymous.call("GET", "/readyz")[0] == 200
        status, answer, _ = anonymous.call("POST", "/validate", b"{}")
        assert status == 403 and "client certificate" in answer["error"]
        # A certificate from another CA: the handshake fails.
        stranger = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        stranger.load_cert_chain(str(other_cert), str(other_key))
        assert _refused(server, stranger)
        # Refused handshakes leave the server as it was.
        assert server.review(admission_review("CREATE", pod("web")))["allowed"] is True
    finally:
        assert server.stop() == 0


def test_unreadable_client_ca_is_a_one_line_error(certs: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"
    import subprocess

    with pytest.raises(subprocess.CalledProcessError) as failed:
        kexlint("webhook", "serve", "--cert", str(certs / "tls.crt"), "--key", str(certs / "tls.key"),
                "--client-ca", str(missing), "--port", "0")
    assert failed.value.returncode == 2
    assert failed.value.stderr.strip().count("\n") == 0 and str(missing) in failed.value.stderr


def test_metrics_port_in_use_is_a_one_line_error(certs: Path) -> None:
    import subprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(subprocess.CalledProcessError) as failed:
            kexlint("webhook", "serve", "--cert", str(certs / "tls.crt"), "--key", str(certs / "tls.key"),
                    "--host", "127.0.0.1", "--port", "0", "--metrics-port", str(taken.getsockname()[1]))
    assert failed.value.returncode == 2
    assert failed.value.stderr.strip().count("\n") == 0 and "cannot serve metrics" in failed.value.stderr
