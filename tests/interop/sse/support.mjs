// Shared by the Server-Sent Events suites (tests/interop/sse/, tests/browser/sse_*.test.mjs):
// an event stream read as it arrives, publishing over HTTP (one request, many in a row, or many
// pipelined in one write), a raw socket for exact bytes, a TCP relay whose connections a test
// can cut, and the delivery JSON of docs/pubsub-protocol.md. Loopback only, every wait bounded.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { withTimeout, STEP_TIMEOUT_MS } from '../node/helpers.mjs';

export { withTimeout, STEP_TIMEOUT_MS };

/** What a subscriber of `topic` receives for data given as JSON text (the /pubsub delivery). */
export const delivery = (topic, dataJson) =>
  `{"type":"message","topic":${JSON.stringify(topic)},"data":${dataJson}}`;

/** A `lost` event's data. */
export const lostData = (topic) => JSON.stringify({ topic });

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Waiting on something that grows (a log, the bytes read so far): `until(predicate, label, ms)`
 * resolves with value() once predicate(value()) holds, checked at every changed(), and fails
 * after `ms` saying what the value was then (describe()). end(why) fails every wait still
 * pending, and any later one that does not already hold.
 */
export function watch(value, describe = () => JSON.stringify(value())) {
  const waiters = new Set();
  let ended = null;
  const settle = (w, error) => {
    waiters.delete(w);
    clearTimeout(w.timer);
    if (error) w.reject(error); else w.resolve(value());
  };
  return {
    changed() {
      for (const w of [...waiters]) if (w.predicate(value())) settle(w);
    },
    end(why) {
      ended = why;
      for (const w of [...waiters]) settle(w, new Error(`${why} before ${w.label}: ${describe()}`));
    },
    until(predicate, label, ms = STEP_TIMEOUT_MS) {
      if (predicate(value())) return Promise.resolve(value());
      if (ended) return Promise.reject(new Error(`${ended} before ${label}: ${describe()}`));
      return new Promise((resolve, reject) => {
        const w = { predicate, label, resolve, reject };
        w.timer = setTimeout(() => settle(w, new Error(
          `timed out after ${ms} ms: ${label} (so far: ${describe()})`)), ms);
        waiters.add(w);
      });
    },
  };
}

/**
 * Reads an event stream the way the EventSource spec does (lines, fields, the last event id
 * carried forward). Feed it text as it comes; `events` holds {id, event, data} per dispatched
 * event, `comments` every comment line's text, `retry` the last retry field.
 */
export class EventStreamParser {
  constructor() {
    this.events = [];
    this.comments = [];
    this.retry = null;
    this.pending = '';
    this.lastId = '';
    this.data = null;
    this.type = '';
  }

  feed(text) {
    this.pending += text;
    for (;;) {
      const end = this.pending.search(/\r\n|\r|\n/);
      if (end < 0) return;
      // A lone CR at the very end may be the first half of a CRLF: wait for more.
      if (this.pending[end] === '\r' && end + 1 === this.pending.length) return;
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + (this.pending.startsWith('\r\n', end) ? 2 : 1));
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data !== null) {
        this.events.push({ id: this.lastId, event: this.type || 'message', data: this.data });
      }
      this.data = null;
      this.type = '';
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data = this.data === null ? value : `${this.data}\n${value}`;
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/**
 * GET `target` from 127.0.0.1:port as an event stream, read as it arrives. Resolves once the
 * response head is in, with {status, headers, text (the body so far, decoded from chunked),
 * events, comments, waitFor(predicate, label, ms), ended (a promise of {complete}), close()}.
 */
export function openStream(port, target, headers = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, agent: false, headers });
    req.on('error', reject);
    req.on('response', (res) => {
      const parser = new EventStreamParser();
      let settle;
      const ended = new Promise((r) => { settle = r; });
      const stream = {
        status: res.statusCode,
        headers: res.headers,
        text: '',
        parser,
        get events() { return parser.events; },
        get messages() { return parser.events.filter((e) => e.event === 'message'); },
        get comments() { return parser.comments; },
        done: false,
        ended,
        waitFor(predicate, label = 'stream condition', ms = STEP_TIMEOUT_MS) {
          return changes.until(predicate, label, ms);
        },
        /** Resolves once `count` message events are in. */
        messagesAtLeast(count, ms) {
          return stream.waitFor((s) => s.messages.length >= count, `${count} messages`, ms);
        },
        close() { req.destroy(); },
      };
      const changes = watch(() => stream, () => JSON.stringify(stream.text));
      res.setEncoding('utf8');
      res.on('data', (d) => {
        stream.text += d;
        parser.feed(d);
        changes.changed();
      });
      const finish = () => {
        if (stream.done) return;
        stream.done = true;
        settle({ complete: res.complete });
        changes.end('the stream ended');
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', () => {});  // an incomplete body: `ended` says {complete: false}
      resolve(stream);
    });
    req.end();
  }), STEP_TIMEOUT_MS, `GET ${target}`);
}

