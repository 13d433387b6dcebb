"""Raw-socket WebSocket harness for Duplex's server conformance suite.

Everything is done by hand on a plain TCP socket so that tests can put any byte
sequence on the wire: the HTTP upgrade, frames with arbitrary FIN/RSV/opcode,
length encodings and masking, written whole, batched, or chopped N bytes at a
time with pauses.  Server frames are parsed strictly (unmasked, RSV=0, minimal
length encoding, well-formed control frames) and every read has a deadline.

Test ids follow Autobahn|Testsuite (see shared/docs/autobahn-cases.md).  Cases
Duplex adds on top of Autobahn carry an ``x`` in their number (``test_1_x3_...``).

The server under test is ``$DUPLEX_BIN serve --host 127.0.0.1 --port 0 [flags]``;
it announces ``ws://127.0.0.1:PORT/`` on stdout.  Without DUPLEX_BIN the
developer build (build/dev/duplex) is used.  Only the standard library is used.

With DUPLEX_CONFORMANCE_TLS=1 the same cases run over TLS: the server gets test
certificates made with the openssl command (tests/support/make_test_certs.sh) and
announces ``wss://``, and every connection goes through a local relay that speaks
TLS to the server (Python's ssl module, verifying against the test CA) while the
test still writes and reads raw bytes on a plain TCP socket.  The relay forwards
EOF as close_notify plus FIN and a reset as a reset, so the cases see the same
transport behaviour as over cleartext.

With DUPLEX_SERVE_IO=io_uring the server runs with ``--io io_uring`` (the event
loop's io_uring backend); the cases and their expectations are the same.
"""

import atexit
import base64
import hashlib
import os
import re
import select
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

HOST = "127.0.0.1"

OP_CONT, OP_TEXT, OP_BIN = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
OPCODE_NAMES = {0: "CONT", 1: "TEXT", 2: "BIN", 8: "CLOSE", 9: "PING", 10: "PONG"}

# Timing used across the suite (Autobahn uses 1 s pauses; we keep it short).
PAUSE = 0.25          # a "pause" between steps of a case
SILENCE = 0.25        # how long "nothing arrives" is observed
REPLY_TIMEOUT = 2.0   # an echo / pong / close must arrive within this
FAIL_TIMEOUT = 2.0    # protocol violation: close frame, then EOF, within this
EOF_TIMEOUT = 1.0     # after a close handshake the server closes TCP within this
SEND_TIMEOUT = 60.0   # a single sendall must not block longer than this

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TLS = os.environ.get("DUPLEX_CONFORMANCE_TLS") == "1"
PORT_RE = re.compile(r"wss://127\.0\.0\.1:(\d+)/" if TLS else r"ws://127\.0\.0\.1:(\d+)/")

VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                     1012, 1013, 1014, 3000, 3999, 4000, 4999]

# Autobahn payload patterns.
KOSME = bytes.fromhex("ceba e1bdb9 cf83 cebc ceb5".replace(" ", ""))


