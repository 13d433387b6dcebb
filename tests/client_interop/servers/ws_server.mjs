// Echo server on Node's `ws` for the Duplex client interop suite. Listens on 127.0.0.1, port 0,
// prints `PORT <n>` on stdout and serves, by request path:
//   /echo                      echoes every message with its type
//   /close?code=C&reason=R     closes right after open with that code and reason
//   /send?n=N&size=S           pushes N binary messages of S bytes (pattern below), then waits
// On every path the subprotocol is the client's first offer found in ["chat", "superchat"];
// with no match the response has no Sec-WebSocket-Protocol header.
// With the argument `--deflate`, permessage-deflate is accepted (ws's defaults, threshold 0).
// With `--tls CERT KEY` it serves wss:// (HTTPS) with that PEM certificate and key.
// Exits on SIGTERM or when stdin closes. Loopback only.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const SUPPORTED = ['chat', 'superchat'];

/** Message k of /send: byte j is (k * 7 + j) % 251, the same in every server of this suite. */
function pushed(k, size) {
  const buf = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; ++j) buf[j] = (k * 7 + j) % 251;
  return buf;
}

const tlsAt = process.argv.indexOf('--tls');
const https = tlsAt > 0
  ? createServer({ cert: readFileSync(process.argv[tlsAt + 1]), key: readFileSync(process.argv[tlsAt + 2]) })
  : null;

const wss = new WebSocketServer({
  ...(https ? { server: https } : { host: '127.0.0.1', port: 0 }),
  perMessageDeflate: process.argv.includes('--deflate') ? { threshold: 0 } : false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (offered) => {
    for (const p of offered) if (SUPPORTED.includes(p)) return p;
    return false;
  },
});

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  ws.on('error', () => {});
  switch (url.pathname) {
    case '/close':
      ws.close(Number(url.searchParams.get('code') ?? 1000), url.searchParams.get('reason') ?? '');
      break;
    case '/send': {
      const n = Number(url.searchParams.get('n') ?? 0);
      const size = Number(url.searchParams.get('size') ?? 0);
      for (let k = 0; k < n; ++k) ws.send(pushed(k, size), { binary: true });
      break;
    }
    default:  // /echo, /protocols
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});

if (https) {
  https.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${https.address().port}\n`));
} else {
  wss.on('listening', () => {
    process.stdout.write(`PORT ${wss.address().port}\n`);
  });
}

const exit = () => process.exit(0);
process.on('SIGTERM', exit);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();
