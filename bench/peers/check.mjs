// Checks one reference server against the peers' contract, with Node `ws` as the client:
//   node bench/peers/check.mjs [--zeros] [--many N] [--tls DIR] -- COMMAND [ARGS...]
//   node bench/peers/check.mjs --pubsub [--floor] [--many N] -- COMMAND [ARGS...]
// starts `COMMAND ARGS... PORT` on a free port, waits for its `ready PORT` line, then checks by
// real round trips: 1000 echoes each of text and binary at 0, 1, 125, 126, 127, 65535, 64 Ki
// bytes, 100 each at 1 MiB; 200 pipelined messages answered in order; fragmented messages;
// ping/pong; 100 connections in parallel; the close handshake; with --many N, N connections open
// at once; and finally that SIGTERM makes it exit with status 0.
// --zeros is for the floor server, which answers each frame with zeros of the same size: echoes
// are then checked for kind, size and all-zero content instead of equal bytes.
// --tls DIR checks the same over wss://: the server is started as `COMMAND ARGS... PORT --tls
// DIR/server.pem DIR/server.key` and trusted through DIR/ca.pem (tests/support/make_test_certs.sh
// makes the three; bench/run keeps them in build/bench/tls).
// --pubsub checks a publish/subscribe server (docs/pubsub-protocol.md) instead: `subscribed`
// answers, every delivery to every subscriber of its topic exactly and in order (and none to
// others) for data strings of 16 B to 70,000 B, a connection on two topics, unsubscribe, a closed
// subscriber, and (not with --floor) JSON data of any kind, exclude_self and error answers; with
// --many N, N subscribers of one topic each get 100 publishes. --floor is for floor_pubsub, whose
// deliveries carry the published data's first 16 bytes and then ready-made bytes: deliveries are
// checked for topic, size and those 16 bytes, and on a connection with two topics each topic's
// order on its own (the floor writes a loop iteration's deliveries topic by topic).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from './free_port.mjs';

const args = process.argv.slice(2);
let zeros = false;
let pubsub = false;
let many = 0;
let tlsDir = null;
while (args.length && args[0] !== '--') {
  const a = args.shift();
  if (a === '--zeros' || a === '--floor') zeros = true;
  else if (a === '--pubsub') pubsub = true;
  else if (a === '--many') many = Number(args.shift());
  else if (a === '--tls' && args.length) tlsDir = args.shift();
  else usage();
}
if (args.shift() !== '--' || args.length === 0 || !Number.isInteger(many)) usage();
const tlsArgs = tlsDir
  ? ['--tls', path.join(tlsDir, 'server.pem'), path.join(tlsDir, 'server.key')]
  : [];
const trusted = tlsDir ? readFileSync(path.join(tlsDir, 'ca.pem')) : null;

function usage() {
  console.error('usage: node check.mjs [--zeros] [--many N] [--tls DIR] -- COMMAND [ARGS...]\n' +
    '       node check.mjs --pubsub [--floor] [--many N] -- COMMAND [ARGS...]');
  process.exit(2);
}

const kMessageTimeoutMs = 20000;
const name = [...args, ...(tlsDir ? ['--tls'] : [])].map((a) => a.split('/').pop()).join(' ');
let child;

function fail(message) {
  console.error(`check ${name}: FAILED: ${message}`);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  process.exit(1);
}

function withTimeout(promise, what, ms = kMessageTimeoutMs) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startPeer(port) {
  child = spawn(args[0], [...args.slice(1), String(port), ...tlsArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.split('\n').includes(`ready ${port}`)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code} before ready`)));
    }),
    `"ready ${port}"`,
    15000,
  );
}

// A client connection whose incoming messages are awaited in order.
class Client {
  static async open(port, target) {
    const ws = new WebSocket(`${trusted ? 'wss' : 'ws'}://127.0.0.1:${port}${target}`, {
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
      ...(trusted ? { ca: trusted } : {}),
    });
    const client = new Client(ws);
    await withTimeout(
      new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
      'the handshake',
    );
    return client;
  }

  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this.push({ data, isBinary }));
    ws.on('error', (err) => this.push({ error: err }));
    ws.on('close', (code) => this.push({ error: new Error(`connection closed (${code})`) }));
  }

  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.queue.push(item);
  }

  next(what) {
    const item = this.queue.shift();
    const p = item ? Promise.resolve(item) : new Promise((resolve) => this.waiters.push(resolve));
    return withTimeout(p, what).then((m) => {
      if (m.error) throw m.error;
      return m;
    });
  }
}

