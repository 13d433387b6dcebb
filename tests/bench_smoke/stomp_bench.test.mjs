// `duplex bench --stomp` for a second against duplex serve's STOMP broker (/stomp) on one thread
// and on two. The generator's exact accounting: every SEND to a topic delivered to every
// subscriber of it, in order, none lost; every SEND to a queue delivered to exactly one consumer
// and ACKed; idle clients held CONNECTed; a server that does not answer CONNECT with CONNECTED,
// or that refuses the login with an ERROR frame, reported with exit status 1. Figures are never
// asserted here; bench/run prints them (against RabbitMQ too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, benchStatus } from './bench_support.mjs';
import { startServer } from '../interop/node/helpers.mjs';

// A run without errors, in `mode`, with every connection open and something sent.
function expectClean({ status, report }, mode, opened) {
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, mode);
  assert.equal(report.opened, opened);
  assert.ok(report.publishes > 0, 'something was sent');
  assert.equal(report.undelivered, 0);
  return report;
}

async function expectTopicRun(port) {
  const report = expectClean(await bench(port, ['--stomp', 'topic', '--subscribers', '20',
    '--publishers', '2', '--topics', '2', '-k', '4', '-s', '100', '-d', '1', '-w', '0.2'],
  '/stomp'), 'stomp_topic', 22);
  // Each SEND goes to one of the 2 topics, whose 10 subscribers each get it.
  assert.equal(report.deliveries, report.publishes * 10);
}

async function expectQueueRun(port) {
  const report = expectClean(await bench(port, ['--stomp', 'queue', '--subscribers', '6',
    '--publishers', '2', '-k', '8', '-s', '64', '-d', '1', '-w', '0.2'], '/stomp'),
  'stomp_queue', 8);
  // Each message to exactly one consumer.
  assert.equal(report.deliveries, report.publishes);
}

for (const threads of ['1', '2']) {
  test(`against duplex serve --threads ${threads}: topics, a queue and idle clients`, async () => {
    const server = await startServer(['--threads', threads]);
    try {
      await expectTopicRun(server.port);
      await expectQueueRun(server.port);
      const { status, report } = await bench(server.port, ['--stomp', 'topic', '--idle', '-c',
        '50', '-d', '0.5', '--server-pid', String(server.proc.pid)], '/stomp');
      assert.deepEqual(report.error_samples, []);
      assert.equal(status, 0);
      assert.equal(report.mode, 'stomp');
      assert.equal(report.opened, 50);
      assert.ok(report.server_rss_after > 0);
    } finally {
      const { code } = await server.stop();
      assert.equal(code, 0, server.output());
    }
  });
}

test('a WebSocket echo is no STOMP broker, and a refused login is an ERROR: reported', async () => {
  const server = await startServer(['--stomp-login', 'alice:secret']);
  try {
    // duplex serve's /echo takes the offered subprotocol and sends the CONNECT frame back.
    let { status, report } = await bench(server.port, ['--stomp', 'topic', '--subscribers', '2',
      '-d', '0.5', '-w', '0'], '/echo');
    assert.equal(status, 1);
    assert.match(report.error_samples[0], /^stomp: expected CONNECTED, got \(\d+ B\) CONNECT\?/);
    assert.equal(report.publishes, 0);
    // The generator logs in as guest:guest, which this broker refuses.
    ({ status, report } = await bench(server.port, ['--stomp', 'queue', '--subscribers', '2',
      '-d', '0.5', '-w', '0'], '/stomp'));
    assert.equal(status, 1);
    assert.match(report.error_samples[0], /^stomp: the server sent ERROR Authentication failed: /);
    assert.equal(report.publishes, 0);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0, server.output());
  }
});

test('bad arguments', async () => {
  const bad = [['--stomp', 'fanout'], ['--stomp', 'topic', '--pubsub'],
    ['--stomp', 'queue', '--sockjs', 'echo'], ['--stomp', 'topic', '--socketio', 'room'],
    ['--stomp', 'topic', '--idle', '--binary'], ['--stomp', 'topic', '--deflate'],
    ['--stomp', 'queue', '--topics', '3', '--subscribers', '4'], ['--stomp', 'topic', '-s', '15']];
  for (const args of bad) {
    assert.equal(await benchStatus(['ws://127.0.0.1:1/stomp', ...args]), 2, args.join(' '));
  }
});