def pattern(p, n):
    """Pattern p (bytes) repeated and truncated to exactly n bytes."""
    if n == 0:
        return b""
    return (p * (n // len(p) + 1))[:n]


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (str or bytes)."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode("ascii")


def new_key():
    return base64.b64encode(os.urandom(16)).decode("ascii")


# --------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_live_servers = set()


def server_binary():
    path = os.environ.get("DUPLEX_BIN") or os.path.join(_REPO, "build", "dev", "duplex")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError(
            "duplex binary not found at %r (set DUPLEX_BIN to the built server)" % path)
    return path


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "ERROR: ThreadSanitizer", "ERROR: UndefinedBehaviorSanitizer")


class Server:
    """One `duplex serve` process on 127.0.0.1 with an ephemeral port."""

    START_TIMEOUT = 20.0

    def __init__(self, *flags):
        self.flags = [str(f) for f in flags]
        self.proc = None
        self.port = None
        self.output = []
        self._stderr = None
        self._port_seen = threading.Event()

    def start(self):
        self._stderr = tempfile.TemporaryFile()
        cmd = [server_binary(), "serve", "--host", HOST, "--port", "0"] + self.flags
        if os.environ.get("DUPLEX_SERVE_IO"):
            cmd += ["--io", os.environ["DUPLEX_SERVE_IO"]]
        if TLS:
            certs = test_certs_dir()
            cmd += ["--tls-cert", os.path.join(certs, "server.pem"),
                    "--tls-key", os.path.join(certs, "server.key")]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        _live_servers.add(self)
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        if not self._port_seen.wait(self.START_TIMEOUT) or self.port is None:
            self.stop()
            raise RuntimeError("server %r did not announce ws://127.0.0.1:PORT/ within %.0fs;"
                               " stdout=%r stderr=%r" % (cmd, self.START_TIMEOUT,
                                                         "".join(self.output), self.stderr_text()))
        return self

    def _drain_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.output.append(line)
            if self.port is None:
                m = PORT_RE.search(line)
                if m:
                    self.port = int(m.group(1))
                    self._port_seen.set()
        self._port_seen.set()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """Terminate (then kill) the process; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        _live_servers.discard(self)
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        if self._stderr is not None:
            self._stderr_final = self._read_stderr()
            self._stderr.close()
            self._stderr = None
        return self.proc.returncode

    def _read_stderr(self):
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stderr_text(self, limit=4000):
        if self._stderr is not None:
            data = self._read_stderr()
        else:
            data = getattr(self, "_stderr_final", "")
        return data[-limit:]

    def sanitizer_report(self):
        text = self.stderr_text(limit=1 << 20)
        for marker in SANITIZER_MARKERS:
            idx = text.find(marker)
            if idx >= 0:
                return text[max(0, idx - 200):idx + 3000]
        return None


@atexit.register
def _stop_all_servers():
    for srv in list(_live_servers):
        srv.stop(timeout=2.0)


# --------------------------------------------------------------------------------------
# TLS: test certificates and the relay
# --------------------------------------------------------------------------------------

_certs_dir = None


def test_certs_dir():
    """Certificates made once per process (removed at exit); see make_test_certs.sh."""
    global _certs_dir
    if _certs_dir is None:
        path = tempfile.mkdtemp(prefix="duplex_certs_")
        atexit.register(shutil.rmtree, path, True)
        subprocess.run(["bash", os.path.join(_REPO, "tests", "support", "make_test_certs.sh"),
                        path], check=True, stdout=subprocess.DEVNULL)
        _certs_dir = path
    return _certs_dir


def tls_client_context():
    ctx = ssl.create_default_context(cafile=os.path.join(test_certs_dir(), "ca.pem"))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def tls_server_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(test_certs_dir(), "server.pem"),
                        os.path.join(test_certs_dir(), "server.key"))
    return ctx


def tcp_pair():
    """Two ends of a loopback TCP connection (resets and TCP_NODELAY work as on any other)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(1)
    a = socket.create_connection((HOST, listener.getsockname()[1]), timeout=5.0)
    listener.settimeout(5.0)
    b, _ = listener.accept()
    listener.close()
    for sock in (a, b):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return a, b


def _abort(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class TlsRelay:
    """Joins a plain TCP socket (the test's side, "front") and a TLS connection (the
    system under test's side) on a thread: the test reads and writes raw bytes while
    the peer speaks TLS.  It works in either role: as the TLS client of a server under
    test, or as the TLS server for a client under test.

    Bytes are forwarded both ways with bounded buffers (so a test that stops reading
    pushes back on the peer as it would without the relay); EOF from either side is
    passed on (close_notify and FIN on the TLS side), and so is a reset."""

    LIMIT = 1 << 20

    def __init__(self, tls_sock, context, server_side=False):
        """Completes the TLS handshake on `tls_sock` (raises if it fails)."""
        self._server = tls_sock
        self._server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=server_side,
                                     server_hostname=None if server_side else "localhost")
        self._handshake()

    def _handshake(self):
        sock = self._server
        deadline = time.monotonic() + 5.0
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            if self._outgoing.pending:
                sock.sendall(self._outgoing.read())
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(65536)
            if not data:
                raise AssertionError("the peer closed the connection during the TLS handshake")
            self._incoming.write(data)
        if self._outgoing.pending:
            sock.sendall(self._outgoing.read())

    def start(self, front):
        """Relays between `front` (plain TCP) and the TLS connection until both end."""
        self._front = front
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        front, server = self._front, self._server
        front.setblocking(False)
        server.setblocking(False)
        to_server = bytearray()   # TLS records for the server
        to_front = bytearray()    # decrypted bytes for the test
        front_open = server_open = True   # still reading from that side
        sent_eof_to_server = sent_eof_to_front = False

        def drain_tls():
            """Decrypts what has arrived; False once the TLS side has ended."""
            nonlocal to_front, to_server
            open_ = True
            while True:
                try:
                    chunk = self._tls.read(65536)
                except ssl.SSLWantReadError:
                    break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    chunk = b""
                if not chunk:  # close_notify or EOF
                    open_ = False
                    break
                to_front += chunk
            to_server += self._outgoing.read()
            return open_

        try:
            # Bytes that came with the handshake's last flight are already buffered.
            server_open = drain_tls()
            while True:
                if not front_open and not sent_eof_to_server and not to_server:
                    try:
                        self._tls.unwrap()
                    except (ssl.SSLWantReadError, ssl.SSLError):
                        pass
                    to_server += self._outgoing.read()
                    if not to_server:
                        server.shutdown(socket.SHUT_WR)
                        sent_eof_to_server = True
                if not server_open and not to_front and not sent_eof_to_front:
                    front.shutdown(socket.SHUT_WR)
                    sent_eof_to_front = True
                if sent_eof_to_server and sent_eof_to_front:
                    return
                readers = []
                if front_open and len(to_server) < self.LIMIT:
                    readers.append(front)
                if server_open and len(to_front) < self.LIMIT:
                    readers.append(server)
                writers = ([server] if to_server else []) + ([front] if to_front else [])
                if not readers and not writers:
                    return
                r, w, _ = select.select(readers, writers, [], 1.0)
                if front in r:
                    data = front.recv(65536)
                    if data:
                        self._tls.write(data)
                        to_server += self._outgoing.read()
                    else:
                        front_open = False
                if server in r:
                    data = server.recv(65536)
                    if data:
                        self._incoming.write(data)
                    else:
                        self._incoming.write_eof()
                    server_open = drain_tls()
                if server in w and to_server:
                    del to_server[:server.send(to_server)]
                if front in w and to_front:
                    del to_front[:front.send(to_front)]
        except (OSError, ssl.SSLError):
            # A reset (or a TLS error) on one side becomes a reset on the other.
            _abort(front)
            _abort(server)
        finally:
            for sock in (front, server):
                try:
                    sock.close()
                except OSError:
                    pass


def open_connection(port, timeout):
    """A TCP connection to the server, or to a TLS relay in front of it."""
    if not TLS:
        return socket.create_connection((HOST, port), timeout=timeout)
    relay = TlsRelay(socket.create_connection((HOST, port), timeout=5.0), tls_client_context())
    sock, front = tcp_pair()
    sock.settimeout(timeout)
    relay.start(front)
    return sock


# --------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------

def mask_bytes(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (bytes(key) * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, key=None, length=None, length_bits=None):
    """Encode one client frame.

    mask: True = random 4-byte key (or `key`), False = unmasked.
    length: the length written in the header (default len(payload)); may lie.
    length_bits: 7, 16 or 64 to force an encoding (default: minimal).
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    if length_bits is None:
        length_bits = 7 if n < 126 else 16 if n < 65536 else 64
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if length_bits == 7:
        head = bytes([b0, mbit | n])
    elif length_bits == 16:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    elif length_bits == 64:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    else:
        raise ValueError(length_bits)
    if not mask:
        return head + payload
    if key is None:
        key = os.urandom(4)
    return head + bytes(key) + mask_bytes(payload, key)


def header_len(encoded):
    """Length of the header (including mask key) of an encoded frame."""
    b1 = encoded[1]
    n = 2 + {126: 2, 127: 8}.get(b1 & 0x7F, 0)
    return n + (4 if b1 & 0x80 else 0)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


def fragments(opcode, payload, frag_size):
    """Autobahn's fragSize splitting: N-byte frames, plus an empty final CONT when the
    length is an exact multiple of frag_size (a message <= frag_size is one frame)."""
    if len(payload) <= frag_size:
        return [frame(opcode, payload)]
    out = []
    pos = 0
    first = True
    while pos < len(payload):
        chunk = payload[pos:pos + frag_size]
        pos += len(chunk)
        last = pos >= len(payload) and len(chunk) < frag_size
        out.append(frame(opcode if first else OP_CONT, chunk, fin=last))
        first = False
    if len(payload) % frag_size == 0:
        out.append(frame(OP_CONT, b"", fin=True))
    return out


class Frame:
    """A frame received from the server."""

    def __init__(self, fin, rsv, opcode, masked, length_bits, payload):
        self.fin, self.rsv, self.opcode = fin, rsv, opcode
        self.masked, self.length_bits, self.payload = masked, length_bits, payload

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self):
        return self.payload[2:]

    def __repr__(self):
        p = self.payload if len(self.payload) <= 40 else (
            self.payload[:40] + b"...(%d bytes)" % len(self.payload))
        return "<Frame %s fin=%d rsv=%d masked=%d len%d %r>" % (
            OPCODE_NAMES.get(self.opcode, self.opcode), self.fin, self.rsv, self.masked,
            self.length_bits, p)


EOF = "EOF"   # sentinel returned by Conn.next_event()


class HttpResponse:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers = headers      # list of (name, value), names as sent
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        """Value of a header (case-insensitive name); None if missing."""
        vals = self.header_all(name)
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def tokens(self, name):
        out = []
        for v in self.header_all(name):
            out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out

    def __repr__(self):
        return "<HttpResponse %r body=%r>" % (self.raw_head, self.body[:200])


def upgrade_request(port, path="/", method="GET", version="HTTP/1.1", key=None,
                    drop=(), replace=None, add=()):
    """Build a WebSocket upgrade request head.

    drop: header names (lower case) to leave out; replace: {lower name: value};
    add: extra (name, value) pairs appended at the end.
    """
    key = key if key is not None else new_key()
    headers = [("Host", "%s:%d" % (HOST, port)), ("Upgrade", "websocket"),
               ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
               ("Sec-WebSocket-Version", "13")]
    replace = {k.lower(): v for k, v in (replace or {}).items()}
    lines = ["%s %s %s" % (method, path, version)]
    for name, value in headers:
        if name.lower() in drop:
            continue
        lines.append("%s: %s" % (name, replace.get(name.lower(), value)))
    for name, value in add:
        lines.append("%s: %s" % (name, value))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Conn:
    """A raw client TCP connection to the server (HTTP first, then WebSocket)."""

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.sock = open_connection(port, timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.reset = False          # the EOF was a connection reset
        self.send_error = None      # first error from a send (peer closed)
        self.sent_bytes = 0
        self.deflate = False        # permessage-deflate agreed: RSV1 allowed on data frames

    # ----- low level --------------------------------------------------------------
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def send(self, data, chop=None, pause=0.0):
        """Write data whole, or `chop` bytes per write with `pause` s in between.
        Returns False (and records send_error) if the peer has gone away."""
        if self.send_error is not None:
            return False
        data = bytes(data)
        step = chop or len(data) or 1
        try:
            self.sock.settimeout(SEND_TIMEOUT)
            for pos in range(0, len(data), step):
                if pause and pos:
                    time.sleep(pause)
                self.sock.sendall(data[pos:pos + step])
                self.sent_bytes += min(step, len(data) - pos)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as e:
            self.send_error = e
            return False
        except socket.timeout:
            raise AssertionError("sending %d bytes blocked for more than %.0fs"
                                 % (len(data), SEND_TIMEOUT))
        return True

    def send_background(self, data, chop=None):
        """Start writing `data` from a helper thread (on a dup of the socket) so that
        the caller can read the server's output at the same time; returns an object
        whose wait() joins the writer and re-raises a send timeout."""
        return _BackgroundSend(self, bytes(data), chop)

    def send_frames(self, frames, mode="batch", chop=1, pause=0.0):
        """mode: 'batch' (one write), 'frame' (one write per frame, short yield in
        between), 'chop' (every frame written `chop` bytes at a time)."""
        if mode == "batch":
            return self.send(b"".join(frames))
        ok = True
        for f in frames:
            if mode == "frame":
                ok = self.send(f) and ok
                time.sleep(0.005)
            elif mode == "chop":
                ok = self.send(f, chop=chop, pause=pause or 0.001) and ok
            else:
                raise ValueError(mode)
            if pause and mode == "frame":
                time.sleep(pause)
        return ok

    def send_frame(self, opcode, payload=b"", **kw):
        chop = kw.pop("chop", None)
        pause = kw.pop("pause", 0.0)
        return self.send(frame(opcode, payload, **kw), chop=chop, pause=pause)

    def _fill(self, deadline):
        """Read more bytes; False on timeout.  Sets self.eof on EOF/reset."""
        if self.eof:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            self.eof = self.reset = True
            return True
        if not data:
            self.eof = True
        else:
            self.buf += data
        return True

    # ----- HTTP -----------------------------------------------------------------------
    def read_http_response(self, timeout=REPLY_TIMEOUT, body=True):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if self.eof:
                raise AssertionError("connection closed before a full HTTP response head; got %r"
                                     % bytes(self.buf))
            if not self._fill(deadline):
                raise AssertionError("no complete HTTP response head within %.1fs; got %r"
                                     % (timeout, bytes(self.buf)))
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        lines = head.split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("malformed status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            if ":" not in line:
                raise AssertionError("malformed response header line %r" % line)
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
        resp = HttpResponse(m.group(1), int(m.group(2)), m.group(3) or "", headers, b"", head)
        if body and resp.status != 101:
            cl = resp.header("Content-Length")
            if cl is not None:
                n = int(cl)
                while len(self.buf) < n:
                    if self.eof or not self._fill(deadline):
                        raise AssertionError("body shorter than Content-Length %d: %r"
                                             % (n, bytes(self.buf)))
                resp.body = bytes(self.buf[:n])
                del self.buf[:n]
            elif "chunked" in resp.tokens("Transfer-Encoding"):
                resp.body = self._read_chunked(deadline)
            else:
                # body delimited by EOF
                while not self.eof:
                    if not self._fill(deadline):
                        raise AssertionError("response without Content-Length not closed"
                                             " within %.1fs" % timeout)
                resp.body = bytes(self.buf)
                self.buf.clear()
        return resp

    def _read_line(self, deadline):
        while b"\r\n" not in self.buf:
            if self.eof or not self._fill(deadline):
                raise AssertionError("truncated chunked body: %r" % bytes(self.buf))
        end = self.buf.index(b"\r\n")
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _read_chunked(self, deadline):
        body = b""
        while True:
            size = int(self._read_line(deadline).split(b";")[0], 16)
            if size == 0:
                while self._read_line(deadline):   # trailers
                    pass
                return body
            while len(self.buf) < size + 2:
                if self.eof or not self._fill(deadline):
                    raise AssertionError("truncated chunked body: %r" % bytes(self.buf))
            body += bytes(self.buf[:size])
            del self.buf[:size + 2]

    # ----- WebSocket: receiving --------------------------------------------------------
    def _parse_frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        b0, b1 = b[0], b[1]
        n7 = b1 & 0x7F
        pos = 2
        if n7 == 126:
            if len(b) < 4:
                return None
            n, bits = struct.unpack("!H", b[2:4])[0], 16
            pos = 4
        elif n7 == 127:
            if len(b) < 10:
                return None
            n, bits = struct.unpack("!Q", b[2:10])[0], 64
            pos = 10
        else:
            n, bits = n7, 7
        masked = bool(b1 & 0x80)
        key = None
        if masked:
            if len(b) < pos + 4:
                return None
            key = bytes(b[pos:pos + 4])
            pos += 4
        if len(b) < pos + n:
            return None
        payload = bytes(b[pos:pos + n])
        del b[:pos + n]
        if masked:
            payload = mask_bytes(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, masked, bits, payload)

    def next_event(self, timeout=REPLY_TIMEOUT):
        """Next server frame, EOF, or None when nothing complete arrives in time."""
        deadline = time.monotonic() + timeout
        while True:
            f = self._parse_frame()
            if f is not None:
                return f
            if self.eof:
                if self.buf:
                    raise AssertionError("connection closed in the middle of a frame: %r"
                                         % bytes(self.buf[:64]))
                return EOF
            if not self._fill(deadline):
                return None

    def recv_frame(self, timeout=REPLY_TIMEOUT, what="a frame"):
        ev = self.next_event(timeout)
        if ev is None:
            raise AssertionError("expected %s from the server, nothing within %.1fs"
                                 % (what, timeout))
        if ev is EOF:
            raise AssertionError("expected %s, but the server closed the connection%s"
                                 % (what, " (reset)" if self.reset else ""))
        check_server_frame(ev, rsv1_ok=self.deflate)
        return ev

    def expect_frame(self, opcode, payload=None, timeout=REPLY_TIMEOUT):
        what = "%s %r" % (OPCODE_NAMES.get(opcode, opcode),
                          payload if payload is None or len(payload) <= 40 else
                          "%d bytes" % len(payload))
        f = self.recv_frame(timeout, what=what)
        if f.opcode != opcode:
            raise AssertionError("expected %s, got %r" % (what, f))
        if opcode in (OP_TEXT, OP_BIN) and not f.fin:
            raise AssertionError("echo must be one unfragmented frame (FIN=1), got %r" % f)
        if payload is not None and f.payload != bytes(payload):
            raise AssertionError("payload mismatch: expected %s, got %r%s" % (
                what, f, first_difference(bytes(payload), f.payload)))
        return f

    def expect_echo(self, opcode, payload, timeout=REPLY_TIMEOUT):
        return self.expect_frame(opcode, payload, timeout)

    def expect_pong(self, payload, timeout=REPLY_TIMEOUT):
        return self.expect_frame(OP_PONG, payload, timeout)

    def expect_close(self, code, timeout=REPLY_TIMEOUT, empty_reason=False):
        """Next frame must be a close with `code` (None = empty body)."""
        f = self.recv_frame(timeout, what="CLOSE %s" % code)
        if f.opcode != OP_CLOSE:
            raise AssertionError("expected CLOSE %s, got %r" % (code, f))
        if code is None:
            if f.payload != b"":
                raise AssertionError("expected a close with an empty body, got code %s %r"
                                     % (f.close_code, f.close_reason))
            return f
        if len(f.payload) < 2:
            raise AssertionError("expected CLOSE %d, got a close with body %r" % (code, f.payload))
        if f.close_code != code:
            raise AssertionError("expected close code %d, got %d (reason %r)"
                                 % (code, f.close_code, f.close_reason))
        if empty_reason and f.close_reason:
            raise AssertionError("expected an empty close reason, got %r" % f.close_reason)
        return f

    def expect_eof(self, timeout=EOF_TIMEOUT):
        """The server closes TCP within timeout, sending nothing more."""
        ev = self.next_event(timeout)
        if ev is None:
            raise AssertionError("server did not close the TCP connection within %.1fs" % timeout)
        if ev is not EOF:
            raise AssertionError("expected EOF, got another frame: %r" % ev)

    def expect_silence(self, duration=SILENCE):
        """Nothing arrives for `duration` seconds and the connection stays open."""
        ev = self.next_event(duration)
        if ev is EOF:
            raise AssertionError("server closed the connection unexpectedly%s"
                                 % (" (reset)" if self.reset else ""))
        if ev is not None:
            raise AssertionError("expected nothing from the server, got %r" % ev)

    def expect_fail(self, code, timeout=FAIL_TIMEOUT):
        """Protocol violation: the next frame is CLOSE `code`, then EOF, within timeout
        (without any close reply from us)."""
        start = time.monotonic()
        f = self.expect_close(code, timeout)
        self.expect_eof(max(0.1, timeout - (time.monotonic() - start)))
        return f

    def close_handshake(self, code=1000, reason=b"", expect_code="same"):
        """Send CLOSE code, expect the server's close with the same code (or
        `expect_code`) and an empty reason, then EOF within EOF_TIMEOUT."""
        self.send(frame(OP_CLOSE, close_payload(code, reason)))
        want = code if expect_code == "same" else expect_code
        f = self.expect_close(want, REPLY_TIMEOUT, empty_reason=True)
        self.expect_eof(EOF_TIMEOUT)
        return f


class _BackgroundSend:
    def __init__(self, conn, data, chop):
        self.error = None
        self._sock = conn.sock.dup()
        self._sock.settimeout(SEND_TIMEOUT)
        self._thread = threading.Thread(target=self._run, args=(data, chop or len(data) or 1),
                                        daemon=True)
        self._thread.start()

    def _run(self, data, step):
        try:
            view = memoryview(data)
            for pos in range(0, len(data), step):
                self._sock.sendall(view[pos:pos + step])
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass   # the server closed; the reader sees it
        except Exception as e:  # noqa: BLE001 -- re-raised in wait()
            self.error = e
        finally:
            self._sock.close()

    def wait(self, timeout=SEND_TIMEOUT):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("background send still blocked after %.0fs" % timeout)
        if self.error is not None:
            raise AssertionError("background send failed: %r" % (self.error,))


def check_server_frame(f, rsv1_ok=False):
    """RFC 6455 rules every server frame must obey.  Without an extension no RSV bit may
    be set; with permessage-deflate (rsv1_ok) RSV1 may mark the first frame of a data
    message (the message-level check is the caller's)."""
    if f.masked:
        raise AssertionError("server frame is masked: %r" % f)
    if f.rsv and not (rsv1_ok and f.rsv == 4 and f.opcode in (OP_TEXT, OP_BIN)):
        raise AssertionError("server frame has RSV bits set: %r" % f)
    if f.opcode not in (OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG):
        raise AssertionError("server frame has a reserved opcode: %r" % f)
    n = len(f.payload)
    minimal = 7 if n < 126 else 16 if n < 65536 else 64
    if f.length_bits != minimal:
        raise AssertionError("server used a non-minimal %d-bit length for %d bytes: %r"
                             % (f.length_bits, n, f))
    if f.opcode >= 8:
        if not f.fin:
            raise AssertionError("server sent a fragmented control frame: %r" % f)
        if n > 125:
            raise AssertionError("server control frame longer than 125 bytes: %r" % f)
    if f.opcode == OP_CLOSE:
        if n == 1:
            raise AssertionError("server close frame with a 1-byte body")
        if n >= 2:
            code = f.close_code
            if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
                raise AssertionError("server close frame with invalid code %d" % code)
            try:
                f.close_reason.decode("utf-8")
            except UnicodeDecodeError:
                raise AssertionError("server close reason is not valid UTF-8: %r"
                                     % f.close_reason)


def first_difference(a, b):
    if len(a) != len(b):
        return " (length %d vs %d)" % (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return " (first difference at offset %d: %02x vs %02x)" % (i, x, y)
    return ""


def ws_connect(port, path="/", headers=(), extra=b"", timeout=REPLY_TIMEOUT):
    """Open a connection and perform the upgrade; asserts a correct 101 response."""
    c = Conn(port)
    key = new_key()
    c.send(upgrade_request(port, path=path, key=key, add=headers) + extra)
    resp = c.read_http_response(timeout)
    if resp.status != 101:
        c.close()
        raise AssertionError("upgrade refused: %r" % resp)
    if resp.header("Sec-WebSocket-Accept") != accept_key(key):
        c.close()
        raise AssertionError("wrong Sec-WebSocket-Accept in %r" % resp)
    c.response = resp
    return c


# --------------------------------------------------------------------------------------
# unittest glue
# --------------------------------------------------------------------------------------

class ServerTestCase(unittest.TestCase):
    """One server per TestCase class (flags in `server_flags`); restarted if a test
    killed it.  Each test's connections are closed at its end."""

    server_flags = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(*cls.server_flags).start()

    @classmethod
    def tearDownClass(cls):
        srv = cls.server
        crashed = not srv.alive()
        srv.stop()
        report = srv.sanitizer_report()
        if report:
            raise AssertionError("sanitizer report from the server:\n" + report)
        if crashed:
            raise AssertionError("server exited during the tests (rc=%s): %s"
                                 % (srv.proc.returncode, srv.stderr_text()))

    def setUp(self):
        cls = type(self)
        if not cls.server.alive():
            # an earlier test killed it; that test has been reported already
            cls.server.stop()
            cls.server = Server(*cls.server_flags).start()

    def tearDown(self):
        srv = type(self).server
        if not srv.alive():
            time.sleep(0.1)
            self.fail("the server died during this test (rc=%s); stderr tail:\n%s"
                      % (srv.proc.returncode, srv.stderr_text()))

    @property
    def port(self):
        return type(self).server.port

    def _refused(self):
        srv = type(self).server
        time.sleep(0.2)
        if not srv.alive():
            self.fail("server is not running (it died at the end of the previous test; rc=%s);"
                      " stderr tail:\n%s" % (srv.proc.returncode, srv.stderr_text()))
        self.fail("connection refused although the server process is running")

    def connect(self, path="/", headers=(), extra=b""):
        try:
            c = ws_connect(self.port, path=path, headers=headers, extra=extra)
        except ConnectionRefusedError:
            self._refused()
        self.addCleanup(c.close)
        return c

    def raw(self):
        try:
            c = Conn(self.port)
        except ConnectionRefusedError:
            self._refused()
        self.addCleanup(c.close)
        return c

    def start_server(self, *flags):
        """A dedicated server for one test, stopped at its end."""
        srv = Server(*flags).start()
        self.addCleanup(srv.stop)
        return srv

    # Common case shapes -----------------------------------------------------------------
    def echo_case(self, frames, opcode, payload, mode="batch", chop=1, pause=0.0, timeout=REPLY_TIMEOUT):
        """Autobahn ECHO: send, expect one echo, then a clean close 1000."""
        c = self.connect()
        c.send_frames(frames, mode=mode, chop=chop, pause=pause)
        c.expect_echo(opcode, payload, timeout)
        c.close_handshake(1000)
        return c

    def fail_case(self, frames, code=1002, mode="batch", chop=1, pause=0.0, before=()):
        """Autobahn FAIL(code): `before` lists (opcode, payload) replies expected
        before the close; nothing else may arrive; then CLOSE code and EOF."""
        c = self.connect()
        c.send_frames(frames, mode=mode, chop=chop, pause=pause)
        for opcode, payload in before:
            c.expect_frame(opcode, payload)
        c.expect_fail(code)
        return c
