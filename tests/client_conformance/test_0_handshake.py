"""Family 0 (client side; Autobahn has no cases here): the opening handshake.

The suite's server checks the client's upgrade request, then answers it
correctly or breaks it on purpose.  A broken answer makes the client exit 1 with
one line on stderr containing "handshake failed", without sending a single
WebSocket frame."""

import base64
import errno
import socket
import time
import unittest

from clientharness import (EXIT_TIMEOUT, HOST, OP_BIN, OP_PING, OP_TEXT, ClientTestCase,
                           Listener, accept_key, sframe)


class Request(ClientTestCase):
    """What the client puts in its upgrade request."""

    def _request(self, *flags, path="/"):
        lst = self.listen()
        client = self.start_client(lst.url(path), *self.client_args(flags))
        peer = self.accept(lst, client)
        peer.authority = lst.authority()
        return peer, peer.read_http_request()

    def _finish(self, peer, protocol=None):
        """Complete the handshake and a short echo exchange, then close 1000."""
        peer.accept_upgrade(protocol=protocol)
        peer.send(sframe(OP_TEXT, b"after handshake"))
        peer.expect_echo(OP_TEXT, b"after handshake")
        self.server_close(peer, 1000)

    def test_0_x1_request_line_and_required_headers(self):
        peer, req = self._request()
        self.assertEqual((req.method, req.target, req.version), ("GET", "/", "HTTP/1.1"),
                         req.raw_head)
        self.assertEqual(req.header_all("Host"), [peer.authority])
        self.assertEqual(req.tokens("Upgrade"), ["websocket"])
        self.assertIn("upgrade", req.tokens("Connection"))
        self.assertEqual(req.header_all("Sec-WebSocket-Version"), ["13"])
        keys = req.header_all("Sec-WebSocket-Key")
        self.assertEqual(len(keys), 1, req.raw_head)
        self.assertEqual(len(base64.b64decode(keys[0], validate=True)), 16, keys[0])
        self.assertEqual(len(keys[0]), 24, keys[0])
        self.assertEqual(req.header_all("Sec-WebSocket-Protocol"), [],
                         "no --protocol, yet a subprotocol was offered")
        self.assertEqual(req.header_all("Sec-WebSocket-Extensions"), [],
                         "the client offers an extension it does not implement")
        self._finish(peer)

    def test_0_x2_resource_path_and_query(self):
        peer, req = self._request(path="/some/path?case=3&agent=duplex")
        self.assertEqual(req.target, "/some/path?case=3&agent=duplex")
        self._finish(peer)

    def test_0_x3_key_differs_between_connections(self):
        peer1, req1 = self._request()
        peer2, req2 = self._request()
        k1, k2 = req1.header("Sec-WebSocket-Key"), req2.header("Sec-WebSocket-Key")
        self.assertNotEqual(k1, k2, "the same Sec-WebSocket-Key twice")
        self._finish(peer1)
        self._finish(peer2)

    def test_0_x4_subprotocols_offered_in_order(self):
        peer, req = self._request("--protocol", "a", "--protocol", "b")
        self.assertEqual(req.header_all("Sec-WebSocket-Protocol"), ["a, b"], req.raw_head)
        self._finish(peer, protocol="b")

    def test_0_x5_extra_headers(self):
        peer, req = self._request("--header", "X-Duplex-Test: hello world",
                                  "--header", "Authorization: Bearer abc.def")
        self.assertEqual(req.header_all("X-Duplex-Test"), ["hello world"], req.raw_head)
        self.assertEqual(req.header_all("Authorization"), ["Bearer abc.def"], req.raw_head)
        self._finish(peer)

    def test_0_x6_host_without_port_80(self):
        """ws://127.0.0.1:80/ -> "Host: 127.0.0.1" (skipped if port 80 is unavailable)."""
        try:
            lst = Listener.__new__(Listener)
            lst.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sockets.append(lst)
            lst.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.sock.bind((HOST, 80))
            lst.sock.listen(4)
            lst.port = 80
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EADDRINUSE, errno.EPERM):
                self.skipTest("cannot listen on %s:80 (%s)" % (HOST, e))
            raise
        client = self.start_client("ws://%s/" % HOST, *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.header_all("Host"), [HOST], req.raw_head)
        self._finish(peer)

    def test_0_x7_empty_path_is_slash(self):
        lst = self.listen()
        client = self.start_client("ws://%s:%d" % (HOST, lst.port), *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.target, "/", req.raw_head)
        self._finish(peer)

    def test_0_x8_host_name_kept_in_host_header(self):
        """ws://localhost:PORT/ -> "Host: localhost:PORT" (the listener is IPv4 only, so
        a client trying ::1 first must fall back to 127.0.0.1)."""
        lst = self.listen()
        client = self.start_client("ws://localhost:%d/" % lst.port, *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.header_all("Host"), ["localhost:%d" % lst.port], req.raw_head)
        self._finish(peer)

    def test_0_x9_ipv6_literal_host(self):
        """ws://[::1]:PORT/ -> "Host: [::1]:PORT" (skipped without IPv6 loopback)."""
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        except OSError as e:
            self.skipTest("no IPv6: %s" % e)
        lst = Listener.__new__(Listener)
        lst.sock = s
        self._sockets.append(lst)
        try:
            s.bind(("::1", 0))
        except OSError as e:
            self.skipTest("no IPv6 loopback: %s" % e)
        s.listen(4)
        lst.port = s.getsockname()[1]
        client = self.start_client("ws://[::1]:%d/" % lst.port, *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.header_all("Host"), ["[::1]:%d" % lst.port], req.raw_head)
        self._finish(peer)


