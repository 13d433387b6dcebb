// Helpers for the Socket.IO suites: the reference server (Node's socket.io 4, configured as the
// protocol test suite's server, as examples/socketio_protocol_server.cpp is) and raw Engine.IO
// WebSocket sessions speaking Socket.IO packets.
import http from 'node:http';
import { createRequire } from 'node:module';
import { openWs, wsClosed, sleep, startExample, withTimeout, request, STEP_TIMEOUT_MS } from '../engineio/support.mjs';

export { openWs, wsClosed, sleep, startExample, withTimeout, request, STEP_TIMEOUT_MS };
const require = createRequire(import.meta.url);

/** Node's socket.io with the protocol test suite's server configuration. */
export async function startReference() {
  const { Server } = require('socket.io');
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    pingInterval: 300, pingTimeout: 200, connectTimeout: 1000, cors: { origin: '*' },
  });
  io.on('connection', (socket) => {
    socket.emit('auth', socket.handshake.auth);
    socket.on('message', (...args) => socket.emit('message-back', ...args));
    socket.on('message-with-ack', (...args) => {
      const ack = args.pop();
      ack(...args);
    });
  });
  io.of('/custom').on('connection', (socket) => socket.emit('auth', socket.handshake.auth));
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    port: httpServer.address().port,
    stop: () => new Promise((resolve) => {
      io.close();
      httpServer.closeAllConnections();
      resolve();
    }),
  };
}

/** A raw session at /socket.io/ on WebSocket; `frames` skips the server's pings. */
export async function rawSocketIo(port) {
  const { ws, box } = await openWs(port, undefined, '/socket.io/');
  // Pongs go out as pings come, whether or not the test is reading.
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === '2') ws.send('3');
  });
  const next = async (ms = STEP_TIMEOUT_MS) => {
    for (;;) {
      const msg = await box.next(ms);
      if (!msg.isBinary && msg.data.toString() === '2') continue;
      return msg.isBinary ? msg.data : msg.data.toString();
    }
  };
  const open = await next();
  return { ws, next, open };
}