// Exactly `size` bytes: for text valid UTF-8 with two-byte characters, for binary random bytes;
// `tag` is written in so that a reordered or stale echo is noticed.
function payload(size, binary, tag) {
  let buf;
  if (binary) {
    buf = randomBytes(size);
  } else {
    buf = Buffer.alloc(size, 'a');
    for (let i = 0; i + 3 <= size; i += 3) buf.write('aé', i);
  }
  // Nine digits end where a character of the text pattern ends.
  if (size >= 9) buf.write(String(tag % 1e9).padStart(9, '0'), 0, 'latin1');
  return buf;
}

function checkEcho(sent, binary, got, what) {
  if (got.isBinary !== binary) {
    fail(`${what}: echo came back as ${got.isBinary ? 'binary' : 'text'}`);
  }
  const data = Buffer.isBuffer(got.data) ? got.data : Buffer.concat(got.data);
  if (data.length !== sent.length) {
    fail(`${what}: echo of ${data.length} bytes, sent ${sent.length}`);
  }
  if (!data.equals(zeros ? Buffer.alloc(sent.length) : sent)) fail(`${what}: echo differs`);
}

async function sequential(port) {
  const sizes = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20];
  const client = await Client.open(port, '/sequential');
  let count = 0;
  for (const binary of [false, true]) {
    for (const size of sizes) {
      const n = size >= 1 << 20 ? 100 : 1000;
      for (let i = 0; i < n; ++i) {
        const what = `${binary ? 'binary' : 'text'} ${size} B #${i}`;
        const sent = payload(size, binary, i);
        client.ws.send(sent, { binary });
        checkEcho(sent, binary, await client.next(what), what);
        ++count;
      }
    }
  }
  client.ws.terminate();
  return count;
}

async function pipelined(port) {
  const client = await Client.open(port, '/pipelined?x=1');
  const sizes = [0, 16, 512, 126, 4000, 65536, 70000];
  const sent = [];
  for (let i = 0; i < 200; ++i) {
    const binary = i % 2 === 1;
    sent.push({ data: payload(sizes[i % sizes.length], binary, i), binary });
    client.ws.send(sent[i].data, { binary });
  }
  for (let i = 0; i < 200; ++i) {
    const what = `pipelined #${i}`;
    checkEcho(sent[i].data, sent[i].binary, await client.next(what), what);
  }
  client.ws.terminate();
}

async function fragmented(port) {
  const client = await Client.open(port, '/');
  for (const binary of [false, true]) {
    const parts = [payload(300, binary, 1), payload(0, binary, 2), payload(70000, binary, 3)];
    parts.forEach((part, i) => client.ws.send(part, { binary, fin: i === parts.length - 1 }));
    const what = `fragmented ${binary ? 'binary' : 'text'}`;
    checkEcho(Buffer.concat(parts), binary, await client.next(what), what);
  }
  const ping = Buffer.from('ping payload');
  const pong = new Promise((resolve) => client.ws.once('pong', resolve));
  client.ws.ping(ping);
  const got = await withTimeout(pong, 'the pong');
  if (got.length !== ping.length || (!zeros && !got.equals(ping))) fail('pong differs from ping');

  const closed = new Promise((resolve) => client.ws.once('close', (code) => resolve(code)));
  client.ws.close(1000, 'done');
  const code = await withTimeout(closed, 'the close handshake');
  // The floor server answers a close with an empty one (1005 on this side).
  if (code !== 1000 && !(zeros && code === 1005)) fail(`close answered with ${code}`);
}

