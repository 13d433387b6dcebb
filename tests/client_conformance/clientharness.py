"""Hostile-server harness for Duplex's CLIENT conformance suite.

The roles of the server suite (tests/conformance) are swapped: the test is the
server, the `duplex connect` client is the system under test.  Each test opens a
listening socket on 127.0.0.1 (ephemeral port), starts

    $DUPLEX_BIN connect ws://127.0.0.1:PORT/ --echo --close-timeout 1 [flags]

accepts its connection, checks the upgrade request, answers it by hand (or
breaks it on purpose), then puts hand-made UNMASKED frames on the wire -- whole,
batched, or chopped -- in the manner of Autobahn's fuzzing server, and checks the
client's exact reaction: every client frame is parsed strictly (masked with a
key, RSV=0, minimal length encoding, well-formed control frames), echoes are
reassembled (how the client fragments them is not graded), close codes are
exact, and the client's exit status and one-line stderr are checked at the end.

Frame building and parsing, timing helpers and the HTTP header helpers come from
the server suite's wsharness.py (imported, not copied).  Every socket operation
has a deadline; every client process is killed in the test's cleanup.

With DUPLEX_CONFORMANCE_TLS=1 the client connects with wss:// (trusting the test
CA, --ca-file) to a TLS front that relays to the test's plain listener (the server
suite's TlsRelay in the server role), so the same cases run over TLS.
"""

import importlib.util
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_SERVER_SUITE = os.path.normpath(os.path.join(_HERE, "..", "conformance"))
# Appended, not prepended: both suites have modules named test_<family>, and this
# suite's own must win when several of them are imported in one process.
if _SERVER_SUITE not in sys.path:
    sys.path.append(_SERVER_SUITE)

import wsharness  # noqa: E402  (the server suite's harness)
from wsharness import (EOF, HOST, KOSME, OP_BIN, OP_CLOSE, OP_CONT, OP_PING,  # noqa: E402,F401
                       OP_PONG, OP_TEXT, OPCODE_NAMES, SANITIZER_MARKERS, accept_key,
                       close_payload, first_difference, header_len, pattern)

# Timing (Autobahn uses 1 s pauses; kept short so the suite stays fast).
PAUSE = 0.3            # a pause between steps of a case
SILENCE = 0.25         # how long "nothing arrives" is observed
REPLY_TIMEOUT = 2.0    # an echo / pong / close reply must arrive within this
FAIL_TIMEOUT = 2.0     # protocol violation: the client's close, then EOF, within this
EOF_TIMEOUT = 2.0      # the client closes TCP within this when it has to
EXIT_TIMEOUT = 3.0     # the client process exits within this once the session is over
ACCEPT_TIMEOUT = 10.0  # the client connects within this after being started
CLOSE_TIMEOUT = 1      # --close-timeout given to every client

VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                     1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
CLEAN_CODES = (None, 1000, 1001)   # close codes after which the client exits 0

STDERR_PREFIX = "duplex connect: "


def sframe(opcode, payload=b"", fin=True, rsv=0, mask=False, **kw):
    """A SERVER frame: like wsharness.frame() but unmasked unless asked for."""
    return wsharness.frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, **kw)


