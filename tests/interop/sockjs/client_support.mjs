// Helpers for the sockjs-client suites (client.test.mjs here, tests/browser/sockjs_page.test.mjs):
// start the server under test, sockjs-client 1.6 in Node with an inbox, a TCP relay that can
// stall or cut a client's connections, and the strings the protocol escapes. Loopback only;
// every wait is bounded.
//
// The targets: 'reference' is Node's sockjs 0.3 (client_reference_server.mjs beside this file);
// 'duplex' is examples/sockjs_protocol_server ($DUPLEX_SOCKJS_PROTOCOL). Both take the same
// flags and serve /echo, /disabled_websocket_echo, /cookie_needed_echo and /close; the reference
// also serves /report.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { withTimeout, STEP_TIMEOUT_MS } from '../node/helpers.mjs';

export { withTimeout, STEP_TIMEOUT_MS };
const require = createRequire(import.meta.url);
export const SockJS = require('sockjs-client');
// sockjs-client's http driver takes Node's global agent, which keeps connections alive since
// Node 19. A request sent on a kept connection just as the server closes it for being idle
// fails, and the client has no retry: its /info request then ends the client with 1002 "Cannot
// connect to server" (seen on a loaded machine). A connection per request, as in the Node
// versions the client was written for (browsers retry such a request; Chromium keeps its
// connections in tests/browser/sockjs_page.test.mjs).
http.globalAgent = new http.Agent({ keepAlive: false });
export const REFERENCE_SERVER = fileURLToPath(new URL('./client_reference_server.mjs', import.meta.url));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const TARGET_NAMES = {
  reference: "Node's sockjs 0.3 (the reference)",
  duplex: 'examples/sockjs_protocol_server',
};

/** The targets to run against: the reference always, Duplex's example when it was built. */
export function targets() {
  const list = ['reference'];
  if (process.env.DUPLEX_SOCKJS_PROTOCOL) list.push('duplex');
  return list;
}

/**
 * Starts a target's server on 127.0.0.1, port 0, with --heartbeat-delay and --disconnect-delay
 * (seconds) and any `extra` flags; resolves once it printed its URL. stop() ends it with SIGTERM
 * and checks that it exited with status 0.
 */
