// Reference peer: duplex serve's Socket.IO application (docs/socketio.md) on Node's socket.io 4
// (`new Server(httpServer, { transports: ['websocket', 'polling'] })`, its defaults otherwise:
// the path /socket.io/, pings every 25 s, 1,000,000 bytes at most per message, no compression),
// written the way a Node application would:
//   "chat message"            emitted to everyone (io.emit), as in the Socket.IO chat example
//   "echo" (args...)          emitted back to the sender alone with the same arguments
//   "join" (room)             socket.join(room); the ack, if asked for, gets the room's name
//                             (null for an argument that is not a string, which joins nothing)
//   "broadcast" (room, data...)   io.to(room).emit("broadcast", ...data)
//   node bench/peers/socketio_peer.mjs PORT
// It listens on 127.0.0.1:PORT (backlog 4096), prints `ready PORT`, and exits with status 0 on
// SIGTERM or SIGINT, as the other peers do.
import http from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node socketio_peer.mjs PORT');
  process.exit(2);
}

// An event's arguments without the client's ack callback, if it asked for one.
function withoutAck(args) {
  return typeof args[args.length - 1] === 'function' ? args.slice(0, -1) : args;
}

const httpServer = http.createServer({ noDelay: true });
const io = new Server(httpServer, { transports: ['websocket', 'polling'] });
io.on('connection', (socket) => {
  socket.on('chat message', (...args) => io.emit('chat message', ...withoutAck(args)));
  socket.on('echo', (...args) => socket.emit('echo', ...withoutAck(args)));
  socket.on('join', (room, ack) => {
    const valid = typeof room === 'string';
    if (valid) socket.join(room);
    if (typeof ack === 'function') ack(valid ? room : null);
  });
  socket.on('broadcast', (room, ...data) => {
    if (typeof room === 'string') io.to(room).emit('broadcast', ...withoutAck(data));
  });
});
httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stdout.write(`ready ${port}\n`);
});
httpServer.on('error', (err) => {
  console.error(`socketio_peer: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