def sfragments(opcode, payload, frag_size):
    """Autobahn's fragSize splitting for server frames (unmasked): frag_size-byte
    frames, plus an empty final CONT when the length is an exact multiple of
    frag_size; a message of frag_size bytes or fewer is one frame."""
    if len(payload) <= frag_size:
        return [sframe(opcode, payload)]
    out = []
    for pos in range(0, len(payload), frag_size):
        chunk = payload[pos:pos + frag_size]
        last = pos + len(chunk) >= len(payload) and len(chunk) < frag_size
        out.append(sframe(opcode if pos == 0 else OP_CONT, chunk, fin=last))
    if len(payload) % frag_size == 0:
        out.append(sframe(OP_CONT, b"", fin=True))
    return out


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def load_server_module(name):
    """A module of the server suite (e.g. "test_6_utf8", for its data tables) under
    the name "server_<name>", so that it cannot clash with this suite's module of the
    same name and its TestCase classes are not collected here."""
    alias = "server_" + name
    if alias not in sys.modules:
        spec = importlib.util.spec_from_file_location(alias, os.path.join(_SERVER_SUITE,
                                                                          name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[alias] = module
        spec.loader.exec_module(module)
    return sys.modules[alias]


# --------------------------------------------------------------------------------------
# The client process
# --------------------------------------------------------------------------------------

def client_binary():
    return wsharness.server_binary()   # $DUPLEX_BIN, or build/dev/duplex


# Loopback only: proxy settings from the environment must not reroute the client.
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Client:
    """One `duplex connect` process; stdout/stderr go to temporary files."""

    def __init__(self, url, *args):
        self.cmd = [client_binary(), "connect", url] + [str(a) for a in args]
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, env=env)
        self.started = time.monotonic()

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """Exit status, or None if still running after `timeout` seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def _read(self, f):
        if f.closed:
            return ""
        f.flush()
        f.seek(0)
        return f.read().decode("utf-8", "replace")

    def stdout_text(self):
        return self._read(self._out)

    def stderr_text(self):
        return self._read(self._err)

    def sanitizer_report(self):
        text = self.stderr_text()
        for marker in SANITIZER_MARKERS:
            idx = text.find(marker)
            if idx >= 0:
                return text[max(0, idx - 200):idx + 3000]
        return None

    def describe(self):
        return "%s (rc=%s)\n  stdout: %r\n  stderr: %r" % (
            " ".join(self.cmd), self.proc.poll(), self.stdout_text()[-2000:],
            self.stderr_text()[-2000:])

    def close_files(self):
        for f in (self._out, self._err):
            try:
                f.close()
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# Listening socket and the server side of one connection
# --------------------------------------------------------------------------------------

class TlsFront:
    """A TLS listener whose connections are relayed, decrypted, to a plain port."""

    def __init__(self, backend_port):
        self._backend_port = backend_port
        self._context = wsharness.tls_server_context()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return   # closed
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        try:
            conn.settimeout(ACCEPT_TIMEOUT)
            relay = wsharness.TlsRelay(conn, self._context, server_side=True)
            relay.start(socket.create_connection((HOST, self._backend_port), timeout=5.0))
        except (OSError, ssl.SSLError, AssertionError):
            conn.close()   # the client gave up or failed the handshake; its test says so

    def close(self):
        self.sock.close()


class Listener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._front = TlsFront(self.port) if wsharness.TLS else None

    def authority(self):
        """host:port of url(), as the client's Host header must carry it."""
        if self._front is not None:
            return "localhost:%d" % self._front.port
        return "%s:%d" % (HOST, self.port)

    def url(self, path="/"):
        return "%s://%s%s" % ("ws" if self._front is None else "wss", self.authority(), path)

    def accept(self, timeout=ACCEPT_TIMEOUT, client=None):
        """The next connection as a Peer; fails (with the client's output) on timeout."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.05)
        while True:
            try:
                s, _ = self.sock.accept()
                break
            except socket.timeout:
                if client is not None and not client.alive():
                    raise AssertionError("the client exited without connecting: "
                                         + client.describe())
                if time.monotonic() >= deadline:
                    raise AssertionError("the client did not connect within %.0fs%s" % (
                        timeout, (": " + client.describe()) if client else ""))
        return Peer(s)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        if getattr(self, "_front", None) is not None:
            self._front.close()


class HttpRequest(wsharness.HttpResponse):
    """The client's upgrade request (header helpers shared with HttpResponse)."""

    def __init__(self, method, target, version, headers, raw_head):
        super().__init__(version, None, "", headers, b"", raw_head)
        self.method, self.target = method, target

    def __repr__(self):
        return "<HttpRequest %r>" % self.raw_head


class Message:
    """A data message from the client, reassembled from `nframes` frames."""

    def __init__(self, opcode, payload, nframes, compressed=False):
        self.opcode, self.payload, self.nframes = opcode, payload, nframes
        self.compressed = compressed  # RSV1 on the first frame (permessage-deflate)

    def __repr__(self):
        p = self.payload if len(self.payload) <= 40 else (
            self.payload[:40] + b"...(%d bytes)" % len(self.payload))
        return "<Message %s %r in %d frame(s)>" % (OPCODE_NAMES[self.opcode], p, self.nframes)


def check_client_frame(f, rsv1_ok=False):
    """RFC 6455 rules every client frame must obey.  Without an extension no RSV bit may
    be set; with permessage-deflate (rsv1_ok) RSV1 may mark a TEXT or BIN frame."""
    if not f.masked:
        raise AssertionError("client frame is not masked: %r" % f)
    if f.rsv and not (rsv1_ok and f.rsv == 4 and f.opcode in (OP_TEXT, OP_BIN)):
        raise AssertionError("client frame has RSV bits set: %r" % f)
    if f.opcode not in (OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG):
        raise AssertionError("client frame has a reserved opcode: %r" % f)
    n = len(f.payload)
    minimal = 7 if n < 126 else 16 if n < 65536 else 64
    if f.length_bits != minimal:
        raise AssertionError("client used a non-minimal %d-bit length for %d bytes: %r"
                             % (f.length_bits, n, f))
    if f.opcode >= 8:
        if not f.fin:
            raise AssertionError("client sent a fragmented control frame: %r" % f)
        if n > 125:
            raise AssertionError("client control frame longer than 125 bytes: %r" % f)
    if f.opcode == OP_CLOSE:
        if n == 1:
            raise AssertionError("client close frame with a 1-byte body")
        if n >= 2:
            code = f.close_code
            if code not in VALID_CLOSE_CODES and not 3000 <= code <= 4999:
                raise AssertionError("client close frame with invalid code %d" % code)
            try:
                f.close_reason.decode("utf-8")
            except UnicodeDecodeError:
                raise AssertionError("client close reason is not valid UTF-8: %r"
                                     % f.close_reason)


class Peer(wsharness.Conn):
    """The server end of one accepted client connection.  Sending (whole, batched,
    chopped, in the background) and frame parsing are wsharness.Conn's."""

    def __init__(self, sock):   # not Conn.__init__, which connects; this wraps accept()
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = sock.getsockname()[1]
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.send_error = None
        self.sent_bytes = 0
        self.frames = []        # every frame received from the client, in order
        self.keys = []          # the masking key of each of them
        self._partial = None    # [opcode, [payloads], nframes] of an unfinished message
        self.request = None
        self.client = None
        self.deflate = False    # permessage-deflate agreed: RSV1 allowed on data frames

    # ----- HTTP -------------------------------------------------------------------------
    def read_http_request(self, timeout=REPLY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if self.eof:
                raise AssertionError("the client closed the connection before a full request"
                                     " head; got %r" % bytes(self.buf))
            if len(self.buf) > 65536:
                raise AssertionError("request head larger than 64 KiB: %r" % bytes(self.buf[:200]))
            if not self._fill(deadline):
                raise AssertionError("no complete HTTP request head within %.1fs; got %r"
                                     % (timeout, bytes(self.buf)))
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        lines = head.split("\r\n")
        m = re.match(r"^(\S+) (\S+) (HTTP/\d\.\d)$", lines[0])
        if not m:
            raise AssertionError("malformed request line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            if ":" not in line or line[:1] in (" ", "\t"):
                raise AssertionError("malformed request header line %r" % line)
            k, v = line.split(":", 1)
            if k != k.strip() or not k:
                raise AssertionError("malformed request header name %r" % line)
            headers.append((k, v.strip()))
        self.request = HttpRequest(m.group(1), m.group(2), m.group(3), headers, head)
        return self.request

    def send_response(self, status=101, reason="Switching Protocols", headers=(), body=b"",
                      trailing=b""):
        lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % kv for kv in headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body + trailing)

    def accept_upgrade(self, req=None, protocol=None, drop=(), replace=None, add=(),
                       trailing=b""):
        """Answer the request with 101.  drop: header names (lower case) to leave out;
        replace: {lower name: value}; add: extra (name, value) pairs; trailing: bytes
        written in the same TCP write right after the response head."""
        req = req or self.request
        key = req.header("Sec-WebSocket-Key") or ""
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Accept", accept_key(key))]
        if protocol is not None:
            headers.append(("Sec-WebSocket-Protocol", protocol))
        replace = {k.lower(): v for k, v in (replace or {}).items()}
        headers = [(k, replace.get(k.lower(), v)) for k, v in headers if k.lower() not in drop]
        self.send_response(101, "Switching Protocols", headers + list(add), trailing=trailing)

    # ----- WebSocket: receiving ------------------------------------------------------------
    def _parse_frame(self):
        b = self.buf
        key = None
        if len(b) >= 2 and b[1] & 0x80:
            pos = 2 + {126: 2, 127: 8}.get(b[1] & 0x7F, 0)
            if len(b) >= pos + 4:
                key = bytes(b[pos:pos + 4])
        f = super()._parse_frame()
        if f is not None:
            f.key = key
        return f

    def next_client_event(self, timeout=REPLY_TIMEOUT):
        """The next Message (data frames reassembled) or control Frame from the
        client; EOF; or None when nothing complete arrives in time.  Every frame is
        checked with check_client_frame()."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next_event(max(0.0, deadline - time.monotonic()))
            if ev is None:
                return None
            if ev is EOF:
                if self._partial is not None:
                    raise AssertionError("the client closed TCP in the middle of a fragmented"
                                         " message (%d frames received)" % self._partial[2])
                return EOF
            check_client_frame(ev, rsv1_ok=self.deflate)
            self.frames.append(ev)
            self.keys.append(ev.key)
            if ev.opcode >= 8:
                return ev
            if ev.opcode == OP_CONT:
                if self._partial is None:
                    raise AssertionError("client sent a CONT frame outside a message: %r" % ev)
                self._partial[1].append(ev.payload)
                self._partial[2] += 1
            else:
                if self._partial is not None:
                    raise AssertionError("client started a new data frame inside an unfinished"
                                         " message: %r" % ev)
                self._partial = [ev.opcode, [ev.payload], 1, ev.rsv == 4]
            if ev.fin:
                opcode, parts, n, compressed = self._partial
                self._partial = None
                return Message(opcode, b"".join(parts), n, compressed)

    def recv_client_event(self, timeout=REPLY_TIMEOUT, what="a frame"):
        ev = self.next_client_event(timeout)
        if ev is None:
            raise AssertionError("expected %s from the client, nothing within %.1fs%s"
                                 % (what, timeout, self._client_info()))
        if ev is EOF:
            raise AssertionError("expected %s, but the client closed the connection%s%s"
                                 % (what, " (reset)" if self.reset else "", self._client_info()))
        return ev

    def _client_info(self):
        """The client's state and output, for failure messages."""
        if self.client is None:
            return ""
        self.client.wait(0.5)
        return "\n  client: " + self.client.describe()

    def expect_message(self, opcode, payload, timeout=REPLY_TIMEOUT):
        what = "%s echo %r" % (OPCODE_NAMES[opcode], payload if len(payload) <= 40
                               else "%d bytes" % len(payload))
        ev = self.recv_client_event(timeout, what)
        if not isinstance(ev, Message) or ev.opcode != opcode:
            raise AssertionError("expected %s, got %r" % (what, ev))
        if ev.payload != bytes(payload):
            raise AssertionError("payload mismatch: expected %s, got %r%s" % (
                what, ev, first_difference(bytes(payload), ev.payload)))
        return ev

    expect_echo = expect_message

    def expect_pong(self, payload, timeout=REPLY_TIMEOUT):
        ev = self.recv_client_event(timeout, "PONG %r" % payload)
        if not isinstance(ev, wsharness.Frame) or ev.opcode != OP_PONG:
            raise AssertionError("expected PONG %r, got %r" % (payload, ev))
        if ev.payload != bytes(payload):
            raise AssertionError("expected PONG %r, got PONG %r" % (payload, ev.payload))
        return ev

    def expect_close(self, code, timeout=REPLY_TIMEOUT, empty_reason=True):
        """Next event must be a close with `code` (None = empty body, or a tuple of
        allowed codes); by default its reason must be empty."""
        ev = self.recv_client_event(timeout, "CLOSE %s" % (code,))
        if not isinstance(ev, wsharness.Frame) or ev.opcode != OP_CLOSE:
            raise AssertionError("expected CLOSE %s, got %r" % (code, ev))
        if code is None:
            if ev.payload != b"":
                raise AssertionError("expected a close with an empty body, got code %s %r"
                                     % (ev.close_code, ev.close_reason))
            return ev
        allowed = code if isinstance(code, tuple) else (code,)
        if len(ev.payload) < 2:
            raise AssertionError("expected CLOSE %s, got a close with body %r" % (code, ev.payload))
        if ev.close_code not in allowed:
            raise AssertionError("expected close code %s, got %d (reason %r)"
                                 % (code, ev.close_code, ev.close_reason))
        if empty_reason and ev.close_reason:
            raise AssertionError("expected an empty close reason, got %r" % ev.close_reason)
        return ev

    def expect_eof(self, timeout=EOF_TIMEOUT):
        """The client closes TCP within timeout, sending nothing more."""
        ev = self.next_client_event(timeout)
        if ev is None:
            raise AssertionError("the client did not close the TCP connection within %.1fs"
                                 % timeout)
        if ev is not EOF:
            raise AssertionError("expected EOF, got %r" % ev)

    def expect_silence(self, duration=SILENCE):
        """Nothing arrives for `duration` seconds and the connection stays open."""
        ev = self.next_client_event(duration)
        if ev is EOF:
            raise AssertionError("the client closed the connection unexpectedly%s%s"
                                 % (" (reset)" if self.reset else "", self._client_info()))
        if ev is not None:
            raise AssertionError("expected nothing from the client, got %r" % ev)

    def expect_fail(self, code, timeout=FAIL_TIMEOUT):
        """Protocol violation: the next frame is CLOSE `code` (any reason), then the
        client closes TCP, both within timeout, without any close reply from us."""
        start = time.monotonic()
        f = self.expect_close(code, timeout, empty_reason=False)
        self.expect_eof(max(0.1, timeout - (time.monotonic() - start)))
        return f

    def expect_no_bytes_then_eof(self, timeout=EOF_TIMEOUT):
        """After a broken handshake: the client sends nothing at all and closes TCP."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline):
                break
        if self.buf:
            raise AssertionError("the client sent bytes after a failed handshake: %r"
                                 % bytes(self.buf[:200]))
        if not self.eof:
            raise AssertionError("the client did not close the TCP connection within %.1fs"
                                 " after a failed handshake" % timeout)


# --------------------------------------------------------------------------------------
# unittest glue
# --------------------------------------------------------------------------------------

class ClientTestCase(unittest.TestCase):
    """Each session = a fresh listener + a fresh `duplex connect` process.  All
    processes are killed and all sockets closed in the test's cleanup; a sanitizer
    report on a client's stderr fails the test."""

    echo = True
    client_flags = ()   # extra flags for every session of the class

    def setUp(self):
        self._clients, self._sockets = [], []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for c in self._clients:
            c.kill()
        for s in self._sockets:
            s.close()
        reports = [c.sanitizer_report() for c in self._clients]
        for c in self._clients:
            c.close_files()
        reports = [r for r in reports if r]
        if reports:
            raise AssertionError("sanitizer report from the client:\n" + reports[0])
        for s in self._sockets:
            if isinstance(s, Peer) and len(s.keys) >= 3 and len(set(s.keys)) == 1:
                raise AssertionError("the client masked all %d frames with the same key %s"
                                     % (len(s.keys), s.keys[0].hex()))

    # ----- building blocks ------------------------------------------------------------------
    def listen(self):
        lst = Listener()
        self._sockets.append(lst)
        return lst

    def start_client(self, url, *args):
        c = Client(url, *args)
        self._clients.append(c)
        return c

    def accept(self, listener, client):
        peer = listener.accept(client=client)
        peer.client = client
        self._sockets.append(peer)
        return peer

    def client_args(self, flags=(), echo=None, close_timeout=CLOSE_TIMEOUT):
        args = []
        if self.echo if echo is None else echo:
            args.append("--echo")
        if close_timeout is not None:
            args += ["--close-timeout", close_timeout]
        if wsharness.TLS:
            args += ["--ca-file", os.path.join(wsharness.test_certs_dir(), "ca.pem")]
        return args + list(self.client_flags) + list(flags)

    def session(self, *flags, path="/", protocol=None, echo=None, close_timeout=CLOSE_TIMEOUT,
                trailing=b""):
        """Start a client, accept it and complete the upgrade; returns the Peer
        (peer.client is the process)."""
        lst = self.listen()
        client = self.start_client(lst.url(path), *self.client_args(flags, echo, close_timeout))
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        if req.header("Sec-WebSocket-Key") is None:
            raise AssertionError("upgrade request without Sec-WebSocket-Key: %r" % req)
        peer.accept_upgrade(req, protocol=protocol, trailing=trailing)
        return peer

    def expect_exit(self, client, status, *phrases, timeout=EXIT_TIMEOUT):
        """The client exits with `status` within timeout; with status != 0 its stderr
        is ONE line starting with 'duplex connect: ' containing every phrase."""
        rc = client.wait(timeout)
        report = client.sanitizer_report()
        if report:
            self.fail("sanitizer report from the client:\n" + report)
        if rc is None:
            self.fail("the client is still running %.1fs after the session ended: %s"
                      % (timeout, client.describe()))
        if rc < 0:
            self.fail("the client died from signal %d: %s" % (-rc, client.describe()))
        self.assertEqual(rc, status, "wrong exit status: " + client.describe())
        if status != 0:
            err = client.stderr_text()
            lines = err.splitlines()
            self.assertEqual(len(lines), 1, "stderr must be exactly one line: %r" % err)
            self.assertTrue(lines[0].startswith(STDERR_PREFIX),
                            "stderr must start with %r: %r" % (STDERR_PREFIX, err))
            for p in phrases:
                self.assertIn(p, lines[0], "stderr does not name %r" % p)
        return rc

    def expect_exit_for_close(self, client, code):
        """Exit status after a completed close handshake with `code`."""
        if code in CLEAN_CODES:
            return self.expect_exit(client, 0)
        return self.expect_exit(client, 1, str(code))

    # ----- Autobahn case shapes ----------------------------------------------------------
    def server_close(self, peer, code=1000, reason=b"", reply="same"):
        """The server starts the close: CLOSE code (None = empty body); the client
        replies (masked) with the same code and an empty reason; the server reads the
        reply and closes TCP; the client exits 0 for 1000/1001/empty, else 1."""
        peer.send(sframe(OP_CLOSE, close_payload(code, reason)))
        want = code if reply == "same" else reply
        peer.expect_close(want)
        peer.close()
        self.expect_exit_for_close(peer.client, want)

    def echo_case(self, frames, opcode, payload, mode="batch", chop=1, pause=0.0,
                  timeout=REPLY_TIMEOUT):
        """Autobahn ECHO: send, expect one echo message, then a clean close 1000."""
        p = self.session()
        p.send_frames(frames, mode=mode, chop=chop, pause=pause)
        p.expect_echo(opcode, payload, timeout)
        self.server_close(p, 1000)
        return p

    def fail_case(self, frames, code=1002, mode="batch", chop=1, pause=0.0, before=(),
                  flags=()):
        """Autobahn FAIL(code): `before` lists (opcode, payload) replies expected
        before the close; nothing else may arrive; then the client's CLOSE `code` and
        EOF; exit status 1 with the code on stderr."""
        p = self.session(*flags)
        p.send_frames(frames, mode=mode, chop=chop, pause=pause)
        for opcode, payload in before:
            if opcode == OP_PONG:
                p.expect_pong(payload)
            else:
                p.expect_message(opcode, payload)
        self.assert_failed(p, code)
        return p

    def assert_failed(self, p, code, timeout=FAIL_TIMEOUT):
        """The client fails the connection: CLOSE `code` (masked, any reason), then it
        closes TCP (EOF) within timeout without waiting for a close reply; then the
        server drops TCP (as Autobahn's does) and the client exits 1 naming the code."""
        f = p.expect_fail(code, timeout)
        p.close()
        self.expect_exit(p.client, 1, str(f.close_code))
        return f
