// Helpers for the SockJS 0.3 protocol suite: start a target (Node's sockjs through
// reference_server.mjs, or Duplex's examples/sockjs_protocol_server, both with the same flags),
// one-shot HTTP requests, streamed responses read a frame or a number of bytes at a time, raw TCP
// HTTP exchanges (HTTP/1.0, chunks as sent, upgrade heads) and WebSockets: RFC 6455 through
// `ws`, and the draft-76 (Hixie-76) handshake and framing the protocol also names.
// Loopback only; every wait is bounded, and whatever a test leaves open is closed by closeAll().
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startExample, request, sleep } from '../engineio/support.mjs';
import { withTimeout, inbox, WebSocket } from '../node/helpers.mjs';

export { sleep, withTimeout };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE = path.join(HERE, 'reference_server.mjs');

/** The default bound of one read: everything is on loopback, so this is only ever a failure. */
export const READ_TIMEOUT_MS = 5000;

/** A fresh session path under a service: /<service>/000/<uuid>. */
export const sessionPath = (service = 'echo') => `/${service}/000/${randomUUID()}`;

const started = new Set();
const open = new Set();

/**
 * Starts `target` ('reference' or 'duplex') with `flags` (--heartbeat-delay, ...) on a free
 * port; resolves with {port, stop}. Duplex's binary is $DUPLEX_SOCKJS_PROTOCOL.
 */
export async function startTarget(target, flags = []) {
  let bin = REFERENCE;
  // The reference starts through its `#!/usr/bin/env node` line: let that be this very node.
  const nodeDir = path.dirname(process.execPath);
  if (!(process.env.PATH ?? '').split(path.delimiter).includes(nodeDir)) {
    process.env.PATH = [nodeDir, process.env.PATH].filter(Boolean).join(path.delimiter);
  }
  if (target === 'duplex') {
    bin = process.env.DUPLEX_SOCKJS_PROTOCOL;
    if (!bin) throw new Error('DUPLEX_SOCKJS_PROTOCOL is not set');
  }
  const server = await startExample(bin, flags);
  started.add(server);
  return {
    port: server.port,
    output: server.output,
    stop: async () => {
      started.delete(server);
      await server.stop();
    },
  };
}

// A test process that ends on an error must not leave a server behind.
process.on('exit', () => {
  for (const server of started) server.proc.kill('SIGKILL');
});

/** Closes every stream, raw connection and WebSocket the tests left open. */
export function closeAll() {
  for (const close of open) close();
  open.clear();
}

/**
 * One request on a connection of its own (the Engine.IO suite's `request`), as sockjs-protocol's
 * client sends it: a POST always has a Content-Length, 0 without a body. Resolves with
 * {status, headers, body (text)}; rejects if the server dropped the connection instead.
 */
export async function http(port, method, urlPath, { body, headers = {} } = {}) {
  const all = { ...headers };
  if (method === 'POST' && body === undefined) body = '';
  if (body !== undefined) all['Content-Length'] = Buffer.byteLength(body);
  const r = await request(port, urlPath, { method, body, headers: all });
  if (r.status === 0) throw new Error(`${method} ${urlPath}: no answer (${r.error?.message})`);
  return { status: r.status, headers: r.headers, body: r.text };
}
export const get = (port, urlPath, headers) => http(port, 'GET', urlPath, { headers });
export const post = (port, urlPath, body = '', headers) =>
  http(port, 'POST', urlPath, { body, headers });
export const options = (port, urlPath, headers) => http(port, 'OPTIONS', urlPath, { headers });

/** The one Set-Cookie header of a response (Node gives them as a list), or undefined. */
export function setCookie(headers) {
  const list = headers['set-cookie'];
  if (list === undefined) return undefined;
  if (list.length !== 1) throw new Error(`${list.length} Set-Cookie headers: ${list}`);
  return list[0];
}

/**
 * Received bytes with bounded waits for "the next N bytes", "up to and including a delimiter"
 * and "the end". `failure` is set when the bytes stopped other than by a proper end.
 */
class ByteQueue {
  constructor(label) {
    this.label = label;
    this.buffer = Buffer.alloc(0);
    this.done = false;
    this.failure = null;
    this.waiters = new Set();
  }

