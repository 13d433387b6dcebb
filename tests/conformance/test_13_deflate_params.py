"""Autobahn family 13: permessage-deflate with different parameters (7 offer sets x 18
sizes, data set 12.1), against `duplex serve` in both memory modes. The offers are the
tester's: `client_no_context_takeover; client_max_window_bits` plus the set's server
parameters; the answer is checked exactly, then messages are compressed and inflated
with what it agreed (a window of server_max_window_bits only, so a server that refers
further back fails)."""

import unittest

from deflate_support import SIZES, connect_deflate, echo_series, messages
from wsharness import ServerTestCase

COUNT = 3
BASE = "permessage-deflate; client_no_context_takeover; client_max_window_bits"

# Set N: the offer(s), and the answer in dedicated mode (shared mode adds both
# no_context_takeover flags).
SETS = {
    1: ([""], "permessage-deflate"),
    2: (["server_no_context_takeover"], "permessage-deflate; server_no_context_takeover"),
    3: (["server_max_window_bits=9"], "permessage-deflate; server_max_window_bits=9"),
    4: (["server_max_window_bits=15"], "permessage-deflate; server_max_window_bits=15"),
    5: (["server_no_context_takeover; server_max_window_bits=9"],
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"),
    6: (["server_no_context_takeover; server_max_window_bits=15"],
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=15"),
    7: (["server_no_context_takeover; server_max_window_bits=9", "server_no_context_takeover", ""],
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"),
}


def offer(n):
    return ", ".join(BASE + ("; " + extra if extra else "") for extra in SETS[n][0])


def shared_answer(n):
    dedicated = SETS[n][1]
    bits = dedicated.split("server_max_window_bits=")[1] if "bits=" in dedicated else None
    answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    return answer + ("; server_max_window_bits=" + bits if bits else "")


class Params:
    shared = False

    def _case(self, n, i):
        length, frag = SIZES[i - 1]
        c, deflate = connect_deflate(self.port, offer(n))
        self.addCleanup(c.close)
        self.assertIsNotNone(deflate, "permessage-deflate was not agreed")
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"),
                         shared_answer(n) if self.shared else SETS[n][1])
        opcode, payloads = messages(1, length, COUNT)
        compressed, _, _ = echo_series(self, c, deflate, opcode, payloads, frag)
        if length >= 256:
            self.assertEqual(compressed, COUNT)
        c.close_handshake(1000)


def _add_cases(cls):
    for n in SETS:
        for i in range(1, 19):
            def fn(self, n=n, i=i):
                self._case(n, i)
            fn.__name__ = "test_13_%d_%d" % (n, i)
            setattr(cls, fn.__name__, fn)
    return cls


@_add_cases
class DeflateParamsShared(Params, ServerTestCase):
    shared = True


@_add_cases
class DeflateParamsDedicated(Params, ServerTestCase):
    server_flags = ("--deflate", "dedicated")


if __name__ == "__main__":
    unittest.main()
