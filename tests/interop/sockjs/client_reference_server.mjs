// The reference for the sockjs-client suites: Node's sockjs 0.3 on node:http with the services
// and flags of examples/sockjs_protocol_server, on 127.0.0.1:
//   node client_reference_server.mjs --port P [--heartbeat-delay S] [--disconnect-delay S]
//        [--prefix /sockjs] [--static DIR]
//   /echo                     every message back to its sender (response_limit 4096)
//   /disabled_websocket_echo  the same without the websocket transport
//   /cookie_needed_echo       the same, setting the JSESSIONID cookie
//   /close                    closes every session at once with 3000 "Go away!"
//   /report                   not in the example: the first message of a session names it
//                             (answered "named NAME"), the others are echoed, and when a named
//                             session ends every other open one is sent "closed NAME"
// Services are mounted under --prefix. With --static DIR, every other GET is a file of DIR, and
// <prefix>/sockjs.min.js is sockjs-client's dist (the iframe transports' page loads it from
// there, as it does from duplex serve). Prints `listening on http://127.0.0.1:PORT/` and exits
// with status 0 on SIGTERM or SIGINT.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const sockjs = require('sockjs');
const { values: flags } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'heartbeat-delay': { type: 'string', default: '25' },
    'disconnect-delay': { type: 'string', default: '5' },
    prefix: { type: 'string', default: '' },
    static: { type: 'string' },
  },
});
const prefix = flags.prefix.replace(/\/$/, '');
const clientScript = `${prefix}/sockjs.min.js`;
const clientFile = path.join(path.dirname(require.resolve('sockjs-client/package.json')),
  'dist', 'sockjs.min.js');
const common = {
  heartbeat_delay: Number(flags['heartbeat-delay']) * 1000,
  disconnect_delay: Number(flags['disconnect-delay']) * 1000,
  sockjs_url: clientScript,
  log: (severity, line) => { if (severity === 'error') console.error(line); },
};
const echo = (conn) => conn.on('data', (m) => conn.write(m));
const named = new Map();  // /report: open session -> its name
const services = {
  echo: [{ response_limit: 4096 }, echo],
  disabled_websocket_echo: [{ websocket: false }, echo],
  cookie_needed_echo: [{ jsessionid: true }, echo],
  close: [{}, (conn) => conn.close(3000, 'Go away!')],
  report: [{}, (conn) => {
    conn.on('data', (m) => {
      if (named.has(conn)) return conn.write(m);
      named.set(conn, m);
      conn.write(`named ${m}`);
    });
    conn.on('close', () => {
      const name = named.get(conn);
      named.delete(conn);
      if (name !== undefined) for (const other of named.keys()) other.write(`closed ${name}`);
    });
  }],
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/favicon.ico') {  // browsers ask every site for one
    res.writeHead(204);
    return res.end();
  }
  const file = url.pathname === clientScript ? clientFile
    : flags.static && req.method === 'GET' ? path.join(flags.static, path.normalize(url.pathname))
      : null;
  try {
    if (!file) throw new Error('not found');
    const body = await readFile(file);
    const type = file.endsWith('.js') ? 'application/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }
});
for (const [name, [options, onConnection]] of Object.entries(services)) {
  const service = sockjs.createServer({ ...common, ...options });
  service.on('connection', onConnection);
  service.installHandlers(server, { prefix: `${prefix}/${name}` });
}
server.listen(Number(flags.port), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}/\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
