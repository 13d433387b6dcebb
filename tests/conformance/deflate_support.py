"""permessage-deflate (RFC 7692) on top of wsharness: offer the extension, compress
client messages and inflate the server's with the standard library's zlib (raw
DEFLATE, wbits=-N), honouring the agreed context takeover in each direction.

The data sets stand in for Autobahn's family 12 files (JSON report, bitmap, German
text sent as binary, HTML with a few non-ASCII characters, PDF): generated here with
a fixed seed so that they have the same character (compressible text, structured
binary, nearly incompressible binary)."""

import random
import struct
import zlib

from wsharness import (OP_BIN, OP_CONT, OP_TEXT, REPLY_TIMEOUT, frame, ws_connect)

TAIL = b"\x00\x00\xff\xff"

# Autobahn's size table: (LEN, frag) for case index i = 1..18.
SIZES = [(16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0), (8192, 0), (16384, 0),
         (32768, 0), (65536, 0), (131072, 0), (8192, 256), (16384, 256), (32768, 256),
         (65536, 256), (131072, 256), (131072, 1024), (131072, 4096), (131072, 32768)]


def parse_params(header):
    """{name: value or None} of the single permessage-deflate element of an answer."""
    elements = [e.strip() for e in header.split(",")]
    assert len(elements) == 1, header
    parts = [p.strip() for p in elements[0].split(";")]
    assert parts[0] == "permessage-deflate", header
    params = {}
    for p in parts[1:]:
        name, _, value = p.partition("=")
        assert name.strip() not in params, header
        params[name.strip()] = value.strip().strip('"') if value else None
    return params


class Deflate:
    """The client's side of an agreed permessage-deflate."""

    def __init__(self, params, level=6):
        self.params = params
        self.client_bits = int(params.get("client_max_window_bits") or 15)
        self.server_bits = int(params.get("server_max_window_bits") or 15)
        self.client_takeover = "client_no_context_takeover" not in params
        self.server_takeover = "server_no_context_takeover" not in params
        self.level = level
        self._c = None
        self._d = None

    def compress(self, data):
        # zlib cannot compress with an 8-bit raw window; 9 is what a peer gets then.
        if self._c is None or not self.client_takeover:
            self._c = zlib.compressobj(self.level, zlib.DEFLATED, -max(9, self.client_bits))
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]

    def decompress(self, payload):
        # A decompressor with the agreed window only: a server that refers further back into
        # an earlier message (beyond server_max_window_bits) fails here.
        if self._d is None or not self.server_takeover:
            self._d = zlib.decompressobj(-self.server_bits)
        return self._d.decompress(payload + TAIL)


def connect_deflate(port, offer="permessage-deflate; client_max_window_bits", path="/"):
    """Upgrade with `offer`; returns (conn, Deflate or None when declined)."""
    c = ws_connect(port, path=path,
                   headers=[("Sec-WebSocket-Extensions", offer)] if offer else [])
    answers = c.response.header_all("Sec-WebSocket-Extensions")
    if not answers:
        return c, None
    assert len(answers) == 1, answers
    c.deflate = True
    return c, Deflate(parse_params(answers[0]))


def message_frames(opcode, payload, frag=0, compressed=True):
    """One message as frames: RSV1 on the first one only; `frag` > 0 splits the (compressed)
    payload Autobahn's way, with an empty final CONT when it divides evenly."""
    rsv = 4 if compressed else 0
    if frag == 0 or len(payload) <= frag:
        return [frame(opcode, payload, rsv=rsv)]
    out = []
    for pos in range(0, len(payload), frag):
        chunk = payload[pos:pos + frag]
        last = pos + frag >= len(payload) and len(chunk) < frag
        out.append(frame(opcode if pos == 0 else OP_CONT, chunk, fin=last,
                         rsv=rsv if pos == 0 else 0))
    if len(payload) % frag == 0:
        out.append(frame(OP_CONT, b"", fin=True))
    return out


def recv_message(c, deflate, timeout=REPLY_TIMEOUT):
    """Next data message: (opcode, payload, was_compressed)."""
    first = c.recv_frame(timeout, what="a data message")
    if first.opcode not in (OP_TEXT, OP_BIN):
        raise AssertionError("expected a data message, got %r" % first)
    data = [first.payload]
    f = first
    while not f.fin:
        f = c.recv_frame(timeout, what="a continuation")
        if f.opcode != OP_CONT or f.rsv:
            raise AssertionError("expected a continuation without RSV bits, got %r" % f)
        data.append(f.payload)
    payload = b"".join(data)
    compressed = first.rsv == 4
    if compressed:
        if deflate is None:
            raise AssertionError("compressed message without permessage-deflate: %r" % first)
        payload = deflate.decompress(payload)
    return first.opcode, payload, compressed