  push(bytes) {
    this.buffer = Buffer.concat([this.buffer, bytes]);
    this.wake();
  }

  finish(failure = null) {
    if (this.done) return;
    this.done = true;
    this.failure = failure;
    this.wake();
  }

  wake() {
    for (const check of [...this.waiters]) check();
  }

  /** Resolves with what `ready()` returns once it returns something other than undefined. */
  until(ready, ms, what) {
    let check;
    return withTimeout(new Promise((resolve, reject) => {
      check = () => {
        let value;
        try {
          value = ready();
        } catch (error) {
          this.waiters.delete(check);
          reject(error);
          return;
        }
        if (value === undefined) return;
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
      check();
    }), ms, `${this.label}: ${what}`).finally(() => this.waiters.delete(check));
  }

  take(n) {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  cut(what) {
    const why = this.failure ? ` (${this.failure.message ?? this.failure})` : '';
    const had = this.buffer.length ? `; had ${JSON.stringify(this.buffer.toString('latin1'))}` : '';
    return new Error(`${this.label}: ended before ${what}${why}${had}`);
  }

  bytes(n, ms = READ_TIMEOUT_MS) {
    return this.until(() => {
      if (this.buffer.length >= n) return this.take(n);
      if (this.done) throw this.cut(`${n} bytes`);
      return undefined;
    }, ms, `${n} bytes`);
  }

  to(delimiter, ms = READ_TIMEOUT_MS) {
    const needle = Buffer.from(delimiter);
    return this.until(() => {
      const at = this.buffer.indexOf(needle);
      if (at >= 0) return this.take(at + needle.length);
      if (this.done) throw this.cut(JSON.stringify(delimiter));
      return undefined;
    }, ms, `up to ${JSON.stringify(delimiter)}`);
  }

  /** Resolves with the bytes left once the stream ended properly; rejects if it was cut off. */
  rest(ms = READ_TIMEOUT_MS) {
    return this.until(() => {
      if (!this.done) return undefined;
      if (this.failure) throw this.cut('its proper end');
      return this.take(this.buffer.length);
    }, ms, 'the end');
  }
}

/**
 * A request whose response is read as it comes (node:http, one connection of its own):
 * head() resolves with {status, headers}; readBytes(n) and readTo(delimiter) with the next
 * bytes of the body as text; ended() with what is left once the response has ended (reading a
 * chunked body to its last chunk), and rejects if the connection is cut before; abort() drops
 * the connection (endedBytes() gives the bytes as they came); sent() resolves once the whole
 * request is written.
 */
export function openStream(port, urlPath, { method = 'POST', headers = {}, body } = {}) {
  const label = `${method} ${urlPath}`;
  const queue = new ByteQueue(label);
  const allHeaders = { ...headers };
  const hasLength = Object.keys(allHeaders).some((k) => k.toLowerCase() === 'content-length');
  if (method === 'POST' && !hasLength) {
    allHeaders['Content-Length'] = Buffer.byteLength(body ?? '');
  }
  const req = httpRequest({ host: '127.0.0.1', port, path: urlPath, method, agent: false,
    headers: allHeaders });
  const head = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      resolve({ status: res.statusCode, headers: res.headers });
      res.on('data', (d) => queue.push(d));
      res.on('end', () => queue.finish());
      res.on('error', (error) => queue.finish(error));
      res.on('close', () => {
        if (!res.complete) queue.finish(new Error('connection closed mid-response'));
      });
    });
    req.on('error', (error) => {
      reject(error);
      queue.finish(error);
    });
  });
  head.catch(() => {});
  const sent = new Promise((resolve) => req.on('finish', resolve));
  const abort = () => req.destroy();
  open.add(abort);
  req.on('close', () => open.delete(abort));
  if (body !== undefined) req.write(body);
  req.end();
  return {
    head: (ms = READ_TIMEOUT_MS) => withTimeout(head, ms, `${label}: response head`),
    readBytes: async (n, ms) => (await queue.bytes(n, ms)).toString(),
    readTo: async (delimiter, ms) => (await queue.to(delimiter, ms)).toString(),
    ended: async (ms) => (await queue.rest(ms)).toString(),
    endedBytes: (ms) => queue.rest(ms),
    sent: (ms = READ_TIMEOUT_MS) => withTimeout(sent, ms, `${label}: sent`),
    abort,
  };
}

