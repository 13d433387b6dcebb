"""Python `websockets` echo peer for bench/run: `python3 websockets_echo.py PORT`.

Listens on 127.0.0.1:PORT, echoes every message on any path (compression off, no size limit),
prints `ready PORT` once listening and exits on SIGTERM or SIGINT.
"""

import asyncio
import resource
import signal
import sys

import websockets


async def echo(ws, *_path):  # websockets < 10.1 passes the path too
    async for message in ws:
        await ws.send(message)


async def main(port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stop = asyncio.get_running_loop().create_future()
    for signo in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signo, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port, compression=None, max_size=None,
                                ping_interval=None, backlog=4096):
        print(f"ready {port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
