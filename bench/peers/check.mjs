// Checks one reference echo server against the peers' contract, with Node `ws` as the client:
//   node bench/peers/check.mjs [--zeros] [--many N] -- COMMAND [ARGS...]
// starts `COMMAND ARGS... PORT` on a free port, waits for its `ready PORT` line, then checks by
// real round trips: 1000 echoes each of text and binary at 0, 1, 125, 126, 127, 65535, 64 Ki
// bytes, 100 each at 1 MiB; 200 pipelined messages answered in order; fragmented messages;
// ping/pong; 100 connections in parallel; the close handshake; with --many N, N connections open
// at once; and finally that SIGTERM makes it exit with status 0.
// --zeros is for the floor server, which answers each frame with zeros of the same size: echoes
// are then checked for kind, size and all-zero content instead of equal bytes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';

const args = process.argv.slice(2);
let zeros = false;
let many = 0;
while (args.length && args[0] !== '--') {
  const a = args.shift();
  if (a === '--zeros') zeros = true;
  else if (a === '--many') many = Number(args.shift());
  else usage();
}
if (args.shift() !== '--' || args.length === 0 || !Number.isInteger(many)) usage();

function usage() {
  console.error('usage: node check.mjs [--zeros] [--many N] -- COMMAND [ARGS...]');
  process.exit(2);
}

const kMessageTimeoutMs = 20000;
const name = args.map((a) => a.split('/').pop()).join(' ');
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

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPeer(port) {
  child = spawn(args[0], [...args.slice(1), String(port)], {
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
  static async open(port, path) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
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

try {
  const port = await freePort();
  await startPeer(port);
  const started = Date.now();
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
} catch (err) {
  fail(err.message);
}