async function parallel(port, connections, perConnection) {
  const run = async (c) => {
    const client = await Client.open(port, `/parallel/${c}`);
    for (let i = 0; i < perConnection; ++i) {
      const sent = payload(512, i % 2 === 0, c * 1000 + i);
      client.ws.send(sent, { binary: i % 2 === 0 });
      checkEcho(sent, i % 2 === 0, await client.next(`parallel ${c}/${i}`), `parallel ${c}/${i}`);
    }
    return client;
  };
  return Promise.all(Array.from({ length: connections }, (_, c) => run(c)));
}

// Opens `n` connections in batches and keeps them all open, each having echoed once.
async function manyConnections(port, n) {
  const clients = [];
  for (let start = 0; start < n; start += 500) {
    const batch = Math.min(500, n - start);
    clients.push(...(await parallel(port, batch, 1)));
  }
  // Every connection is still served while all are open.
  await Promise.all(
    clients.map(async (client, c) => {
      const sent = payload(16, true, c);
      client.ws.send(sent);
      checkEcho(sent, true, await client.next(`many #${c}`), `many #${c}`);
    }),
  );
  for (const client of clients) client.ws.terminate();
}

async function stop() {
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.kill('SIGTERM');
  const { code, signal } = await withTimeout(exited, 'the exit after SIGTERM', 10000);
  if (code !== 0) fail(`SIGTERM: exit status ${code}${signal ? ` (signal ${signal})` : ''}`);
}

// --- publish/subscribe --------------------------------------------------------------------

// A data string of `size` bytes: 16 hex digits of `n`, then printable ASCII.
function pubsubData(n, size) {
  const tail = 'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(Math.ceil(size / 37) + 1);
  return n.toString(16).padStart(16, '0') + tail.slice(0, size - 16);
}

async function nextJson(client, what) {
  const m = await client.next(what);
  if (m.isBinary) fail(`${what}: a binary message`);
  return m.data.toString();
}

async function expectText(client, expected, what) {
  const got = await nextJson(client, what);
  if (got !== expected) {
    fail(`${what}: got ${got.slice(0, 200)}, expected ${expected.slice(0, 200)}`);
  }
}

async function subscribeTo(client, topic, what) {
  client.ws.send(JSON.stringify({ type: 'subscribe', topic }));
  await expectText(client, JSON.stringify({ type: 'subscribed', topic }), `${what}: subscribed`);
}

// A delivery of `data` on `topic`: exactly the documented bytes, or for the floor the topic,
// the size and the data's first 16 bytes.
async function expectDelivery(client, topic, data, what) {
  const expected = JSON.stringify({ type: 'message', topic, data });
  if (!zeros) return expectText(client, expected, what);
  const got = await nextJson(client, what);
  let m;
  try {
    m = JSON.parse(got);
  } catch {
    fail(`${what}: not JSON: ${got.slice(0, 200)}`);
  }
  const keys = Object.keys(m).join(',');
  if (keys !== 'type,topic,data' || m.type !== 'message' || m.topic !== topic ||
      Buffer.byteLength(got) !== Buffer.byteLength(expected) ||
      m.data.slice(0, 16) !== data.slice(0, 16)) {
    fail(`${what}: got ${got.slice(0, 200)}, expected ${expected.slice(0, 200)}`);
  }
}