class Response(ClientTestCase):
    """How the client treats the server's answer."""

    def _broken(self, respond, *phrases, flags=()):
        """Start a client, read its request, let `respond(peer, req)` answer; the client
        must send nothing more, close TCP and exit 1 with 'handshake failed'."""
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(flags))
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        respond(peer, req)
        peer.expect_no_bytes_then_eof(EXIT_TIMEOUT)
        self.expect_exit(client, 1, "handshake failed", *phrases)

    def test_0_x10_status_200(self):
        self._broken(lambda p, r: p.send_response(200, "OK", [("Content-Length", "5")], b"hello"))

    def test_0_x11_status_404(self):
        self._broken(lambda p, r: p.send_response(404, "Not Found", [("Content-Length", "9")],
                                                  b"not found"), "404")

    def test_0_x12_wrong_accept(self):
        self._broken(lambda p, r: p.accept_upgrade(
            replace={"Sec-WebSocket-Accept": accept_key("dGhlIHNhbXBsZSBub25jZQ==")}),
            "Sec-WebSocket-Accept")

    def test_0_x13_missing_accept(self):
        self._broken(lambda p, r: p.accept_upgrade(drop=("sec-websocket-accept",)),
                     "Sec-WebSocket-Accept")

    def test_0_x14_missing_upgrade(self):
        self._broken(lambda p, r: p.accept_upgrade(drop=("upgrade",)))

    def test_0_x15_wrong_upgrade(self):
        self._broken(lambda p, r: p.accept_upgrade(replace={"Upgrade": "h2c"}))

    def test_0_x16_missing_connection(self):
        self._broken(lambda p, r: p.accept_upgrade(drop=("connection",)))

    def test_0_x17_subprotocol_not_offered(self):
        self._broken(lambda p, r: p.accept_upgrade(protocol="c"),
                     flags=("--protocol", "a", "--protocol", "b"))

    def test_0_x18_subprotocol_without_offer(self):
        self._broken(lambda p, r: p.accept_upgrade(protocol="a"))

    def test_0_x19_no_subprotocol_when_offered(self):
        self._broken(lambda p, r: p.accept_upgrade(), flags=("--protocol", "a"))

    def test_0_x20_extension_not_offered(self):
        self._broken(lambda p, r: p.accept_upgrade(
            add=[("Sec-WebSocket-Extensions", "permessage-deflate")]))

    def test_0_x21_garbage_instead_of_http(self):
        self._broken(lambda p, r: p.send(b"\x00\x01\x02garbage \xff\xfe\x16\x03\x01\r\n"
                                         b"more garbage\r\n\r\n"))

    def test_0_x22_server_never_answers(self):
        """--handshake-timeout 1: exit 1 within ~3 s, stderr names the timeout."""
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--handshake-timeout", "1"]))
        peer = self.accept(lst, client)
        peer.read_http_request()
        start = time.monotonic()
        peer.expect_no_bytes_then_eof(3.0)
        self.assertGreater(time.monotonic() - start, 0.5, "gave up long before the timeout")
        self.expect_exit(client, 1, "timed out")

    def test_0_x23_server_closes_without_answer(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args())
        peer = self.accept(lst, client)
        peer.read_http_request()
        peer.close()
        self.expect_exit(client, 1)

    def test_0_x24_connection_refused(self):
        """Nothing listens on the port (bound, never listening): exit 1 at once."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        client = self.start_client("ws://%s:%d/" % (HOST, port), *self.client_args())
        self.expect_exit(client, 1, "connection refused")

    def test_0_x25_redirect_not_followed_by_default(self):
        self._broken(lambda p, r: p.send_response(302, "Found", [("Location", "/elsewhere"),
                                                                  ("Content-Length", "0")]),
                     "302")

    def test_0_x26_response_head_never_finished(self):
        """Half a response head, then silence: --handshake-timeout 1 applies."""
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--handshake-timeout", "1"]))
        peer = self.accept(lst, client)
        peer.read_http_request()
        peer.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
        peer.expect_no_bytes_then_eof(3.0)
        self.expect_exit(client, 1, "timed out")

    def test_0_x28_trickled_response_head_still_times_out(self):
        """One response header line every 0.2 s, forever: the handshake timeout (1 s)
        is not reset by the trickle."""
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--handshake-timeout", "1"]))
        peer = self.accept(lst, client)
        peer.read_http_request()
        peer.send(b"HTTP/1.1 101 Switching Protocols\r\n")
        start = time.monotonic()
        i = 0
        while client.alive() and time.monotonic() - start < 4.0:
            peer.send(b"X-Trickle-%d: x\r\n" % i)
            i += 1
            time.sleep(0.2)
        self.assertLess(time.monotonic() - start, 3.0, "the trickle kept the handshake alive")
        peer.expect_no_bytes_then_eof(1.0)
        self.expect_exit(client, 1, "timed out")

    def test_0_x27_huge_response_head(self):
        """A response head that never ends but keeps growing (200 KB) is refused."""
        self._broken(lambda p, r: p.send(b"HTTP/1.1 101 Switching Protocols\r\nX-Pad: "
                                         + b"a" * 200000 + b"\r\n"),
                     flags=("--handshake-timeout", "2"))

    # valid answers --------------------------------------------------------------------
    def test_0_x30_frame_in_same_write_as_101(self):
        """A text frame glued to the 101 response (one TCP write) is echoed."""
        p = self.session(trailing=sframe(OP_TEXT, b"glued to the 101"))
        p.expect_echo(OP_TEXT, b"glued to the 101")
        self.server_close(p, 1000)

    def test_0_x31_several_frames_in_same_write_as_101(self):
        p = self.session(trailing=sframe(OP_PING, b"early") + sframe(OP_BIN, b"\x00\x01"))
        p.expect_pong(b"early")
        p.expect_echo(OP_BIN, b"\x00\x01")
        self.server_close(p, 1000)

    def test_0_x32_header_case_and_token_lists(self):
        """Header names and the Upgrade/Connection tokens are case-insensitive, and
        Connection may be a token list."""
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        key = req.header("Sec-WebSocket-Key")
        peer.send_response(101, "Switching Protocols",
                           [("upgrade", "WebSocket"), ("CONNECTION", "keep-alive, Upgrade"),
                            ("sec-websocket-accept", accept_key(key)), ("Server", "hostile/1.0")])
        peer.send(sframe(OP_TEXT, b"case"))
        peer.expect_echo(OP_TEXT, b"case")
        self.server_close(peer, 1000)

    def test_0_x33_response_head_byte_by_byte(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(req.header("Sec-WebSocket-Key")))
        peer.send(resp.encode("ascii"), chop=1, pause=0.001)
        peer.send(sframe(OP_TEXT, b"slow"))
        peer.expect_echo(OP_TEXT, b"slow")
        self.server_close(peer, 1000)

    def test_0_x34_selected_subprotocol_accepted(self):
        p = self.session("--protocol", "chat", "--protocol", "superchat", protocol="superchat")
        p.send(sframe(OP_TEXT, b"with protocol"))
        p.expect_echo(OP_TEXT, b"with protocol")
        self.server_close(p, 1000)


if __name__ == "__main__":
    unittest.main()