export async function startSockjs(target, { heartbeatDelay = 25, disconnectDelay = 5, extra = [] } = {}) {
  const flags = ['--port', '0', '--heartbeat-delay', String(heartbeatDelay),
    '--disconnect-delay', String(disconnectDelay), ...extra];
  const [command, args] = target === 'reference' ? [process.execPath, [REFERENCE_SERVER, ...flags]]
    : [process.env.DUPLEX_SOCKJS_PROTOCOL, flags];
  if (!command) throw new Error(`no server for the target ${target}`);
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let port;
  try {
    port = await withTimeout(new Promise((resolve, reject) => {
      proc.stdout.on('data', (d) => {
        out += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.on('error', reject);
      exited.then(({ code, signal }) => reject(new Error(`${target} exited (${code}, ${signal}): ${out}`)));
    }), STEP_TIMEOUT_MS, `start ${target}`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const { code, signal } = await withTimeout(exited, STEP_TIMEOUT_MS, `stop ${target}`)
      .catch((err) => { proc.kill('SIGKILL'); throw err; });
    if (code !== 0) throw new Error(`${target} ended with code ${code} signal ${signal}: ${out}`);
  };
  return { target, port, base: `http://127.0.0.1:${port}`, proc, stop, output: () => out };
}

/**
 * A sockjs-client with its events recorded: `events` lists 'open', 'message', 'heartbeat' and
 * 'close' in the order they came; next() resolves with the next message's data; closed()
 * with the close event's {code, reason, wasClean}. Resolves once 'open' fired; rejects with the
 * close event's fields if it closed first.
 */
export async function openClient(url, transports, { ms = STEP_TIMEOUT_MS } = {}) {
  const sock = new SockJS(url, null, transports ? { transports } : {});
  const events = [];
  const queue = [];
  let waiter = null;
  let closeEvent = null;
  let onClose;
  const closing = new Promise((resolve) => { onClose = resolve; });
  const wake = () => { if (waiter) waiter(); };
  sock.addEventListener('message', (e) => {
    events.push('message');
    queue.push(e.data);
    wake();
  });
  sock.addEventListener('heartbeat', () => events.push('heartbeat'));
  sock.addEventListener('close', (e) => {
    events.push('close');
    closeEvent = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    onClose(closeEvent);
    wake();
  });
  const client = {
    sock,
    events,
    heartbeats: () => events.filter((e) => e === 'heartbeat').length,
    /** The next `n` messages' data, in order. */
    next(n = 1, wait = ms) {
      return withTimeout((async () => {
        while (queue.length < n) {
          if (closeEvent) throw new Error(`closed ${JSON.stringify(closeEvent)} with ${queue.length} of ${n} messages`);
          await new Promise((resolve) => { waiter = resolve; });
          waiter = null;
        }
        return queue.splice(0, n);
      })(), wait, `${n} message(s) on ${url} (have ${queue.length})`);
    },
    pending: () => queue.length,
    closed: (wait = ms) => withTimeout(closing, wait, `close event on ${url}`),
    close(...args) { if (sock.readyState < SockJS.CLOSING) sock.close(...args); },
  };
  await withTimeout(new Promise((resolve, reject) => {
    sock.addEventListener('open', () => { events.push('open'); resolve(); });
    closing.then((e) => reject(Object.assign(new Error(`closed before open: ${JSON.stringify(e)}`), e)));
  }), ms, `open ${url} on ${transports}`);
  return client;
}

/**
 * A TCP relay on 127.0.0.1 to `port`: pause() stalls every connection (and new ones) both ways,
 * as a network that stops moving; resume() lets the bytes through again; cut() drops every
 * connection at once. stop() cuts and closes.
 */
export async function startRelay(port) {
  const pairs = new Set();
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      from.on('data', (d) => to.write(d));
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        to.destroy();
        pairs.delete(pair);
      });
      if (paused) from.pause();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const each = (fn) => { for (const pair of pairs) pair.forEach(fn); };
  return {
    port: server.address().port,
    pause() { paused = true; each((s) => s.pause()); },
    resume() { paused = false; each((s) => s.resume()); },
    cut() { each((s) => s.destroy()); },
    stop() {
      each((s) => s.destroy());
      return withTimeout(new Promise((resolve) => server.close(resolve)), STEP_TIMEOUT_MS, 'relay stop');
    },
  };
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)).join('');

/**
 * Every character Node's sockjs escapes on the way out (lib/utils.js: \x00-\x1f, \u200c-\u200f,
 * \u2028-\u202f, \u2060-\u206f, \ufff0-\uffff; the surrogates \ud800-\udfff are in PAIRS and
 * LONE_SURROGATES), with JSON's own escapes ("\\/) next to them.
 */
export const ESCAPED = range(0x00, 0x1f) + range(0x200c, 0x200f) + range(0x2028, 0x202f) +
  range(0x2060, 0x206f) + range(0xfff0, 0xffff) + '"\\/';
/** Some of what sockjs-client escapes on the way in (lib/utils/escape.js), beyond ESCAPED. */
export const CLIENT_ESCAPED = range(0x0300, 0x0333) + '\u0374\u037e\u0591\u05af\u0951\u0958' +
  '\u1f71\u2000\u2001\u2126\u212a\u2329\u302b\uf900\ufa0d\ufb1d\ufb4e';
/** Characters beyond the BMP (surrogate pairs in JavaScript and in the protocol's JSON). */
export const PAIRS = '😀 𝄞 \u{10000} \u{10ffff} 🇫🇷';
/** The eventsource transport %-escapes '%' (and CR, LF, NUL) in a frame; the client decodes. */
export const PERCENT = '100% %25 %0A %0D %00 %zz %';
/** Every BMP code unit that is not a surrogate, in order, in one message. */
export const EVERY_BMP = range(0x0000, 0xd7ff) + range(0xe000, 0xffff);
/** Surrogates without their other half: JSON escapes them and sockjs-client can send them. */
export const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ude00\ud83db', 'end\ud83d'];