/**
 * A raw TCP connection for what an HTTP library hides: send() writes bytes as they are;
 * head() reads a response head ({http, status, description, headers} with lower-case names,
 * repeated headers joined by ', '); readBytes(n), readTo(delimiter), readChunk() (one chunk
 * of a chunked body, '' for the last) and readChunkedBody() read the bytes after it; closed()
 * resolves with what is left once the server has closed the connection.
 */
export async function rawConnect(port) {
  const queue = new ByteQueue(`raw connection to ${port}`);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('data', (d) => queue.push(d));
  socket.on('end', () => queue.finish());
  socket.on('close', () => queue.finish());
  socket.on('error', (error) => queue.finish(error));
  const close = () => socket.destroy();
  open.add(close);
  socket.on('close', () => open.delete(close));
  await withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }), READ_TIMEOUT_MS, 'raw connect');

  const readHead = async (ms) => {
    const text = (await queue.to('\r\n\r\n', ms)).toString('latin1');
    const [statusLine, ...lines] = text.slice(0, -4).split('\r\n');
    const m = /^HTTP\/(\S+) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { http: m[1], status: Number(m[2]), description: m[3] ?? '', headers };
  };

  const readChunk = async (ms) => {
    const sizeLine = (await queue.to('\r\n', ms)).toString('latin1').slice(0, -2);
    const size = parseInt(sizeLine.split(';')[0], 16);
    if (!/^[0-9a-fA-F]+/.test(sizeLine) || !Number.isFinite(size)) {
      throw new Error(`not a chunk size line: ${JSON.stringify(sizeLine)}`);
    }
    if (size === 0) {
      const trailer = (await queue.to('\r\n', ms)).toString('latin1');
      if (trailer !== '\r\n') throw new Error(`trailers after the last chunk: ${trailer}`);
      return '';
    }
    const data = await queue.bytes(size + 2, ms);
    if (data.subarray(size).toString('latin1') !== '\r\n') {
      throw new Error('a chunk not ended by CRLF');
    }
    return data.subarray(0, size).toString();
  };

  /** The chunks up to the last one, joined; the first one is left to `first` when given. */
  const readChunkedBody = async (first = '', ms) => {
    let body = first;
    for (let chunk = await readChunk(ms); chunk !== ''; chunk = await readChunk(ms)) body += chunk;
    return body;
  };

  return {
    send: (bytes) => socket.write(bytes),
    head: readHead,
    readBytes: async (n, ms) => (await queue.bytes(n, ms)).toString(),
    readRawBytes: (n, ms) => queue.bytes(n, ms),
    readTo: async (delimiter, ms) => (await queue.to(delimiter, ms)).toString(),
    readChunk,
    readChunkedBody,
    closed: async (ms) => (await queue.rest(ms)).toString(),
    queue,
    close,
  };
}

