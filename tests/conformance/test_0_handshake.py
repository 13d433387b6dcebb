"""Family 0: the HTTP opening handshake (Autobahn has no cases here; Duplex does).

Every error response must be well formed: the status, a text/plain body starting
with the status code, `Connection: close`, and the server then closes the
connection.
"""

import time
import unittest

from wsharness import (EOF, HOST, OP_BIN, OP_TEXT, REPLY_TIMEOUT, Conn, ServerTestCase,
                       accept_key, frame, new_key, upgrade_request)


class HandshakeBase(ServerTestCase):

    def request(self, raw, timeout=REPLY_TIMEOUT):
        c = self.raw()
        c.send(raw)
        return c, c.read_http_response(timeout)

    def assert_error(self, raw, status, **kw):
        c, resp = self.request(raw)
        self.assert_error_response(c, resp, status)
        return resp

    def assert_error_response(self, c, resp, status):
        self.assertEqual(resp.version, "HTTP/1.1", resp)
        self.assertEqual(resp.status, status, resp)
        ctype = resp.header("Content-Type") or ""
        self.assertTrue(ctype.lower().startswith("text/plain"), "Content-Type %r" % ctype)
        self.assertTrue(resp.body.startswith(str(status).encode()),
                        "body must start with the status code: %r" % resp.body)
        self.assertIn("close", resp.tokens("Connection"), resp)
        self.assertIsNone(resp.header("Sec-WebSocket-Accept"))
        c.expect_eof(REPLY_TIMEOUT)

    def assert_101(self, raw, key):
        c, resp = self.request(raw)
        self.assertEqual(resp.status, 101, resp)
        self.assertEqual(resp.version, "HTTP/1.1")
        self.assertEqual(resp.reason, "Switching Protocols")
        self.assertIn("websocket", resp.tokens("Upgrade"))
        self.assertIn("upgrade", resp.tokens("Connection"))
        self.assertEqual(resp.header("Sec-WebSocket-Accept"), accept_key(key))
        return c, resp

    def upgrade(self, **kw):
        return upgrade_request(self.port, **kw)


