// `duplex bench --socketio` for a second against both servers of duplex serve's Socket.IO app
// (docs/socketio.md): duplex serve on one thread and on two, and bench/peers/socketio_peer.mjs
// on Node's socket.io. First the app's events themselves, the same on both, with
// socket.io-client; then the generator's exact accounting: every "echo" emitted back (and
// compared), every "broadcast" of the window delivered to every client in its room, in order,
// no error; idle clients held open; and a server that does not speak Socket.IO reported with
// exit status 1. Figures are never asserted here; bench/run prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startServer, withTimeout } from '../interop/node/helpers.mjs';
import { bench, benchStatus, startPeer, testEveryServer } from './bench_support.mjs';

const kPath = '/socket.io/';
const kRoomLoad = ['--socketio', 'room', '--subscribers', '20', '--topics', '2', '--publishers',
  '2', '-k', '4', '-s', '100', '-d', '1', '-w', '0.2'];

function connect(port) {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false,
    forceNew: true });
  return withTimeout(new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
  }), 5_000, 'socket.io connect');
}

function next(socket, event) {
  return withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))),
    5_000, `event ${event}`);
}

// "echo" to the sender alone, "join" acked with the room (null for no string), "broadcast" to
// the room's sockets only, "chat message" to everyone.
async function expectAppEvents(port) {
  const [a, b, c] = await Promise.all([connect(port), connect(port), connect(port)]);
  try {
    const echoed = next(a, 'echo');
    a.emit('echo', { text: 'hi', n: 1 }, [2, 'x']);
    assert.deepEqual(await echoed, [{ text: 'hi', n: 1 }, [2, 'x']]);
    assert.equal(await a.timeout(5_000).emitWithAck('join', 'r1'), 'r1');
    assert.equal(await b.timeout(5_000).emitWithAck('join', 'r1'), 'r1');
    assert.equal(await c.timeout(5_000).emitWithAck('join', 7), null);
    let strays = 0;
    c.on('broadcast', () => ++strays);
    c.on('echo', () => ++strays);
    const toA = next(a, 'broadcast');
    const toB = next(b, 'broadcast');
    c.emit('broadcast', 'r1', 'data', { k: true });
    assert.deepEqual(await toA, ['data', { k: true }]);
    assert.deepEqual(await toB, ['data', { k: true }]);
    const chat = [a, b, c].map((s) => next(s, 'chat message'));
    b.emit('chat message', 'hello');
    for (const args of await Promise.all(chat)) assert.deepEqual(args, ['hello']);
    assert.equal(strays, 0);
  } finally {
    for (const s of [a, b, c]) s.disconnect();
  }
}

async function expectEchoRun(port) {
  const { status, report } = await bench(port, ['--socketio', 'echo', '-c', '10', '-k', '2',
    '-d', '1', '-w', '0.2'], kPath);
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, 'socketio');
  assert.equal(report.opened, 10);
  assert.ok(report.messages > 0, 'echoes came back');
  assert.ok(report.latency_us.p50 > 0);
}

async function expectRoomRun(port) {
  const { status, report } = await bench(port, kRoomLoad, kPath);
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, 'socketio_room');
  assert.equal(report.opened, 22);
  assert.equal(report.subscribers_per_topic, 10);
  assert.ok(report.publishes > 0, 'something was broadcast');
  assert.equal(report.deliveries, report.publishes * 10);
  assert.equal(report.undelivered, 0);
}

async function expectIdleClients(port, pid) {
  const { status, report } = await bench(port, ['--socketio', 'echo', '--idle', '-c', '200',
    '-d', '0.5', '--server-pid', String(pid)], kPath);
  assert.deepEqual(report.error_samples, []);
  assert.equal(status, 0);
  assert.equal(report.mode, 'socketio');
  assert.equal(report.opened, 200);
  assert.equal(report.baseline_connections, 2);
  assert.equal(typeof report.server_rss_per_connection, 'number');
}

async function expectEverything(port, pid) {
  await expectAppEvents(port);
  await expectEchoRun(port);
  await expectRoomRun(port);
  await expectIdleClients(port, pid);
}

testEveryServer('Node socket.io', 'socketio_peer.mjs',
  'the app\'s events, every echo back, every broadcast to its room, idle clients',
  expectEverything);

test('against duplex serve with pings every 0.2 s: every ping is answered', async () => {
  const server = await startServer(['--threads', '1', '--socketio-ping-interval', '0.2',
    '--socketio-ping-timeout', '0.3']);
  try {
    await expectEchoRun(server.port);
    await expectRoomRun(server.port);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0, server.output());
  }
});

test('a WebSocket server that is not Socket.IO: reported, nothing measured', async () => {
  const peer = await startPeer('ws_echo.mjs');
  try {
    const { status, report } = await bench(peer.port, kRoomLoad, kPath);
    assert.equal(status, 1);
    assert.ok(report.errors >= 1);
    assert.match(report.error_samples[0], /^socket\.io: the namespace not connected after 10 s/);
    assert.equal(report.deliveries, 0);
  } finally {
    await peer.stop();
  }
});

test('bad arguments', async () => {
  const bad = [['--socketio', 'chat'], ['--socketio', 'echo', '-s', '20'],
    ['--socketio', 'echo', '--binary'], ['--socketio', 'echo', '--deflate'],
    ['--socketio', 'room', '--idle'], ['--socketio', 'room', '--pubsub'],
    ['--socketio', 'echo', '--sse'], ['--socketio', 'room', '--subscribers', '10', '--topics', '3'],
    ['--socketio', 'room', '-s', '15']];
  for (const args of bad) {
    assert.equal(await benchStatus(['ws://127.0.0.1:1/socket.io/', ...args]), 2, args.join(' '));
  }
});