/** A request head as text: the request line, Host, then `headers` in order. */
export function requestHead(method, port, urlPath, headers = {}, httpVersion = '1.1') {
  const lines = [`${method} ${urlPath} HTTP/${httpVersion}`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * One exchange on a raw connection of its own, read as sockjs-protocol's synchronous client
 * reads it: by Transfer-Encoding: chunked, else Content-Length, else to the close the response
 * announces; 101, 204 and 304 have no body. Resolves with the head and body (text).
 */
export async function rawRequest(port, method, urlPath, { headers = {}, body, httpVersion } = {}) {
  const c = await rawConnect(port);
  try {
    const all = { ...headers };
    if (method === 'POST' && body === undefined) body = '';
    if (body !== undefined) all['Content-Length'] = Buffer.byteLength(body);
    c.send(requestHead(method, port, urlPath, all, httpVersion) + (body ?? ''));
    const res = await c.head();
    const connection = (res.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim());
    if ((res.headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
      res.body = await c.readChunkedBody();
    } else if (res.headers['content-length'] !== undefined) {
      res.body = await c.readBytes(Number(res.headers['content-length']));
    } else if (connection.includes('close')) {
      res.body = await c.closed();
    } else if ([101, 204, 304].includes(res.status)) {
      res.body = '';
    } else {
      throw new Error(`${res.status} ${JSON.stringify(res.headers)}: no chunked, ` +
        'Content-Length or Connection: close');
    }
    return res;
  } finally {
    c.close();
  }
}

/**
 * An RFC 6455 WebSocket (`ws`, no permessage-deflate) with an inbox of its messages as text; the
 * inbox is there before the handshake ends, as a server may send frames right behind its 101.
 */
export async function openWebSocket(port, urlPath) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`, { perMessageDeflate: false });
  const box = inbox(ws);
  const close = () => ws.terminate();
  open.add(close);
  const whenClosed = new Promise((resolve) => {
    ws.once('close', (code, reason) => {
      open.delete(close);
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response',
      (_, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  }), READ_TIMEOUT_MS, `${urlPath}: open`);
  return {
    ws,
    next: async (ms = READ_TIMEOUT_MS) => (await box.next(ms)).data.toString(),
    nextBytes: async (ms = READ_TIMEOUT_MS) => (await box.next(ms)).data,
    /** Resolves with {code, reason} of the close (bounded). */
    closed: (ms = READ_TIMEOUT_MS) => withTimeout(whenClosed, ms, `${urlPath}: close`),
  };
}

// Draft 76 (Hixie-76): the two keys of sockjs-protocol's test_haproxy, and the challenge
// answer: MD5 of each key's digits divided by its spaces (32-bit big-endian) and the 8 bytes
// sent after the head.
export const HIXIE_KEY1 = '4 @1  46546xW%0l 1 5';
export const HIXIE_KEY2 = '12998 5 Y3 1  .P00';
export const hixieHeaders = (port) => ({
  Connection: 'Upgrade', Upgrade: 'WebSocket', Origin: `http://127.0.0.1:${port}`,
  'Sec-WebSocket-Key1': HIXIE_KEY1, 'Sec-WebSocket-Key2': HIXIE_KEY2,
});
export function hixieAnswer(key1, key2, key3) {
  const part = (key) => {
    const spaces = key.split(' ').length - 1;
    const value = Buffer.alloc(4);
    value.writeUInt32BE(Number(key.replace(/\D/g, '')) / spaces);
    return value;
  };
  return createHash('md5').update(Buffer.concat([part(key1), part(key2), Buffer.from(key3)]))
    .digest();
}

/**
 * A draft-76 WebSocket on `urlPath`: the head with Key1 and Key2, the 8-byte key either with it
 * or (splitKey3, as HAProxy forwards it) only once the response head has come. Resolves with
 * {response (the head), answer (the 16 challenge bytes), send(text), recv() (the next text
 * message, or null once the server has closed: a closing frame or the end of the connection),
 * close()}.
 */
export async function openHixie76(port, urlPath, { splitKey3 = false, key3 = 'aaaaaaaa' } = {}) {
  const c = await rawConnect(port);
  const head = requestHead('GET', port, urlPath, hixieHeaders(port));
  let response;
  if (splitKey3) {
    c.send(head);
    response = await c.head();
    c.send(key3);
  } else {
    c.send(head + key3);
    response = await c.head();
  }
  if (response.status !== 101) throw new Error(`draft-76 upgrade refused: ${response.status}`);
  const answer = await c.readRawBytes(16);
  const { queue } = c;
  const recv = (ms = READ_TIMEOUT_MS) => queue.until(() => {
    if (queue.buffer.length === 0) return queue.done ? null : undefined;
    const type = queue.buffer[0];
    if (type === 0x00) {
      const end = queue.buffer.indexOf(0xff);
      if (end < 0) return queue.done ? null : undefined;
      return queue.take(end + 1).subarray(1, end).toString();
    }
    if (type === 0xff) {
      if (queue.buffer.length < 2) return queue.done ? null : undefined;
      if (queue.buffer[1] !== 0x00) {
        throw new Error(`unexpected frame 0xff 0x${queue.buffer[1].toString(16)}`);
      }
      queue.take(2);
      return null;
    }
    throw new Error(`unexpected draft-76 frame type 0x${type.toString(16)}`);
  }, ms, 'draft-76 message');
  return {
    response,
    answer,
    send: (text) => c.send(Buffer.concat([Buffer.of(0x00), Buffer.from(text), Buffer.of(0xff)])),
    recv,
    close: () => {
      c.send(Buffer.of(0xff, 0x00));
      c.close();
    },
  };
}
