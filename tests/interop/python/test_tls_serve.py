"""TLS behaviour of `duplex serve --tls-cert/--tls-key`, with Python's ssl module and the
`websockets` client as peers: versions and ALPN, HTTPS pages, SNI, client certificates,
certificate reload on SIGHUP, and bad handshakes (plain HTTP, garbage, a stalled handshake, an
unknown CA), each while another wss:// connection stays open and keeps echoing.

Certificates are made at test time (duplex_server.certs()). Loopback only.
"""

import asyncio
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import warnings
import urllib.request
from pathlib import Path

import websockets

from duplex_server import DuplexServer, certs, client_context, duplex_bin, step

HOST = "127.0.0.1"
# How a client whose certificate the server refuses sees it: in TLS 1.3 its handshake has
# finished when the server's alert arrives, so the upgrade's response is what fails.
REFUSED = (ssl.SSLError, websockets.InvalidMessage, websockets.ConnectionClosed, ConnectionError)


def tls_socket(port, ctx=None, server_hostname="localhost"):
    """A finished TLS connection to the server (blocking, 5 s timeout)."""
    raw = socket.create_connection((HOST, port), timeout=5)
    return (ctx or client_context()).wrap_socket(raw, server_hostname=server_hostname)


def peer_common_name(tls):
    subject = dict(pair[0] for pair in tls.getpeercert()["subject"])
    return subject["commonName"]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_until_eof(sock, timeout=3.0):
    """Everything the server sends until it closes; raises on timeout."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


class TlsTestCase(unittest.IsolatedAsyncioTestCase):
    FLAGS: tuple = ()

    async def asyncSetUp(self):
        asyncio.get_running_loop().slow_callback_duration = 5.0
        self.server = DuplexServer("-v", *self.FLAGS, tls=True).start()

    async def asyncTearDown(self):
        self.assertEqual(self.server.stop(), 0, self.server.output())

    def connect(self, path="/", **kwargs):
        kwargs.setdefault("ssl", client_context())
        kwargs.setdefault("open_timeout", 10)
        kwargs.setdefault("close_timeout", 10)
        return websockets.connect(self.server.path(path), **kwargs)

    async def assert_echoes(self, ws, text):
        await step(ws.send(text))
        self.assertEqual(await step(ws.recv()), text)

    def server_logged(self, line, timeout=5.0):
        return wait_for(lambda: line in self.server.stderr_text(), timeout)


class VersionsAndPages(TlsTestCase):
    async def test_tls13_by_default_with_alpn_http11(self):
        ctx = client_context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        with tls_socket(self.server.port, ctx) as tls:
            self.assertEqual(tls.version(), "TLSv1.3")
            self.assertEqual(tls.selected_alpn_protocol(), "http/1.1")
            self.assertEqual(peer_common_name(tls), "localhost")

    async def test_tls12_uses_a_forward_secret_aead_suite(self):
        ctx = client_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with tls_socket(self.server.port, ctx) as tls:
            self.assertEqual(tls.version(), "TLSv1.2")
            name = tls.cipher()[0]
            self.assertTrue(name.startswith("ECDHE-"), name)
            self.assertTrue("GCM" in name or "CHACHA20" in name, name)

    async def test_tls11_is_refused(self):
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is what is tested
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(str(certs() / "ca.pem"))
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError) as raised:
            tls_socket(self.server.port, ctx).close()
        self.assertEqual(raised.exception.reason, "TLSV1_ALERT_PROTOCOL_VERSION")
        self.assertTrue(self.server_logged(": unsupported protocol\n"), self.server.output())

    async def test_the_builtin_page_over_https(self):
        url = f"https://localhost:{self.server.port}/"
        with urllib.request.urlopen(url, context=client_context(), timeout=5) as response:
            self.assertEqual(response.status, 200)
            self.assertIn(b"<!doctype html>", response.read().lower())

    async def test_wss_with_localhost_and_the_address(self):
        async with self.connect() as ws:
            await self.assert_echoes(ws, "by address ✓")
        async with websockets.connect(f"wss://localhost:{self.server.port}/echo",
                                      ssl=client_context()) as ws:
            await self.assert_echoes(ws, "by name ✓")


def upgrade_request(port, path="/"):
    return (f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def masked_frame(opcode, payload):
    """A short (< 126 bytes) client frame with a zero mask key."""
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


class ConnectCommand(TlsTestCase):
    """`duplex connect wss://...`: refuses an unknown CA with one line unless told otherwise."""

    def connect_command(self, *flags):
        result = subprocess.run(
            [duplex_bin(), "connect", f"wss://localhost:{self.server.port}/echo", "-x", "hi ✓",
             "-w", "0.2", "--no-proxy", *flags],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        return result.returncode, result.stdout.decode(), result.stderr.decode()

    async def test_an_unknown_ca_is_refused_with_one_line(self):
        self.assertEqual(await asyncio.to_thread(self.connect_command),
                         (1, "", "duplex connect: TLS handshake failed: certificate verify failed "
                                 "(unable to get local issuer certificate)\n"))

    async def test_the_test_ca_is_trusted_when_given(self):
        self.assertEqual(
            await asyncio.to_thread(self.connect_command, "--ca-file", str(certs() / "ca.pem")),
            (0, "< hi ✓\n", ""))

    async def test_insecure_connects_and_warns(self):
        self.assertEqual(await asyncio.to_thread(self.connect_command, "--insecure"),
                         (0, "< hi ✓\n", "duplex: warning: TLS certificates are not verified "
                                          "(insecure mode, for tests only)\n"))


class RecordLayer(TlsTestCase):
    """What goes on the wire below the WebSocket frames."""

    def open_raw(self):
        """TLS over memory buffers on a plain socket, upgraded to WebSocket; returns a helper
        that reads raw TLS records and the bytes they decrypt to."""
        sock = socket.create_connection((HOST, self.server.port), timeout=5)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")

        class Raw:
            records = []     # content types of the records received
            pending = b""    # raw bytes not yet split into records

            def pump(self, timeout=2.0):
                """Reads what arrives within `timeout` (at least one chunk)."""
                sock.settimeout(timeout)
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    return b""
                if not data:
                    incoming.write_eof()
                incoming.write(data)
                self.pending += data
                while len(self.pending) >= 5:
                    size = int.from_bytes(self.pending[3:5], "big")
                    if len(self.pending) < 5 + size:
                        break
                    self.records.append(self.pending[0])
                    self.pending = self.pending[5 + size:]
                return data

            def write(self, data):
                tls.write(data)
                sock.sendall(outgoing.read())

            def read(self):
                try:
                    return tls.read(65536)
                except ssl.SSLWantReadError:
                    return None

        raw = Raw()
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                raw.pump()
        sock.sendall(outgoing.read())
        raw.sock, raw.tls = sock, tls
        raw.write(upgrade_request(self.server.port))
        head = b""
        while b"\r\n\r\n" not in head:
            raw.pump()
            while (chunk := raw.read()):
                head += chunk
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        return raw

    async def test_a_burst_echoed_in_one_iteration_is_one_record(self):
        raw = self.open_raw()
        while raw.pump(0.3):  # the session tickets TLS 1.3 sends after the handshake
            raw.read()
        before = len(raw.records)
        # Ten frames in one record: the server reads them at once, and its ten echoes are
        # corked into one write, so one record.
        raw.write(b"".join(masked_frame(1, b"message %d" % i) for i in range(10)))
        expected = b"".join(bytes([0x81, len(b"message %d" % i)]) + b"message %d" % i
                            for i in range(10))
        got = b""
        while len(got) < len(expected):
            self.assertTrue(raw.pump(), "the echoes did not come")
            while (chunk := raw.read()):
                got += chunk
        self.assertEqual(got, expected)
        self.assertEqual(raw.records[before:], [23])
        raw.sock.close()

    async def test_the_server_sends_close_notify_after_its_close_frame(self):
        raw = self.open_raw()
        raw.write(masked_frame(8, b"\x03\xe8"))
        got = b""
        ended = None
        while ended is None:
            self.assertTrue(raw.pump(), "the server did not finish")
            try:
                while (chunk := raw.tls.read(65536)):
                    got += chunk
                ended = "close_notify"  # read() returns b"" at close_notify
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLEOFError:
                ended = "EOF without close_notify"
        self.assertEqual(got, b"\x88\x02\x03\xe8")
        self.assertEqual(ended, "close_notify")
        raw.sock.close()

    async def test_renegotiation_is_refused(self):
        def renegotiate():
            return subprocess.run(
                ["openssl", "s_client", "-connect", f"{HOST}:{self.server.port}", "-tls1_2",
                 "-CAfile", str(certs() / "ca.pem"), "-servername", "localhost"],
                input=b"R\n", capture_output=True, timeout=10)
        result = await asyncio.to_thread(renegotiate)
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        self.assertIn("RENEGOTIATING", output)
        self.assertIn(":no renegotiation:", output)


class BadHandshakes(TlsTestCase):
    FLAGS = ("--handshake-timeout", "1")

    async def asyncSetUp(self):
        await super().asyncSetUp()
        # A connection that must not notice anything below.
        self.bystander = await self.connect("/echo")
        await self.assert_echoes(self.bystander, "before")

    async def asyncTearDown(self):
        await self.assert_echoes(self.bystander, "still here")
        await self.bystander.close()
        await super().asyncTearDown()

    async def test_plain_http_gets_a_400_that_says_why(self):
        def exchange():
            with socket.create_connection((HOST, self.server.port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                return read_until_eof(s)
        body = b"This port speaks TLS: use https:// or wss://\n"
        self.assertEqual(await asyncio.to_thread(exchange),
                         b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 45\r\nConnection: close\r\n\r\n" + body)
        self.assertTrue(self.server_logged(
            ": plain HTTP request on the TLS port (answered 400)\n"), self.server.output())

    async def test_plain_websocket_upgrade_gets_the_400_too(self):
        with self.assertRaises(websockets.InvalidStatusCode) as raised:
            async with websockets.connect(f"ws://127.0.0.1:{self.server.port}/", open_timeout=5):
                pass
        self.assertEqual(raised.exception.status_code, 400)

    async def test_garbage_is_dropped(self):
        def exchange():
            with socket.create_connection((HOST, self.server.port), timeout=5) as s:
                s.sendall(b"\x00\x01garbage, not a TLS record\r\n" * 4)
                return read_until_eof(s)
        reply = await asyncio.to_thread(exchange)
        # At most a TLS alert record (content type 21), then the close.
        self.assertTrue(reply == b"" or reply[0] == 21, reply)
        self.assertTrue(self.server_logged(": wrong version number\n"), self.server.output())

    async def test_a_stalled_handshake_is_dropped_at_the_handshake_timeout(self):
        def exchange():
            with socket.create_connection((HOST, self.server.port), timeout=5) as s:
                # The start of a ClientHello record whose body never comes.
                s.sendall(bytes([22, 3, 1, 2, 0]) + b"\x01\x00")
                started = time.monotonic()
                reply = read_until_eof(s, timeout=5)
                return reply, time.monotonic() - started
        reply, waited = await asyncio.to_thread(exchange)
        self.assertEqual(reply, b"")
        self.assertGreaterEqual(waited, 0.5)  # not dropped at once: the timeout is 1 s

    async def test_a_client_that_does_not_trust_the_ca_fails_with_the_reason(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as raised:
            async with self.connect(ssl=client_context(ca="rogue-ca.pem")):
                pass
        self.assertEqual(raised.exception.verify_message, "unable to get local issuer certificate")
        # A blocking socket sends its alert before closing (asyncio's may not): the server
        # reports it.
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_socket(self.server.port, client_context(ca="rogue-ca.pem")).close()
        self.assertTrue(self.server_logged(": tlsv1 alert unknown ca\n"), self.server.output())

    async def test_many_bad_clients_at_once(self):
        def bad(i):
            with socket.create_connection((HOST, self.server.port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\n\r\n" if i % 2 else b"\x16\x03\x01\xff\xff" + b"x" * 64)
                read_until_eof(s)
        await asyncio.gather(*(asyncio.to_thread(bad, i) for i in range(20)))


class Sni(TlsTestCase):
    @property
    def FLAGS(self):
        other = f"{certs() / 'other.pem'}:{certs() / 'other.key'}"
        return ("--tls-sni", f"other.test:{other}", "--tls-sni", f"*.wild.test:{other}")

    async def test_the_certificate_follows_the_requested_name(self):
        for name, expected in [("localhost", "localhost"), ("other.test", "other.test"),
                               ("a.wild.test", "other.test")]:
            with self.subTest(name=name), tls_socket(self.server.port, server_hostname=name) as tls:
                self.assertEqual(peer_common_name(tls), expected)
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_socket(self.server.port, server_hostname="nobody.test").close()

    async def test_the_bad_flag_is_a_usage_error(self):
        server = DuplexServer("--tls-sni", "just-a-host", tls=True)
        with self.assertRaises(RuntimeError):
            server.start()
        self.assertEqual(server.proc.wait(5), 2)
        self.assertIn("--tls-sni needs HOST:CERT:KEY, got 'just-a-host'", server.output())


class ClientCertificates(TlsTestCase):
    @property
    def FLAGS(self):
        return ("--tls-ca", str(certs() / "ca.pem"))

    async def test_a_client_with_a_certificate_from_the_ca_is_served(self):
        async with self.connect(ssl=client_context(cert="client")) as ws:
            await self.assert_echoes(ws, "mutual ✓")

    def connect_command(self, *flags):
        result = subprocess.run(
            [duplex_bin(), "connect", f"wss://localhost:{self.server.port}/echo", "-x", "hi",
             "-w", "0.2", "--no-proxy", "--ca-file", str(certs() / "ca.pem"), *flags],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        return result.returncode, result.stdout.decode(), result.stderr.decode()

    async def test_duplex_connect_with_and_without_a_client_certificate(self):
        self.assertEqual(
            await asyncio.to_thread(self.connect_command, "--cert", str(certs() / "client.pem"),
                                    "--key", str(certs() / "client.key")),
            (0, "< hi\n", ""))
        self.assertEqual(await asyncio.to_thread(self.connect_command),
                         (1, "", "duplex connect: connection lost: tlsv13 alert certificate "
                                 "required\n"))

    async def test_a_client_without_a_certificate_is_refused(self):
        with self.assertRaises(REFUSED):
            async with self.connect() as ws:
                await step(ws.send("x"))
                await step(ws.recv())
        self.assertTrue(self.server_logged(": peer did not return a certificate\n"),
                        self.server.output())

    async def test_a_certificate_from_another_ca_is_refused(self):
        with self.assertRaises(REFUSED):
            async with self.connect(ssl=client_context(cert="rogue")) as ws:
                await step(ws.send("x"))
                await step(ws.recv())
        self.assertTrue(self.server_logged(
            ": certificate verify failed (unable to get local issuer certificate)\n"),
            self.server.output())


class Reload(unittest.IsolatedAsyncioTestCase):
    """SIGHUP re-reads the files: new connections get the new certificate, open ones stay."""

    async def asyncSetUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="duplex_reload_"))
        self.install("server")
        self.server = DuplexServer("--tls-cert", str(self.dir / "cert.pem"),
                                   "--tls-key", str(self.dir / "key.pem")).start()

    async def asyncTearDown(self):
        self.assertEqual(self.server.stop(), 0, self.server.output())
        shutil.rmtree(self.dir, True)

    def install(self, name, key=None):
        shutil.copyfile(certs() / f"{name}.pem", self.dir / "cert.pem")
        shutil.copyfile(certs() / f"{key or name}.key", self.dir / "key.pem")

    def common_name(self):
        with tls_socket(self.server.port) as tls:
            return peer_common_name(tls)

    def hangup_and_wait(self, line):
        before = self.server.stderr_text().count(line)
        self.server.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: self.server.stderr_text().count(line) > before),
                        self.server.output())

    async def test_sighup_swaps_certificates_for_new_connections_only(self):
        ws = await websockets.connect(f"wss://127.0.0.1:{self.server.port}/",
                                      ssl=client_context())
        await step(ws.send("one"))
        self.assertEqual(await step(ws.recv()), "one")
        self.assertEqual(self.common_name(), "localhost")

        self.install("server2")
        self.hangup_and_wait("duplex serve: certificates reloaded\n")
        self.assertEqual(self.common_name(), "localhost (reloaded)")

        self.install("server2", key="other")  # a key that does not match: the old pair stays
        self.hangup_and_wait("duplex serve: certificate reload failed, keeping the old ones: "
                             f"TLS: cannot load the private key '{self.dir / 'key.pem'}': "
                             "key values mismatch\n")
        self.assertEqual(self.common_name(), "localhost (reloaded)")

        await step(ws.send("two"))
        self.assertEqual(await step(ws.recv()), "two")
        await ws.close()
        self.assertEqual(ws.close_code, 1000)


if __name__ == "__main__":
    unittest.main()
