// Shared helpers for the Node `ws` interop suite: start/stop `duplex serve`, bounded waits,
// a message inbox, and payload builders. Loopback only.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import WebSocket from 'ws';

export { WebSocket };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..', '..');

export const STEP_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const URL_RE = /wss?:\/\/127\.0\.0\.1:(\d+)\//;

let certsDir;
/**
 * Test certificates made once per process with the openssl command and removed at exit
 * (tests/support/make_test_certs.sh: ca, server, server2, other, client, rogue).
 */
export function certs() {
  if (!certsDir) {
    certsDir = mkdtempSync(path.join(os.tmpdir(), 'duplex_certs_'));
    process.on('exit', () => rmSync(certsDir, { recursive: true, force: true }));
    execFileSync('bash', [path.join(REPO, 'tests/support/make_test_certs.sh'), certsDir]);
  }
  return certsDir;
}

/** The test CA as `ws` and `tls` take it. */
export function testCa(name = 'ca.pem') {
  return readFileSync(path.join(certs(), name));
}

/** The server binary: $DUPLEX_BIN, else the dev build in the repo. */
export function duplexBin() {
  if (process.env.DUPLEX_BIN) return process.env.DUPLEX_BIN;
  const fallback = path.join(REPO, 'build', 'dev', 'duplex');
  if (existsSync(fallback)) return fallback;
  throw new Error('DUPLEX_BIN is not set and build/dev/duplex does not exist');
}

/** Rejects with a labelled error if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms = STEP_TIMEOUT_MS, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts `duplex serve --host 127.0.0.1 --port 0 ...flags` and resolves once it has printed
 * its ws:// URL; with DUPLEX_SERVE_IO set (io_uring), on that event loop backend. The returned object has port, url, proc, output(), exited (a promise of
 * {code, signal}) and stop() (SIGTERM, then SIGKILL after 5 s; idempotent). `port` starts it on
 * that port instead (a server started again where one was stopped).
 */
export async function startServer(flags = [], { tls = false, port: fixedPort = 0 } = {}) {
  const bin = duplexBin();
  if (tls) {
    flags = [...flags, '--tls-cert', path.join(certs(), 'server.pem'),
      '--tls-key', path.join(certs(), 'server.key')];
  }
  if (process.env.DUPLEX_SERVE_IO) flags = [...flags, '--io', process.env.DUPLEX_SERVE_IO];
  const proc = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(fixedPort), ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const output = () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

  let port;
  try {
    port = await withTimeout(new Promise((resolve, reject) => {
      proc.stdout.on('data', (d) => {
        stdout += d;
        const m = URL_RE.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      proc.on('error', reject);
      exited.then(({ code, signal }) =>
        reject(new Error(`server exited early (code ${code}, signal ${signal})\n${output()}`)));
    }), START_TIMEOUT_MS, `server start (${bin} ${flags.join(' ')})`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill('SIGTERM');
    let timer;
    const killer = new Promise((resolve) => {
      timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, STOP_GRACE_MS);
    });
    await Promise.race([exited, killer]);
    clearTimeout(timer);
    return exited;
  };

  return { port, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/`, proc, exited, output, stop };
}

/**
 * One plain HTTP request to 127.0.0.1:port (bounded): resolves with {status, headers, body}
 * (body a Buffer, the bytes exactly as sent).
 */
export function httpRequest(port, path, method = 'GET') {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), STEP_TIMEOUT_MS, `${method} ${path}`);
}

/** Buffers incoming messages so tests can `await inbox.next()` in order. */
export function inbox(ws) {
  const queue = [];
  const waiters = [];
  let closed = null;
  ws.on('message', (data, isBinary) => {
    const msg = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary };
    const w = waiters.shift();
    if (w) w.resolve(msg); else queue.push(msg);
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of waiters.splice(0)) w.reject(new Error(`closed (${code}) while awaiting a message`));
  });
  return {
    next(ms = STEP_TIMEOUT_MS) {
      if (queue.length) return Promise.resolve(queue.shift());
      if (closed) return Promise.reject(new Error(`closed (${closed.code}) while awaiting a message`));
      const waiter = {};
      const got = new Promise((resolve, reject) => Object.assign(waiter, { resolve, reject }));
      waiters.push(waiter);
      return withTimeout(got, ms, 'message').catch((err) => {
        // A read that timed out takes nothing: what comes later is there for the next read.
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        throw err;
      });
    },
  };
}

/** Opens a client and waits for 'open'. Default: no permessage-deflate offer. */
export function connect(url, protocols = [], options = {}) {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
  ws.on('error', () => {}); // surfaced through the promises below instead
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed (${code}) before open`)));
  });
  return withTimeout(opened, STEP_TIMEOUT_MS, `connect ${url}`).then(() => ws);
}

/** Resolves with {code, reason} once the client's 'close' event fires. */
export function closed(ws, ms = STEP_TIMEOUT_MS) {
  if (ws.readyState === WebSocket.CLOSED) {
    return Promise.reject(new Error('already closed; attach closed() earlier'));
  }
  return withTimeout(new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  }), ms, 'close event');
}

const SAMPLE = 'héllo wörld ✓ 😀 ';

/** A string of exactly `bytes` UTF-8 bytes, containing multi-byte characters where it fits. */
export function textOfBytes(bytes) {
  let out = '';
  let len = 0;
  outer: while (len < bytes) {
    for (const ch of SAMPLE) {
      const n = Buffer.byteLength(ch);
      if (len + n > bytes) break outer;
      out += ch;
      len += n;
    }
  }
  return out + 'x'.repeat(bytes - len);
}

export function binaryOfBytes(bytes) {
  return randomBytes(bytes);
}