/**
 * One HTTP request (a fresh connection unless `agent` is given): resolves with
 * {status, headers, body (text)}.
 */
export function request(port, { method = 'GET', path, headers = {}, body, agent = false }) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  }), STEP_TIMEOUT_MS, `${method} ${path}`);
}

/** POST /publish?topic=... with `body` as the data; asserts the 204. */
export async function publish(port, topic, body, { headers = {}, agent = false } = {}) {
  const res = await request(port, {
    method: 'POST', path: `/publish?topic=${encodeURIComponent(topic)}`, headers, body, agent,
  });
  assert.equal(res.status, 204, `publish to ${topic}: ${res.body}`);
  assert.equal(res.body, '');
}

/** Publishes every body in turn over one keep-alive connection, each answered before the next. */
export async function publishInTurn(port, topic, bodies) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const body of bodies) await publish(port, topic, body, { agent });
  } finally {
    agent.destroy();
  }
}

/** A POST /publish request's bytes. */
export function publishRequest(topic, body) {
  return `POST /publish?topic=${encodeURIComponent(topic)} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Every body published in one write of pipelined requests on one connection, so that the server
 * reads them together and delivers them in one loop iteration; resolves once all are answered
 * 204.
 */
export async function publishPipelined(port, topic, bodies) {
  const raw = await rawConnect(port);
  try {
    raw.write(bodies.map((b) => publishRequest(topic, b)).join(''));
    const ok = 'HTTP/1.1 204 No Content\r\n\r\n';
    await raw.waitFor((text) => text.split(ok).length - 1 >= bodies.length,
      `${bodies.length} answers 204`);
    assert.equal(raw.text(), ok.repeat(bodies.length));
  } finally {
    raw.destroy();
  }
}

/**
 * A plain TCP connection to 127.0.0.1:port, for exact bytes: write(), text() (everything
 * received, latin1), waitFor(predicate on the text), ended (resolves on the peer's FIN or a
 * reset, with {how: 'end' | 'reset' | 'close'}), pause()/resume(), destroy().
 */
export function rawConnect(port) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let how = null;
    let settle;
    const ended = new Promise((r) => { settle = r; });
    const text = () => Buffer.concat(chunks).toString('latin1');
    const changes = watch(text);
    const finish = (what) => {
      if (how) return;
      how = what;
      settle({ how });
      changes.end(`the connection's ${what}`);
    };
    socket.on('data', (d) => { chunks.push(d); changes.changed(); });
    socket.on('end', () => finish('end'));
    socket.on('error', (e) => finish(e.code === 'ECONNRESET' ? 'reset' : `error ${e.code}`));
    socket.on('close', () => finish('close'));
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        ended,
        text,
        write: (data) => socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data),
        waitFor: (predicate, label = 'bytes', ms = STEP_TIMEOUT_MS) =>
          changes.until(predicate, label, ms),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  }), STEP_TIMEOUT_MS, `connect 127.0.0.1:${port}`);
}

/**
 * A TCP relay on 127.0.0.1 to `targetPort`: clients connect to its `port`; `heads` holds the
 * heads of the requests they send, in order (bodyless requests only: the relay splits what each
 * connection sends at every blank line), and cut() destroys every connection it carries, both
 * sides, as a broken network would.
 */
export async function startRelay(targetPort) {
  const pairs = new Set();
  const heads = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    let pending = '';
    client.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end; (end = pending.indexOf('\r\n\r\n')) >= 0;) {
        heads.push(pending.slice(0, end + 4));
        pending = pending.slice(end + 4);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    heads,
    get open() { return pairs.size; },
    cut() {
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The Last-Event-ID a recorded request head carries, or null. */
export function lastEventIdOf(head) {
  const m = /\r\nlast-event-id: *([^\r]*)\r\n/i.exec(head);
  return m ? m[1] : null;
}
