// Reference peer: a minimal Node `ws` echo server, text/binary kept; compression only with
// --deflate (permessage-deflate with ws's defaults, for the compressed echo scenario); wss://
// with --tls CERT KEY (an HTTPS server underneath, for the TLS scenario).
//   node bench/peers/ws_echo.mjs PORT [--deflate] [--tls CERT KEY]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
let port = Number(args.shift());
let deflate = false;
let https = null;
while (args.length) {
  const flag = args.shift();
  if (flag === '--deflate') {
    deflate = true;
  } else if (flag === '--tls' && args.length >= 2) {
    // The client's suite order, as OpenSSL's default and every other server here (Node's own
    // default prefers its order, AES-256 first).
    https = createServer({
      cert: readFileSync(args.shift()),
      key: readFileSync(args.shift()),
      honorCipherOrder: false,
    });
  } else {
    port = NaN;
    break;
  }
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node ws_echo.mjs PORT [--deflate] [--tls CERT KEY]');
  process.exit(2);
}

const server = new WebSocketServer({
  ...(https ? { server: https } : { host: '127.0.0.1', port }),
  backlog: 4096,
  perMessageDeflate: deflate ? { threshold: 128 } : false,
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // a peer's protocol error closes the socket; nothing to report
});
if (https) https.listen(port, '127.0.0.1', 4096);
(https ?? server).on('listening', () => process.stdout.write(`ready ${port}\n`));
server.on('error', (err) => {
  console.error(`ws_echo: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
