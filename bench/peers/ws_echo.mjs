// Reference peer: a minimal Node `ws` echo server, text/binary kept; compression only with
// --deflate (permessage-deflate with ws's defaults, for the compressed echo scenario).
//   node bench/peers/ws_echo.mjs PORT [--deflate]
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const deflate = process.argv[3] === '--deflate';
if (process.argv.length > 4 || (process.argv.length === 4 && !deflate) ||
    !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node ws_echo.mjs PORT [--deflate]');
  process.exit(2);
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: deflate ? { threshold: 128 } : false,
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // a peer's protocol error closes the socket; nothing to report
});
server.on('listening', () => process.stdout.write(`ready ${port}\n`));
server.on('error', (err) => {
  console.error(`ws_echo: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
