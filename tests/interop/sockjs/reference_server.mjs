#!/usr/bin/env node
// The reference SockJS 0.3 server for tests/interop/sockjs: Node's sockjs 0.3 on node:http at
// 127.0.0.1, with the services sockjs-protocol's test suite expects under the root, and the
// same flags as examples/sockjs_protocol_server (Duplex), so the suite starts either alike:
//
//   reference_server.mjs --port P [--heartbeat-delay S] [--disconnect-delay S] [--sockjs-url U]
//
//   /echo                     echoes every message; streaming responses end after 4096 bytes
//   /disabled_websocket_echo  the same, without the WebSocket transport
//   /cookie_needed_echo       the same, setting the JSESSIONID cookie
//   /close                    closes every session at once with 3000 "Go away!"
//
// Delays are in seconds (fractions allowed; defaults 25 and 5, sockjs's own). Prints
// `listening on http://127.0.0.1:PORT/` once listening; exits 0 on SIGTERM or SIGINT.
import http from 'node:http';
import { createRequire } from 'node:module';

// sockjs 0.3 calls the deprecated `new Buffer()`; the warning says nothing about the protocol.
process.noDeprecation = true;
const require = createRequire(import.meta.url);
const sockjs = require('sockjs');

function parseFlags(argv) {
  const flags = { port: 0, heartbeatDelay: 25, disconnectDelay: 5, sockjsUrl: undefined };
  const seconds = (name, text) => {
    const value = Number(text);
    if (text === undefined || !Number.isFinite(value) || value < 0) {
      throw new Error(`${name} takes a number of seconds, not ${text}`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--port') {
      flags.port = Number(value);
      if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) {
        throw new Error(`--port takes a port number, not ${value}`);
      }
    } else if (name === '--heartbeat-delay') {
      flags.heartbeatDelay = seconds(name, value);
    } else if (name === '--disconnect-delay') {
      flags.disconnectDelay = seconds(name, value);
    } else if (name === '--sockjs-url') {
      if (value === undefined) throw new Error('--sockjs-url takes a URL');
      flags.sockjsUrl = value;
    } else {
      throw new Error(`unknown flag ${name}`);
    }
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const common = {
  heartbeat_delay: flags.heartbeatDelay * 1000,
  disconnect_delay: flags.disconnectDelay * 1000,
  log: () => {},
  ...(flags.sockjsUrl === undefined ? {} : { sockjs_url: flags.sockjsUrl }),
};

const echo = (conn) => conn.on('data', (message) => conn.write(message));
const services = [
  ['/echo', { response_limit: 4096 }, echo],
  ['/disabled_websocket_echo', { websocket: false }, echo],
  ['/cookie_needed_echo', { jsessionid: true }, echo],
  ['/close', {}, (conn) => conn.close(3000, 'Go away!')],
];

const server = http.createServer();
// What no service takes: 404 for requests, and an upgrade to an unknown path is refused alike.
server.on('request', (req, res) => {
  res.writeHead(404, { 'Content-Length': '0' });
  res.end();
});
server.on('upgrade', (req, socket) => {
  socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});
for (const [prefix, options, onConnection] of services) {
  const service = sockjs.createServer({ ...common, ...options });
  service.on('connection', onConnection);
  service.installHandlers(server, { prefix });
}

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  // Upgraded sockets are not the server's connections any more; do not wait for them.
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(flags.port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}/\n`);
});
