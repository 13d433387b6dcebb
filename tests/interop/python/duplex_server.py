"""Shared helper for the Python `websockets` interop suite: start and stop `duplex serve`.

Run with Debian's /usr/bin/python3 (python3-websockets 10.4). Loopback only.
"""

import asyncio
import atexit
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

URL_RE = re.compile(r"wss?://127\.0\.0\.1:(\d+)/")
START_TIMEOUT = 10.0
STOP_GRACE = 5.0
STEP_TIMEOUT = 10.0

REPO = Path(__file__).resolve().parents[3]


def duplex_bin() -> str:
    env = os.environ.get("DUPLEX_BIN")
    if env:
        return env
    fallback = REPO / "build" / "dev" / "duplex"
    if fallback.exists():
        return str(fallback)
    raise RuntimeError("DUPLEX_BIN is not set and build/dev/duplex does not exist")


_certs = None


def certs() -> Path:
    """Test certificates, made once per process with the openssl command and removed at exit
    (tests/support/make_test_certs.sh: ca, server, server2, other, client, rogue)."""
    global _certs
    if _certs is None:
        path = tempfile.mkdtemp(prefix="duplex_certs_")
        atexit.register(shutil.rmtree, path, True)
        subprocess.run(["bash", str(REPO / "tests" / "support" / "make_test_certs.sh"), path],
                       check=True, stdout=subprocess.DEVNULL)
        _certs = Path(path)
    return _certs


def client_context(ca: str = "ca.pem", cert: str = None) -> ssl.SSLContext:
    """A client context trusting one of the test CAs, optionally with a client certificate."""
    ctx = ssl.create_default_context(cafile=str(certs() / ca))
    if cert:
        ctx.load_cert_chain(str(certs() / f"{cert}.pem"), str(certs() / f"{cert}.key"))
    return ctx


class DuplexServer:
    """A running `duplex serve --host 127.0.0.1 --port 0 [flags]` process; with tls=True it
    serves the test certificate for localhost and 127.0.0.1 (https://, wss://)."""

    def __init__(self, *flags: str, tls: bool = False):
        self.tls = tls
        self.flags = list(flags)
        if tls:
            self.flags += ["--tls-cert", str(certs() / "server.pem"),
                           "--tls-key", str(certs() / "server.key")]
        self.proc = None
        self.port = None
        self._stdout = []
        self._stderr = []

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "DuplexServer":
        cmd = [duplex_bin(), "serve", "--host", "127.0.0.1", "--port", "0", *self.flags]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        found = threading.Event()

        def read_stdout():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self._stdout.append(line)
                m = URL_RE.search(line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    found.set()
            found.set()  # EOF: unblock the waiter

        def read_stderr():
            for raw in self.proc.stderr:
                self._stderr.append(raw.decode("utf-8", "replace"))

        self._readers = [
            threading.Thread(target=read_stdout, daemon=True),
            threading.Thread(target=read_stderr, daemon=True),
        ]
        for t in self._readers:
            t.start()
        found.wait(START_TIMEOUT)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"server did not print its URL: {cmd}\n{self.output()}")
        return self

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 5 s. Returns the exit status. Idempotent."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_GRACE)
        for t in self._readers:
            t.join(STOP_GRACE)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float = STEP_TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError(f"server still running after {timeout} s")
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def output(self) -> str:
        return "--- stdout ---\n" + "".join(self._stdout) + "--- stderr ---\n" + "".join(self._stderr)

    # -- addresses ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.path("/")

    def path(self, p: str) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}{p}"

    def stderr_text(self) -> str:
        return "".join(self._stderr)


SAMPLE = "héllo wörld ✓ 😀 "


def text_of_bytes(n: int) -> str:
    """A str whose UTF-8 encoding is exactly n bytes, with multi-byte characters where they fit."""
    sample_len = len(SAMPLE.encode("utf-8"))
    out = [SAMPLE * (n // sample_len - 1)] if n >= 2 * sample_len else []
    length = len(out[0].encode("utf-8")) if out else 0
    while True:
        for ch in SAMPLE:
            b = len(ch.encode("utf-8"))
            if length + b > n:
                s = "".join(out) + "x" * (n - length)
                assert len(s.encode("utf-8")) == n
                return s
            out.append(ch)
            length += b


def step(aw, timeout: float = STEP_TIMEOUT):
    """Bound every await."""
    return asyncio.wait_for(aw, timeout)
