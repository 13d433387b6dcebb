// Reference peer: a minimal Node `ws` echo server, no compression, text/binary kept.
//   node bench/peers/ws_echo.mjs PORT
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node ws_echo.mjs PORT');
  process.exit(2);
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: false,
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
