// `duplex bench --sockjs` for a second against both servers of the SockJS services: duplex serve
// (/sockjs/echo and /sockjs/chat) on one thread and on two, and bench/peers/sockjs_peer.mjs on
// Node's sockjs 0.3 (the same paths). The generator's exact accounting: every message echoed
// back whole and in order, none still owed once the window ends; every chat message of the
// window delivered to every session, the publishers' own included, in order, none lost; and a
// server that does not speak SockJS reported with exit status 1. Figures are never asserted
// here; bench/run prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, benchStatus, startPeer, testEveryServer } from './bench_support.mjs';

const kFanout = ['--sockjs', 'fanout', '--subscribers', '20', '--publishers', '2', '-k', '4',
  '-s', '100', '-d', '1', '-w', '0.2'];

async function expectEchoRun(port, urlPath = '/sockjs/echo') {
  const { status, report } = await bench(port, ['--sockjs', 'echo', '-c', '10', '-k', '3',
    '-s', '300', '-d', '1', '-w', '0.2'], urlPath);
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, 'sockjs');
  assert.equal(report.transport, 'websocket');
  assert.equal(report.opened, 10);
  assert.ok(report.messages > 0, 'echoes came back');
  assert.ok(report.latency_us.p50 > 0);
}

async function expectFanoutRun(port, urlPath = '/sockjs/chat') {
  const { status, report } = await bench(port, kFanout, urlPath);
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, 'sockjs_fanout');
  assert.equal(report.opened, 22);
  assert.ok(report.publishes > 0, 'something was published');
  // Every session of the chat gets every message: the 20 subscribers and both publishers.
  assert.equal(report.deliveries, report.publishes * 22);
  assert.equal(report.undelivered, 0);
}

async function expectEverything(port) {
  await expectEchoRun(port);
  await expectFanoutRun(port);
}

testEveryServer('Node sockjs', 'sockjs_peer.mjs',
  'every message echoed in order, every chat message to every session', expectEverything);

test('the Node sockjs peer still answers at /echo and /broadcast', async () => {
  const peer = await startPeer('sockjs_peer.mjs');
  try {
    await expectEchoRun(peer.port, '/echo');
    await expectFanoutRun(peer.port, '/broadcast');
  } finally {
    assert.equal(await peer.stop(), 0);
  }
});

test('a WebSocket server that is not SockJS: reported, nothing measured', async () => {
  const peer = await startPeer('ws_echo.mjs');
  try {
    const { status, report } = await bench(peer.port, ['--sockjs', 'echo', '-c', '2', '-d', '0.5',
      '-w', '0'], '/sockjs/echo');
    assert.equal(status, 1);
    assert.ok(report.errors >= 1);
    assert.match(report.error_samples[0], /^sockjs: no open frame after 10 s/);
    assert.equal(report.messages, 0);
  } finally {
    await peer.stop();
  }
});

test('bad arguments', async () => {
  const bad = [['--sockjs', 'room'], ['--sockjs', 'echo', '-s', '7'],
    ['--sockjs', 'echo', '--binary'], ['--sockjs', 'echo', '--deflate'],
    ['--sockjs', 'echo', '--idle'], ['--sockjs', 'fanout', '--pubsub'],
    ['--sockjs', 'echo', '--socketio', 'echo'], ['--sockjs', 'fanout', '--topics', '2'],
    ['--sockjs', 'fanout', '-s', '15']];
  for (const args of bad) {
    assert.equal(await benchStatus(['ws://127.0.0.1:1/sockjs/echo', ...args]), 2, args.join(' '));
  }
});