class Handshake(HandshakeBase):

    def test_0_1_valid_upgrade_rfc_example_key(self):
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        c, resp = self.assert_101(self.upgrade(key=key), key)
        self.assertEqual(resp.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertEqual(resp.header("Upgrade").lower(), "websocket")
        self.assertIsNone(resp.header("Sec-WebSocket-Protocol"))
        self.assertIsNone(resp.header("Sec-WebSocket-Extensions"))
        c.send(frame(OP_TEXT, b"after handshake"))
        c.expect_echo(OP_TEXT, b"after handshake")
        c.close_handshake(1000)

    def test_0_2_valid_upgrade_random_key_echo_path(self):
        key = new_key()
        c, _ = self.assert_101(self.upgrade(path="/echo", key=key), key)
        c.close_handshake(1000)

    def test_0_3_mixed_case_upgrade_and_connection_list(self):
        key = new_key()
        raw = self.upgrade(key=key, replace={"Upgrade": "WebSocket",
                                             "Connection": "keep-alive, Upgrade"})
        c, _ = self.assert_101(raw, key)
        c.close_handshake(1000)

    def test_0_4_lower_case_header_names(self):
        key = new_key()
        raw = ("GET / HTTP/1.1\r\nhost: %s:%d\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
               "sec-websocket-key: %s\r\nsec-websocket-version: 13\r\n\r\n"
               % (HOST, self.port, key)).encode()
        c, _ = self.assert_101(raw, key)
        c.close_handshake(1000)

    def test_0_5_frames_in_same_write_as_request(self):
        key = new_key()
        frames = frame(OP_TEXT, b"early bird") + frame(OP_BIN, b"\x00\x01")
        c, _ = self.assert_101(self.upgrade(key=key) + frames, key)
        c.expect_echo(OP_TEXT, b"early bird")
        c.expect_echo(OP_BIN, b"\x00\x01")
        c.close_handshake(1000)

    def test_0_6_request_head_chop_1(self):
        key = new_key()
        c = self.raw()
        c.send(self.upgrade(key=key), chop=1, pause=0.0005)
        resp = c.read_http_response()
        self.assertEqual(resp.status, 101, resp)
        self.assertEqual(resp.header("Sec-WebSocket-Accept"), accept_key(key))
        c.close_handshake(1000)

    def test_0_7_extra_headers_and_extension_offer_ignored(self):
        key = new_key()
        raw = self.upgrade(key=key, add=[("User-Agent", "conformance"),
                                         # An extension Duplex does not implement
                                         # (permessage-deflate: test_12_deflate.py).
                                         ("Sec-WebSocket-Extensions", "x-webkit-deflate-frame"),
                                         ("Origin", "http://anything.example")])
        c, resp = self.assert_101(raw, key)
        self.assertIsNone(resp.header("Sec-WebSocket-Extensions"))
        self.assertIsNone(resp.header("Sec-WebSocket-Protocol"))
        c.send(frame(OP_TEXT, b"plain"))
        c.expect_echo(OP_TEXT, b"plain")
        c.close_handshake(1000)

    # errors ------------------------------------------------------------------------------
    def test_0_8_post_405(self):
        resp = self.assert_error(self.upgrade(method="POST"), 405)
        self.assertEqual(resp.header("Allow"), "GET")

    def test_0_9_http_1_0_400(self):
        self.assert_error(self.upgrade(version="HTTP/1.0"), 400)

    def test_0_10_missing_host_400(self):
        self.assert_error(self.upgrade(drop=("host",)), 400)

    def test_0_11_connection_without_upgrade_token_400(self):
        self.assert_error(self.upgrade(replace={"Connection": "keep-alive"}), 400)

    def test_0_12_missing_version_426(self):
        resp = self.assert_error(self.upgrade(drop=("sec-websocket-version",)), 426)
        self.assertEqual(resp.header("Sec-WebSocket-Version"), "13")

    def test_0_13_wrong_version_426(self):
        resp = self.assert_error(self.upgrade(replace={"Sec-WebSocket-Version": "8"}), 426)
        self.assertEqual(resp.header("Sec-WebSocket-Version"), "13")

    def test_0_14_missing_key_400(self):
        self.assert_error(self.upgrade(drop=("sec-websocket-key",)), 400)

    def test_0_15_invalid_keys_400(self):
        import base64
        for key in ("not base64!!", base64.b64encode(b"x" * 15).decode(),
                    base64.b64encode(b"x" * 17).decode(), "", "dGhlIHNhbXBsZSBub25j=ZQ=",
                    "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ=="):
            with self.subTest(key=key):
                self.assert_error(self.upgrade(key=key), 400)

    def test_0_16_unknown_path_404(self):
        self.assert_error(self.upgrade(path="/nope"), 404)

    def test_0_17_malformed_request_line_400(self):
        for line in (b"GARBAGE\r\n\r\n", b"GET /\r\nHost: x\r\n\r\n",
                     b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\r\n\r\n"):
            with self.subTest(line=line):
                self.assert_error(line, 400)

    def test_0_18_malformed_header_400(self):
        raw = self.upgrade().replace(b"Upgrade: websocket", b"Upgrade websocket")
        self.assert_error(raw, 400)

    def test_0_19_header_over_max_header_bytes_431(self):
        raw = self.upgrade(add=[("X-Filler", "a" * 9000)])
        self.assert_error(raw, 431)

    def test_0_20_plain_get_root_200_html(self):
        c, resp = self.request(b"GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (HOST.encode(), self.port))
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue((resp.header("Content-Type") or "").lower().startswith("text/html"), resp)
        self.assertIn(b"<", resp.body)

    def test_0_21_plain_get_echo_426(self):
        self.assert_error(b"GET /echo HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                          % (HOST.encode(), self.port), 426)

    def test_0_22_plain_get_missing_404(self):
        self.assert_error(b"GET /missing HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                          % (HOST.encode(), self.port), 404)

    def test_0_23_head_just_under_limit_accepted(self):
        key = new_key()
        base = len(self.upgrade(key=key))
        raw = self.upgrade(key=key, add=[("X-Filler", "a" * (8000 - base))])
        self.assertLess(len(raw), 8192)
        c, _ = self.assert_101(raw, key)
        c.close_handshake(1000)


class HandshakeOrigin(HandshakeBase):
    server_flags = ("--allow-origin", "http://good.example")

    def test_0_24_disallowed_origin_403(self):
        self.assert_error(self.upgrade(add=[("Origin", "http://evil.example")]), 403)

    def test_0_25_allowed_origin_101(self):
        key = new_key()
        c, _ = self.assert_101(self.upgrade(key=key, add=[("Origin", "http://good.example")]), key)
        c.close_handshake(1000)


class HandshakeProtocols(HandshakeBase):
    server_flags = ("--protocol", "chat", "--protocol", "superchat")

    def test_0_26_protocol_client_order_wins(self):
        key = new_key()
        c, resp = self.assert_101(
            self.upgrade(key=key, add=[("Sec-WebSocket-Protocol", "superchat, chat")]), key)
        self.assertEqual(resp.header("Sec-WebSocket-Protocol"), "superchat")
        c.close_handshake(1000)

    def test_0_27_protocol_first_supported(self):
        key = new_key()
        c, resp = self.assert_101(
            self.upgrade(key=key, add=[("Sec-WebSocket-Protocol", "other, chat")]), key)
        self.assertEqual(resp.header("Sec-WebSocket-Protocol"), "chat")
        c.close_handshake(1000)

    def test_0_28_protocol_unsupported_offer_no_header(self):
        key = new_key()
        c, resp = self.assert_101(
            self.upgrade(key=key, add=[("Sec-WebSocket-Protocol", "other")]), key)
        self.assertIsNone(resp.header("Sec-WebSocket-Protocol"))
        c.send(frame(OP_TEXT, b"no subprotocol"))
        c.expect_echo(OP_TEXT, b"no subprotocol")
        c.close_handshake(1000)

    def test_0_29_protocol_not_offered_no_header(self):
        key = new_key()
        c, resp = self.assert_101(self.upgrade(key=key), key)
        self.assertIsNone(resp.header("Sec-WebSocket-Protocol"))
        c.close_handshake(1000)


class HandshakeLimits(HandshakeBase):
    server_flags = ("--max-header-bytes", "1024", "--handshake-timeout", "1")

    def test_0_30_custom_max_header_bytes_431(self):
        self.assert_error(self.upgrade(add=[("X-Filler", "b" * 1200)]), 431)

    def test_0_31_custom_max_header_bytes_under_limit_101(self):
        key = new_key()
        raw = self.upgrade(key=key, add=[("X-Filler", "b" * 600)])
        self.assertLess(len(raw), 1024)
        c, _ = self.assert_101(raw, key)
        c.close_handshake(1000)

    def _closed_within(self, c, seconds):
        deadline = time.monotonic() + seconds
        while not c.eof:
            if not c._fill(deadline):
                self.fail("connection still open after %.1fs" % seconds)

    def test_0_32_handshake_timeout_silent_client(self):
        c = self.raw()
        start = time.monotonic()
        self._closed_within(c, 3.0)
        self.assertGreater(time.monotonic() - start, 0.7)

    def test_0_33_handshake_timeout_partial_head(self):
        c = self.raw()
        c.send(self.upgrade()[:40])
        self._closed_within(c, 3.0)


if __name__ == "__main__":
    unittest.main()
