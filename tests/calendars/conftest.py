"""Real servers on loopback for the calendar network layer: a Radicale CalDAV server (started once
per session, htpasswd auth, a fresh calendar per test), a small HTTP server with awkward answers
(big, slow, gzip bombs, redirects), and the same server over TLS with a certificate from a
throwaway certificate authority."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.postgres import free_port

RADICALE_USER = "eigenaar"
RADICALE_PASSWORD = "Zeer-Geheim-Wachtwoord-42"
RADICALE_SECOND = ("tweede", "Ook-Geheim-Wachtwoord-7")  # an account with one calendar (discovery tests)

SMALL_ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:one@test\r\nDTSTAMP:20250101T000000Z\r\n"
    b"DTSTART:20250106T080000Z\r\nDTEND:20250106T100000Z\r\nSUMMARY:Bezet\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


# --- Radicale --------------------------------------------------------------------------------


@dataclass
class RadicaleServer:
    base_url: str  # http://127.0.0.1:port/
    user: str
    password: str
    log_path: Path
    client: httpx.Client  # for setting up calendars (one client: its SSL set-up is not free)

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    @property
    def home_url(self) -> str:
        return f"{self.base_url}{self.user}/"

    def make_calendar(self, name: str | None = None, displayname: str = "Lasrobot") -> str:
        url = f"{self.home_url}{name or uuid.uuid4().hex}/"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"<D:displayname>{displayname}</D:displayname>"
            '<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>'
            "</D:prop></D:set></C:mkcalendar>"
        )
        response = self.client.request("MKCALENDAR", url, auth=self.auth, content=body.encode(),
                                       headers={"Content-Type": "application/xml; charset=utf-8"})
        assert response.status_code == 201, response.text
        return url


def _wait_until_answering(client: httpx.Client, url: str, process: subprocess.Popen, log_path: Path, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Radicale stopped at start:\n{log_path.read_text()}")
        try:
            client.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"Radicale did not answer within {seconds} s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    """`python -m radicale` on 127.0.0.1 and a free port: htpasswd auth (plain), rights
    `owner_only` (a user owns /user/ and below), storage in a temporary folder."""
    root = tmp_path_factory.mktemp("radicale")
    store = Path(tempfile.mkdtemp(prefix="werkbank-radicale-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    users = root / "users"
    users.write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\n{RADICALE_SECOND[0]}:{RADICALE_SECOND[1]}\n")
    port = free_port()
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "delay_on_error = 0\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {users}\n"
        "htpasswd_encryption = plain\n"
        "delay = 0\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {store}\n"  # tmpfs where there is one: Radicale fsyncs every write
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = warning\n"
        "mask_passwords = True\n"
    )
    log_path = root / "radicale.log"
    with open(log_path, "wb") as log_file:
        # --config replaces the default files (/etc/radicale/config, ~/.config/radicale/config).
        process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                                   stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/"
    client = httpx.Client(timeout=10)
    try:
        _wait_until_answering(client, base_url, process, log_path)
        yield RadicaleServer(base_url=base_url, user=RADICALE_USER, password=RADICALE_PASSWORD, log_path=log_path,
                             client=client)
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture
def radicale_calendar(radicale) -> str:
    """The URL of a new, empty calendar collection owned by `eigenaar`."""
    return radicale.make_calendar()


# --- a small HTTP server with awkward answers --------------------------------------------------


@dataclass
class WebServer:
    base_url: str
    port: int
    requests: list[dict] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                self.close_connection = True

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parsed = urlparse(self.path)
        query = parse_qs(parsed.query)
        self.server.record.append({"path": self.path, "headers": dict(self.headers.items())})
        path = parsed.path
        if path == "/ics":
            etag = '"v1"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, headers={"ETag": etag})
            else:
                self._send(200, SMALL_ICS, {"Content-Type": "text/calendar", "ETag": etag,
                                            "Last-Modified": "Mon, 06 Jan 2025 08:00:00 GMT"})
        elif path == "/echo":
            self._send(200, json.dumps(dict(self.headers.items())).encode(), {"Content-Type": "application/json"})
        elif path == "/redirect":
            self._send(int(query.get("status", ["302"])[0]), headers={"Location": query["to"][0]})
        elif path == "/big":  # a Content-Length that says too much
            size = int(query["size"][0])
            self._send(200, b"X" * size, {"Content-Type": "text/calendar"})
        elif path == "/big-unannounced":  # no length: read until the server closes
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(int(query["chunks"][0])):
                    self.wfile.write(b"Y" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path == "/gzip":
            size = int(query["size"][0])
            body = gzip.compress(SMALL_ICS + b" " * size)
            self._send(200, body, {"Content-Type": "text/calendar", "Content-Encoding": "gzip"})
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"Z")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"nope")
        else:
            self._send(404, b"not here")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up early (size limits, refused certificates) are what the tests do.
        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            return
        super().handle_error(request, client_address)


def _serve(server: ThreadingHTTPServer):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="session")
def _web_server():
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.record = []
    _serve(server)
    port = server.server_address[1]
    try:
        yield WebServer(base_url=f"http://127.0.0.1:{port}/", port=port, requests=server.record)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def web_server(_web_server):
    """The awkward HTTP server; `requests` lists what it received during this test."""
    _web_server.requests.clear()
    return _web_server


# --- TLS ---------------------------------------------------------------------------------------


def _certificates(tmp: Path, hostname: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for `hostname`, signed by it (files: ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Werkbank test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class TLSServer:
    hostname: str  # the name on the certificate
    port: int
    client_context: ssl.SSLContext  # trusts the throwaway CA
    requests: list[dict]


@pytest.fixture(scope="session")
def _tls_server(tmp_path_factory):
    hostname = "calendar.example.test"
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"), hostname)
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.record = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    client_context = ssl.create_default_context(cafile=str(ca))
    try:
        yield TLSServer(hostname=hostname, port=server.server_address[1], client_context=client_context,
                        requests=server.record)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls_server(_tls_server):
    _tls_server.requests.clear()
    return _tls_server


# --- DNS -----------------------------------------------------------------------------------------


@pytest.fixture
def fake_dns(monkeypatch):
    """A dict of host name -> list of addresses (or an exception to raise) that the guarded
    transport's resolver answers from; other names resolve for real."""
    from calendars import fetch

    table: dict[str, list[str] | Exception] = {}
    real_resolve = fetch._resolve

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            answer = table[host]
            if isinstance(answer, Exception):
                raise answer
            return [str(ipaddress.ip_address(a)) for a in answer]
        return await real_resolve(host, port)

    monkeypatch.setattr(fetch, "_resolve", resolve)
    return table


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening."""
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


# --- the booking world (a resource, its owner's staff, two schools), for the calendar tests -------

from tests.booking.conftest import tuesday, world  # noqa: E402, F401
from tests.core.test_mail import smtp_server  # noqa: E402, F401
