// Reference peer: SockJS on Node's sockjs 0.3 (its defaults: heartbeats every 25 s, sessions kept
// 5 s without a request, 128 KiB to a streaming response, every transport), on node:http,
// written the way a Node application would:
//   /sockjs/echo (and /echo)        every message back to its sender
//   /sockjs/chat (and /broadcast)   every message to every open session of /broadcast, the sender too, in the
//                classic loop `for (const c of sessions) c.write(message)`: a benchmark opens N
//                sessions (the subscribers) and one more that sends (the publisher, which sees
//                its own messages come back), as duplex serve's /sockjs/chat does. A session is a
//                subscriber from its open frame on (sockjs emits the connection before the
//                client can have anything published).
// The paths are duplex serve's, so that one load generator (`duplex bench --sockjs`) drives both;
// each service answers at its older name too, one set of sessions for both.
//   node bench/peers/sockjs_peer.mjs --port PORT    (or PORT alone, as bench/run and
//                                                    bench/peers/check.mjs start peers)
// It listens on 127.0.0.1:PORT (backlog 4096), prints `ready PORT`, and exits with status 0 on
// SIGTERM or SIGINT, as the other peers do.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sockjs = require('sockjs');

const args = process.argv.slice(2);
const port = Number(args.length === 2 && args[0] === '--port' ? args[1] : args.length === 1 ? args[0] : NaN);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node sockjs_peer.mjs --port PORT');
  process.exit(2);
}

const quiet = { log: () => {} };
const httpServer = http.createServer({ noDelay: true });

const echo = sockjs.createServer(quiet);
echo.on('connection', (conn) => conn.on('data', (message) => conn.write(message)));
for (const prefix of ['/sockjs/echo', '/echo']) echo.installHandlers(httpServer, { prefix });

const sessions = new Set();
const broadcast = sockjs.createServer(quiet);
broadcast.on('connection', (conn) => {
  sessions.add(conn);
  conn.on('data', (message) => {
    for (const c of sessions) c.write(message);
  });
  conn.on('close', () => sessions.delete(conn));
});
for (const prefix of ['/sockjs/chat', '/broadcast']) {
  broadcast.installHandlers(httpServer, { prefix });
}

httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stdout.write(`ready ${port}\n`);
});
httpServer.on('error', (err) => {
  console.error(`sockjs_peer: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
