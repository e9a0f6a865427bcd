"""The production certificate loader against a real https server on 127.0.0.1."""

import ipaddress
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from activation.feedback import CertificateUnavailableError, HttpsCertificateLoader

from .payloads import DJANGO_BOUNCY_PEM

PEM = DJANGO_BOUNCY_PEM.read_bytes()


def _tls_identity(directory):
    """A throwaway certificate for 127.0.0.1, and its key, as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class _Handler(BaseHTTPRequestHandler):
    routes = {
        "/SimpleNotificationService-ok.pem": (200, {}, PEM),
        "/missing.pem": (404, {}, b"not found"),
        "/moved.pem": (302, {"Location": "/SimpleNotificationService-ok.pem"}, b""),
        "/huge.pem": (200, {}, PEM * 100),
        "/html.pem": (200, {}, b"<html>maintenance</html>"),
    }

    def do_GET(self):
        self.server.requests.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    cert_file, key_file = _tls_identity(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", server, cert_file
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def loader(https_server):
    _, server, cert_file = https_server
    server.requests.clear()
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(cert_file)))
    with HttpsCertificateLoader(client, max_bytes=16 * 1024) as loader:
        yield loader
    client.close()


def test_fetches_once_and_serves_later_calls_from_the_cache(https_server, loader):
    base, server, _ = https_server
    url = f"{base}/SimpleNotificationService-ok.pem"
    assert loader(url) == PEM
    assert loader(url) == PEM
    assert server.requests == ["/SimpleNotificationService-ok.pem"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.pem", "HTTP 404"),
        ("/moved.pem", "HTTP 302"),
        ("/huge.pem", "larger than 16384 bytes"),
        ("/html.pem", "did not return a PEM"),
    ],
)
def test_bad_answers_are_unavailable_and_not_cached(https_server, loader, path, reason):
    base, server, _ = https_server
    for _ in range(2):
        with pytest.raises(CertificateUnavailableError, match=reason):
            loader(base + path)
    assert server.requests == [path, path]  # retried, not cached; the redirect not followed


def test_a_server_we_do_not_trust_is_unavailable(https_server):
    base, server, _ = https_server
    server.requests.clear()
    # The default trust store does not hold our test certificate.
    with (
        HttpsCertificateLoader() as untrusting,
        pytest.raises(CertificateUnavailableError, match="ConnectError"),
    ):
        untrusting(f"{base}/SimpleNotificationService-ok.pem")
    assert server.requests == []


def test_only_https_is_fetched(loader):
    with pytest.raises(CertificateUnavailableError, match="only fetched over https"):
        loader("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem")
