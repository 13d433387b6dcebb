"""Autobahn family 5 (client side): fragmentation.  Fragmented server messages are
reassembled and echoed (how the client fragments its echo is not graded); pongs
are not held back behind a partly received message; broken fragment sequences
(stray CONT, new data frame inside a message, fragmented control frames) are
protocol errors: close 1002."""

import unittest

from clientharness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, PAUSE,
                           ClientTestCase, close_payload, sframe)

F1, F2, F3, F4, F5 = (b"fragment%d" % i for i in range(1, 6))


class Fragmentation(ClientTestCase):

    def test_5_1_fragmented_ping(self):
        self.fail_case([sframe(OP_PING, F1, fin=False), sframe(OP_CONT, F2)], 1002)

    def test_5_2_fragmented_pong(self):
        self.fail_case([sframe(OP_PONG, F1, fin=False), sframe(OP_CONT, F2)], 1002)

    def _two_fragments(self, mode):
        self.echo_case([sframe(OP_TEXT, F1, fin=False), sframe(OP_CONT, F2)],
                       OP_TEXT, F1 + F2, mode=mode, chop=1)

    def test_5_3_two_fragments_batch(self):
        self._two_fragments("batch")

    def test_5_4_two_fragments_per_frame(self):
        self._two_fragments("frame")

    def test_5_5_two_fragments_chop_1(self):
        self._two_fragments("chop")

    def _ping_between(self, mode):
        p = self.session()
        p.send_frames([sframe(OP_TEXT, F1, fin=False), sframe(OP_PING, b"ping payload"),
                       sframe(OP_CONT, F2)], mode=mode, chop=1)
        p.expect_pong(b"ping payload")
        p.expect_echo(OP_TEXT, F1 + F2)
        self.server_close(p, 1000)

    def test_5_6_ping_between_fragments_batch(self):
        self._ping_between("batch")

    def test_5_7_ping_between_fragments_per_frame(self):
        self._ping_between("frame")

    def test_5_8_ping_between_fragments_chop_1(self):
        self._ping_between("chop")

    def _cont_fin_without_message(self, mode):
        self.fail_case([sframe(OP_CONT, b"non-continuation payload"),
                        sframe(OP_TEXT, b"Hello, world!")], 1002, mode=mode, chop=1)

    def test_5_9_cont_fin_without_message_batch(self):
        self._cont_fin_without_message("batch")

    def test_5_10_cont_fin_without_message_per_frame(self):
        self._cont_fin_without_message("frame")

    def test_5_11_cont_fin_without_message_chop_1(self):
        self._cont_fin_without_message("chop")

    def _cont_nofin_without_message(self, mode):
        self.fail_case([sframe(OP_CONT, b"non-continuation payload", fin=False),
                        sframe(OP_TEXT, b"Hello, world!")], 1002, mode=mode, chop=1)

    def test_5_12_cont_nofin_without_message_batch(self):
        self._cont_nofin_without_message("batch")

    def test_5_13_cont_nofin_without_message_per_frame(self):
        self._cont_nofin_without_message("frame")

    def test_5_14_cont_nofin_without_message_chop_1(self):
        self._cont_nofin_without_message("chop")

    def test_5_15_cont_after_finished_message(self):
        self.fail_case([sframe(OP_TEXT, F1, fin=False), sframe(OP_CONT, F2),
                        sframe(OP_CONT, F3, fin=False), sframe(OP_TEXT, F4)],
                       1002, before=[(OP_TEXT, F1 + F2)])

    def test_5_16_cont_first_twice(self):
        group = [sframe(OP_CONT, F1, fin=False), sframe(OP_TEXT, F2, fin=False),
                 sframe(OP_CONT, F3)]
        self.fail_case(group * 2, 1002)

    def test_5_17_cont_fin_first_twice(self):
        group = [sframe(OP_CONT, F1), sframe(OP_TEXT, F2, fin=False), sframe(OP_CONT, F3)]
        self.fail_case(group * 2, 1002)

    def test_5_18_text_inside_fragmented_message(self):
        self.fail_case([sframe(OP_TEXT, F1, fin=False), sframe(OP_TEXT, F2)], 1002)

    def _pongs_not_held_back(self, mode):
        p = self.session()
        p.send_frames([sframe(OP_TEXT, F1, fin=False), sframe(OP_CONT, F2, fin=False),
                       sframe(OP_PING, b"pongme 1!")], mode=mode)
        # the first pong must arrive while the message is still unfinished
        p.expect_pong(b"pongme 1!")
        p.expect_silence(PAUSE)
        p.send_frames([sframe(OP_CONT, F3, fin=False), sframe(OP_CONT, F4, fin=False),
                       sframe(OP_PING, b"pongme 2!"), sframe(OP_CONT, F5)], mode=mode)
        p.expect_pong(b"pongme 2!")
        p.expect_echo(OP_TEXT, F1 + F2 + F3 + F4 + F5)
        self.server_close(p, 1000)

    def test_5_19_pongs_during_fragmented_message_batch(self):
        self._pongs_not_held_back("batch")

    def test_5_20_pongs_during_fragmented_message_per_frame(self):
        self._pongs_not_held_back("frame")

    # Duplex additions ----------------------------------------------------------------
    def test_5_x1_binary_fragments(self):
        parts = [bytes([i]) * (i * 7) for i in range(1, 8)]
        frames = [sframe(OP_BIN, parts[0], fin=False)]
        frames += [sframe(OP_CONT, x, fin=False) for x in parts[1:-1]]
        frames.append(sframe(OP_CONT, parts[-1]))
        self.echo_case(frames, OP_BIN, b"".join(parts))

    def test_5_x2_binary_inside_text_message(self):
        self.fail_case([sframe(OP_TEXT, F1, fin=False), sframe(OP_BIN, F2)], 1002)

    def test_5_x3_binary_nofin_inside_binary_message(self):
        self.fail_case([sframe(OP_BIN, F1, fin=False), sframe(OP_BIN, F2, fin=False)], 1002)

    def test_5_x4_fragmented_close(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(1000), fin=False)], 1002)

    def test_5_x5_fragmented_close_inside_message(self):
        self.fail_case([sframe(OP_TEXT, F1, fin=False),
                        sframe(OP_CLOSE, close_payload(1000), fin=False), sframe(OP_CONT, F2)],
                       1002)

    def test_5_x6_empty_fragments_then_payload(self):
        frames = [sframe(OP_BIN, b"", fin=False), sframe(OP_CONT, b"", fin=False),
                  sframe(OP_CONT, b"abc", fin=False), sframe(OP_CONT, b"", fin=True)]
        self.echo_case(frames, OP_BIN, b"abc")

    def test_5_x7_only_empty_fragments(self):
        frames = [sframe(OP_BIN, b"", fin=False)] + [sframe(OP_CONT, b"", fin=False)] * 5
        self.echo_case(frames + [sframe(OP_CONT, b"")], OP_BIN, b"")

    def test_5_x8_messages_around_fragmented_message(self):
        p = self.session()
        p.send_frames([sframe(OP_TEXT, F1, fin=False), sframe(OP_CONT, F2),
                       sframe(OP_BIN, F3), sframe(OP_BIN, F4, fin=False), sframe(OP_CONT, F5)])
        p.expect_echo(OP_TEXT, F1 + F2)
        p.expect_echo(OP_BIN, F3)
        p.expect_echo(OP_BIN, F4 + F5)
        self.server_close(p, 1000)

    def test_5_x9_ping_between_fragments_pause(self):
        """The pong is sent while the rest of the message has not arrived yet."""
        p = self.session()
        p.send_frames([sframe(OP_BIN, F1, fin=False), sframe(OP_PING, b"now")])
        p.expect_pong(b"now")
        p.expect_silence(PAUSE)
        p.send(sframe(OP_CONT, F2))
        p.expect_echo(OP_BIN, F1 + F2)
        self.server_close(p, 1000)

    def test_5_x10_nothing_echoed_before_message_completes(self):
        """A partly received message is not echoed early."""
        p = self.session()
        p.send(sframe(OP_TEXT, F1, fin=False))
        p.expect_silence(PAUSE)
        p.send(sframe(OP_CONT, F2))
        p.expect_echo(OP_TEXT, F1 + F2)
        self.server_close(p, 1000)


if __name__ == "__main__":
    unittest.main()
