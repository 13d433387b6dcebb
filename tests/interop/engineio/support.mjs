// Helpers for the Engine.IO suites: start the example echo server (Duplex) and the reference
// server (Node's engine.io with the same options) side by side, raw polling requests, and a
// WebSocket with an inbox. Loopback only; every wait is bounded.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { withTimeout, WebSocket, inbox, STEP_TIMEOUT_MS } from '../node/helpers.mjs';

export { withTimeout, WebSocket, inbox, STEP_TIMEOUT_MS };
const require = createRequire(import.meta.url);

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a Duplex example binary with `--port 0 ...args`; resolves once it prints its URL. */
export async function startExample(bin, args = [], { port: fixedPort = 0 } = {}) {
  const proc = spawn(bin, ['--port', String(fixedPort), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    exited.then(({ code, signal }) => reject(new Error(`${bin} exited (${code}, ${signal}): ${out}`)));
  }), STEP_TIMEOUT_MS, `start ${bin}`);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const { code, signal } = await withTimeout(exited, 10_000, `stop ${bin}`);
    if (code !== 0) throw new Error(`${bin} ended with code ${code} signal ${signal}: ${out}`);
  };
  return { port, proc, stop, output: () => out };
}

/** Node's engine.io with the test suite's options, echoing every message. */
export async function startReference(options = {}) {
  const { Server } = require('engine.io');
  const httpServer = http.createServer();
  const engine = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, ...options });
  engine.attach(httpServer);
  engine.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(data));
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = httpServer.address().port;
  return {
    port,
    engine,
    stop: () => new Promise((resolve) => {
      engine.close();
      httpServer.closeAllConnections();
      httpServer.close(resolve);
    }),
  };
}

/**
 * One HTTP request on a connection of its own: resolves with {status, headers, text}, or with
 * {status: 0, error} when the server dropped the connection instead of answering.
 */
export function request(port, path, { method = 'GET', body, headers = {} } = {}) {
  return withTimeout(new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({
          status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString(),
        }));
        res.on('error', (error) => resolve({ status: 0, error }));
      });
    req.on('error', (error) => resolve({ status: 0, error }));
    if (body !== undefined) req.write(body);
    req.end();
  }), STEP_TIMEOUT_MS, `${method} ${path}`);
}

export const eio = (query) => `/engine.io/?EIO=4&transport=polling${query ? `&${query}` : ''}`;

/** Opens a polling session; resolves with its sid and the open packet's fields. */
export async function handshake(port) {
  const res = await request(port, eio());
  if (res.status !== 200 || !res.text.startsWith('0')) {
    throw new Error(`handshake failed: ${res.status} ${res.text}`);
  }
  const open = JSON.parse(res.text.slice(1));
  return { sid: open.sid, open, res };
}

export const poll = (port, sid) => request(port, eio(`sid=${sid}`));
export const push = (port, sid, body) =>
  request(port, eio(`sid=${sid}`), { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });

/** A raw WebSocket on /engine.io/ with an inbox (messages as strings, or Buffers if binary). */
export async function openWs(port, query, path = '/engine.io/') {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?EIO=4&transport=websocket${query ? `&${query}` : ''}`);
  const box = inbox(ws);
  ws.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  }), STEP_TIMEOUT_MS, 'ws open');
  return { ws, box };
}

/** The close of `ws` (code), bounded. */
export const wsClosed = (ws, ms = STEP_TIMEOUT_MS) => withTimeout(new Promise((resolve) => {
  if (ws.readyState === WebSocket.CLOSED) resolve(null);
  ws.once('close', (code) => resolve(code));
}), ms, 'ws close');