async function pubsubChecks(port) {
  const topics = ['alpha', 'beta', 't/\u03b3'];
  const publisher = await Client.open(port, '/pubsub');
  const subscribers = [];
  for (let i = 0; i < 30; ++i) {
    const client = await Client.open(port, '/pubsub');
    await subscribeTo(client, topics[i % 3], `subscriber ${i}`);
    subscribers.push({ client, topics: [topics[i % 3]] });
  }
  await subscribeTo(subscribers[0].client, 'beta', 'subscriber 0 on a second topic');
  subscribers[0].topics.push('beta');
  await subscribeTo(subscribers[0].client, 'beta', 'subscriber 0 on beta again');  // no error

  // Every size, every topic, in order; a subscriber on two topics gets both, in order.
  const sizes = [16, 100, 125, 126, 1000, 65535, 70000];
  let n = 0;
  const sent = [];
  for (const size of sizes) {
    for (const topic of topics) {
      const data = pubsubData(++n, size);
      publisher.ws.send(JSON.stringify({ type: 'publish', topic, data }));
      sent.push({ topic, data });
    }
  }
  await Promise.all(subscribers.map(async ({ client, topics: mine }, i) => {
    const due = sent.filter((m) => mine.includes(m.topic));
    if (zeros && mine.length > 1) {
      // The floor sends each topic's batch of a loop iteration in one write, topic after topic:
      // a connection on two topics gets each topic's deliveries in order, not the two
      // interleaved as published. Each topic's sequence is checked on its own.
      const got = [];
      for (const _ of due) got.push(JSON.parse(await nextJson(client, `subscriber ${i}`)));
      for (const topic of mine) {
        const expected = due.filter((m) => m.topic === topic);
        const received = got.filter((m) => m.topic === topic);
        expected.forEach(({ data }, k) => {
          const m = received[k];
          if (!m || m.data.length !== data.length || m.data.slice(0, 16) !== data.slice(0, 16)) {
            fail(`subscriber ${i}, ${data.length} B on ${topic}: got ${JSON.stringify(m)}`);
          }
        });
      }
      return;
    }
    for (const { topic, data } of due) {
      await expectDelivery(client, topic, data, `subscriber ${i}, ${data.length} B on ${topic}`);
    }
  }));

  // Unsubscribed from alpha, subscriber 3 gets nothing of it: after a publish to alpha it
  // subscribes to beta and its next message is beta's.
  const s3 = subscribers[3].client;
  s3.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'alpha' }));
  await expectText(s3, JSON.stringify({ type: 'unsubscribed', topic: 'alpha' }), 'unsubscribed');
  s3.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'alpha' }));  // not subscribed: same
  await expectText(s3, JSON.stringify({ type: 'unsubscribed', topic: 'alpha' }), 'unsubscribed');
  const afterUnsubscribe = pubsubData(++n, 40);
  publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'alpha', data: afterUnsubscribe }));
  // A subscriber that closed is released: alpha's publish still reaches the rest.
  subscribers[6].client.ws.terminate();
  for (const i of [0, 9]) {
    await expectDelivery(subscribers[i].client, 'alpha', afterUnsubscribe, `alpha after changes`);
  }
  await subscribeTo(s3, 'beta', 'subscriber 3 on beta');
  const marker = pubsubData(++n, 40);
  publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'beta', data: marker }));
  await expectDelivery(s3, 'beta', marker, 'subscriber 3 after unsubscribing from alpha');

  let checks = 'deliveries at 16 B to 70,000 B, two topics on one connection, unsubscribe';
  if (!zeros) {
    // Any JSON value as data, serialized compactly; the publisher's own message when subscribed,
    // not with exclude_self.
    const s1 = subscribers[1].client;  // on beta
    const s4 = subscribers[4].client;  // on beta
    await expectDelivery(s1, 'beta', marker, 'subscriber 1: beta');
    await expectDelivery(s4, 'beta', marker, 'subscriber 4: beta');
    for (const data of [{ a: [1, 2.5, { b: null }], c: 'x' }, 42, true, null, 'caf\u00e9', []]) {
      s1.ws.send(JSON.stringify({ type: 'publish', topic: 'beta', data }));
      await expectDelivery(s1, 'beta', data, `own publish of ${JSON.stringify(data)}`);
      await expectDelivery(s4, 'beta', data, `publish of ${JSON.stringify(data)}`);
    }
    const excluded = pubsubData(++n, 20);
    const publish = { type: 'publish', topic: 'beta', data: excluded, exclude_self: true };
    s1.ws.send(JSON.stringify(publish));
    await expectDelivery(s4, 'beta', excluded, 'publish with exclude_self, to another');
    const next = pubsubData(++n, 20);
    publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'beta', data: next }));
    await expectDelivery(s1, 'beta', next, 'the next message after exclude_self');
    // Errors are answered with the documented reason and the connection stays open.
    const deep = '{"type":"publish","topic":"a","data":' + '['.repeat(64) + ']'.repeat(64) + '}';
    const bad = [
      ['not json', 'message is not valid JSON'],
      ['{"type":"subscribe","topic":"a"} x', 'message is not valid JSON'],
      ['[1]', 'message is not a JSON object'],
      [deep, 'message is nested deeper than 64 levels'],
      ['{"topic":"a"}', 'missing type'],
      ['{"type":"dance","topic":"a"}', 'unknown type'],
      ['{"type":7,"topic":"a"}', 'unknown type'],
      ['{"type":"subscribe"}', 'missing topic'],
      ['{"type":"subscribe","topic":7}', 'topic is not a string'],
      ['{"type":"subscribe","topic":""}', 'topic is empty'],
      [`{"type":"subscribe","topic":"${'\u00e9'.repeat(129)}"}`, 'topic is longer than 256 bytes'],
      ['{"type":"publish","topic":"a"}', 'publish without data'],
      ['{"type":"publish","topic":"a","data":1,"exclude_self":1}', 'exclude_self is not a boolean'],
    ];
    for (const [text, reason] of bad) {
      publisher.ws.send(text);
      await expectText(publisher, JSON.stringify({ type: 'error', reason }),
        `error for ${text.slice(0, 40)}`);
    }
    publisher.ws.send(Buffer.from('{}'), { binary: true });
    await expectText(publisher, '{"type":"error","reason":"binary messages are not accepted"}',
      'error for a binary message');
    await subscribeTo(publisher, 'alpha', 'the publisher, after errors');
    checks += ', any JSON data, exclude_self, errors';
  }
  for (const { client } of subscribers) client.ws.terminate();
  publisher.ws.terminate();

  if (many > 0) {
    const clients = [];
    for (let start = 0; start < many; start += 500) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(500, many - start) },
        async (_, i) => {
          const client = await Client.open(port, '/pubsub');
          await subscribeTo(client, 'many', `subscriber ${start + i} of many`);
          return client;
        }))));
    }
    const source = await Client.open(port, '/pubsub');
    const datas = Array.from({ length: 100 }, () => pubsubData(++n, 512));
    for (const data of datas) {
      source.ws.send(JSON.stringify({ type: 'publish', topic: 'many', data }));
    }
    await Promise.all(clients.map(async (client, c) => {
      for (const data of datas) await expectDelivery(client, 'many', data, `many #${c}`);
    }));
    for (const client of clients) client.ws.terminate();
    source.ws.terminate();
    checks += `, ${many} subscribers x 100 publishes`;
  }
  return checks;
}

try {
  const port = await freePort();
  await startPeer(port);
  const started = Date.now();
  if (pubsub) {
    const checks = await pubsubChecks(port);
    await stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`check ${name}: ok (pubsub: ${checks}, SIGTERM exit 0; ${seconds} s)`);
  } else {
    const echoes = await sequential(port);
    await pipelined(port);
    await fragmented(port);
    for (const client of await parallel(port, 100, 10)) client.ws.terminate();
    if (many > 0) await manyConnections(port, many);
    await stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const held = many ? `, ${many} connections at once` : '';
    console.log(
      `check ${name}: ok (${echoes} sequential echoes, pipelined, fragmented, ping, close, ` +
        `100 parallel connections${held}, SIGTERM exit 0; ${seconds} s)`,
    );
  }
} catch (err) {
  fail(err.message);
}