# --- the data sets -----------------------------------------------------------------------

def _json(rng):
    items = []
    for i in range(4000):
        items.append('{"id": %d, "agent": "%s", "case": "%d.%d.%d", "behavior": "%s", '
                     '"duration": %d, "remoteCloseCode": %d}'
                     % (i, rng.choice(["Duplex", "AutobahnPython", "ws"]), rng.randint(1, 13),
                        rng.randint(1, 9), rng.randint(1, 18),
                        rng.choice(["OK", "NON-STRICT", "INFORMATIONAL"]), rng.randint(0, 900),
                        rng.choice([1000, 1002, 1007])))
    return ("[" + ",\n ".join(items) + "]").encode()


def _bitmap(rng):
    rows = []
    for y in range(512):
        base = (y * 3) % 256
        noise = rng.randbytes(512)
        rows.append(bytes((base + (x // 8) + (noise[x] & 3)) % 256 for x in range(512)))
    return b"BM" + struct.pack("<I", 263222) + b"\x00" * 1074 + b"".join(rows)


def _german(rng):
    words = ["Habe", "nun,", "ach!", "Philosophie,", "Juristerei", "und", "Medizin,",
             "Und", "leider", "auch", "Theologie", "Durchaus", "studiert,", "mit", "heißem",
             "Bemühn.", "Da", "steh", "ich", "nun,", "ich", "armer", "Tor!", "Und", "bin", "so",
             "klug", "als", "wie", "zuvor;", "Faust:", "Mephistopheles:", "Gretchen."]
    out = []
    size = 0
    while size < 230000:
        out.append(rng.choice(words) if rng.random() >= 0.1 else "\n")
        size += len(out[-1]) + 1
    return " ".join(out).encode("utf-8")


def _html(rng):
    parts = ["<!DOCTYPE html><html><head><title>Autobahn report</title></head><body>"]
    size = 0
    while size < 260000:
        size += len(parts[-1])
        parts.append('<tr><td class="case">%d.%d</td><td class="%s">%s</td><td>%d ms</td>'
                     '<td>Ünïcödé ✓ €</td></tr>\n'
                     % (rng.randint(1, 13), rng.randint(1, 18), rng.choice(["ok", "fail"]),
                        rng.choice(["Pass", "Fail", "Non-Strict"]), rng.randint(0, 999)))
    parts.append("</body></html>")
    return "".join(parts)


def _pdf(rng):
    # Mostly compressed streams (incompressible) between small text objects.
    out = [b"%PDF-1.4\n"]
    n = 0
    while n * 4130 < 1042328:
        n += 1
        out.append(b"%d 0 obj << /Length 4096 /Filter /FlateDecode >> stream\n" % n)
        out.append(rng.randbytes(4096))
        out.append(b"\nendstream endobj\n")
    return b"".join(out)


_DATA = {}


def dataset(n):
    """Family 12's data set n (1-5): (opcode, units) where text units are characters."""
    if n not in _DATA:
        rng = random.Random(12_000 + n)
        _DATA[n] = {1: (OP_TEXT, lambda: _json(rng).decode()),
                    2: (OP_BIN, lambda: _bitmap(rng)),
                    3: (OP_BIN, lambda: _german(rng)),
                    4: (OP_TEXT, lambda: _html(rng)),
                    5: (OP_BIN, lambda: _pdf(rng))}[n]
        _DATA[n] = (_DATA[n][0], _DATA[n][1]())
    return _DATA[n]


def messages(n, length, count):
    """`count` messages of `length` units read cyclically from data set n, as bytes."""
    opcode, data = dataset(n)
    pos = 0
    out = []
    for _ in range(count):
        chunk = (data * (length // len(data) + 2))[pos:pos + length]
        pos = (pos + length) % len(data)
        out.append(chunk.encode("utf-8") if opcode == OP_TEXT else chunk)
    return opcode, out


def echo_series(test, c, deflate, opcode, payloads, frag):
    """Autobahn 12/13 mechanics: each message compressed (RSV1), split into `frag`-byte
    frames of compressed bytes, sent after the previous echo; every echo must match type and
    bytes (compressed or not). Returns (messages echoed compressed, bytes in, bytes out)."""
    compressed_echoes = wire_in = wire_out = 0
    for payload in payloads:
        body = deflate.compress(payload)
        wire_out += len(body)
        c.send(b"".join(message_frames(opcode, body, frag)))
        got_op, got, was_compressed = recv_message(c, deflate, timeout=10.0)
        test.assertEqual(got_op, opcode)
        if got != payload:
            raise AssertionError("echo differs: %d bytes sent, %d back" % (len(payload), len(got)))
        compressed_echoes += was_compressed
        wire_in += len(got)
    return compressed_echoes, wire_out, wire_in
