"""Autobahn family 10 (misc), plus Duplex's connection isolation and idle-timeout
behaviour."""

import threading
import time
import unittest

from wsharness import (HOST, OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, PAUSE, Conn,
                       ServerTestCase, close_payload, frame, upgrade_request, ws_connect)


class Misc(ServerTestCase):

    def test_10_1_1_65536_in_1300_byte_fragments(self):
        payload = b"*" * 65536
        frames = [frame(OP_TEXT, payload[:1300], fin=False)]
        pos = 1300
        while pos < len(payload):
            chunk = payload[pos:pos + 1300]
            pos += len(chunk)
            frames.append(frame(OP_CONT, chunk, fin=pos >= len(payload)))
        self.assertEqual(len(frames), 51)
        self.echo_case(frames, OP_TEXT, payload, timeout=10)

    # Duplex additions: one bad client never affects another ---------------------------
    def _assert_still_echoes(self, good, tag):
        msg = b"still alive after " + tag
        good.send(frame(OP_TEXT, msg))
        good.expect_echo(OP_TEXT, msg)

    def test_10_x1_garbage_before_handshake_isolated(self):
        good = self.connect()
        bad = self.raw()
        bad.send(bytes(range(256)) * 8 + b"\r\n\r\n")
        # the bad connection gets an error response (or is simply dropped), then EOF
        deadline = time.monotonic() + 3
        while not bad.eof and time.monotonic() < deadline:
            bad._fill(deadline)
        self.assertTrue(bad.eof, "server kept a garbage connection open")
        self._assert_still_echoes(good, b"garbage")
        good.close_handshake(1000)

    def test_10_x2_protocol_error_isolated(self):
        good = self.connect()
        bad = self.connect()
        bad.send(frame(OP_TEXT, b"x", rsv=7) + b"\xff" * 100)
        bad.expect_fail(1002)
        self._assert_still_echoes(good, b"protocol error")
        good.close_handshake(1000)

    def test_10_x3_stalled_partial_frame_isolated(self):
        """A client stuck in the middle of a frame does not block others."""
        good = self.connect()
        stalled = self.connect()
        stalled.send(frame(OP_BIN, b"a" * 5000)[:100])
        half_head = self.raw()
        half_head.send(upgrade_request(self.port)[:30])
        time.sleep(0.1)
        self._assert_still_echoes(good, b"stalled peers")
        stalled.expect_silence(0.05)
        good.close_handshake(1000)

    def test_10_x4_abrupt_disconnect_isolated(self):
        """Clients that vanish (RST) mid-frame and mid-handshake do not hurt others."""
        good = self.connect()
        for _ in range(5):
            gone = ws_connect(self.port)
            gone.send(frame(OP_BIN, b"b" * 70000)[:5000])
            gone.abort()
            half = Conn(self.port)
            half.send(upgrade_request(self.port)[:20])
            half.abort()
        time.sleep(0.1)
        self._assert_still_echoes(good, b"resets")
        good.close_handshake(1000)

    def test_10_x5_many_concurrent_clients(self):
        """20 clients interleaving messages each get exactly their own echoes."""
        clients = [self.connect() for _ in range(20)]
        for rnd in range(5):
            for i, c in enumerate(clients):
                c.send(frame(OP_TEXT if i % 2 else OP_BIN, b"client %d round %d" % (i, rnd)))
        for i, c in enumerate(clients):
            for rnd in range(5):
                c.expect_echo(OP_TEXT if i % 2 else OP_BIN, b"client %d round %d" % (i, rnd))
        for c in clients:
            c.close_handshake(1000)

    def test_10_x6_threaded_clients(self):
        """Clients driven from separate threads, each doing echo round trips."""
        errors = []

        def worker(n):
            try:
                c = ws_connect(self.port)
                try:
                    for i in range(50):
                        msg = b"%d:%d:" % (n, i) + b"z" * (i * 37)
                        c.send(frame(OP_BIN, msg))
                        c.expect_echo(OP_BIN, msg)
                    c.close_handshake(1000)
                finally:
                    c.close()
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append("client %d: %s" % (n, e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads), "worker threads hung")
        self.assertEqual(errors, [])

    def test_10_x7_pipelined_messages(self):
        """100 messages in one write, echoed in order."""
        msgs = [bytes([65 + i % 26]) * i for i in range(100)]
        c = self.connect()
        c.send(b"".join(frame(OP_TEXT, m) for m in msgs))
        for m in msgs:
            c.expect_echo(OP_TEXT, m)
        c.close_handshake(1000)


    def test_10_x12_sigterm_closes_connections_1001(self):
        """`duplex --help`: SIGTERM closes every connection with 1001 and exits
        (within --close-timeout once the clients have answered)."""
        srv = self.start_server("--close-timeout", "1")
        clients = [ws_connect(srv.port) for _ in range(3)]
        for c in clients:
            self.addCleanup(c.close)
        clients[0].send(frame(OP_TEXT, b"before shutdown"))
        clients[0].expect_echo(OP_TEXT, b"before shutdown")
        srv.proc.terminate()
        for c in clients:
            c.expect_close(1001, timeout=3)
            c.send(frame(OP_CLOSE, close_payload(1001)))
            c.expect_eof(2)
        try:
            srv.proc.wait(3)
        except Exception:  # noqa: BLE001
            self.fail("server still running 3 s after SIGTERM with all clients closed")


class IdleTimeout(ServerTestCase):
    """--idle-timeout 1: a silent connection gets CLOSE 1001, then EOF."""

    server_flags = ("--idle-timeout", "1", "--close-timeout", "1")

    def test_10_x8_idle_connection_closed_1001(self):
        c = self.connect()
        start = time.monotonic()
        f = c.expect_close(1001, timeout=3.5)
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 0.7, "closed too early (%.2fs)" % elapsed)
        # a well-behaved client answers the close; the server then closes TCP
        c.send(frame(OP_CLOSE, close_payload(1001)))
        c.expect_eof(1.5)
        self.assertEqual(f.fin, True)

    def test_10_x9_idle_close_without_client_reply(self):
        """If the client never answers, TCP is closed after --close-timeout."""
        c = self.connect()
        c.expect_close(1001, timeout=3.5)
        c.expect_eof(2.5)

    def test_10_x10_active_connection_stays_open(self):
        c = self.connect()
        # Seven exchanges 0.3 s apart span at least 2.1 s, twice the idle timeout, however slow
        # the machine: a count, not a deadline, so load cannot fail it.
        for i in range(7):
            msg = b"keepalive %d" % i
            c.send(frame(OP_TEXT, msg))
            c.expect_echo(OP_TEXT, msg)
            time.sleep(0.3)
        c.close_handshake(1000)

    def test_10_x11_idle_during_fragmented_message(self):
        """An unfinished message does not keep a silent connection alive."""
        c = self.connect()
        c.send(frame(OP_TEXT, b"fragment1", fin=False))
        c.expect_close(1001, timeout=3.5)


if __name__ == "__main__":
    unittest.main()
