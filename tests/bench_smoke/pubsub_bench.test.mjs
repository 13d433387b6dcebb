// `duplex bench --pubsub`, `--sse` and `--poll` for a second against real publish/subscribe
// servers (the Node ws peer, whose node:http also serves /sse and /poll, and duplex serve on one
// thread and on two): the generator's exact accounting (every publish of the window delivered to
// every subscriber of its topic, WebSocket, event stream or long poll, no error), `--sse --idle`
// holding streams open, and its checks (a server that does not speak the protocol, or a long
// poll told it lost messages, is reported and the exit status is 1). Figures are never asserted
// here; bench/run prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../interop/node/helpers.mjs';
import { bench, benchStatus, startPeer, testEveryServer } from './bench_support.mjs';

const kLoad = ['--subscribers', '20', '--topics', '2', '--publishers', '2', '-k', '4', '-s', '100',
  '-d', '1', '-w', '0.2'];
const kModes = ['pubsub', 'sse', 'poll'];

// The exact accounting of one run of `mode` against a server on `port`.
async function expectExactRun(port, mode) {
  const { status, report } = await bench(port, [`--${mode}`, ...kLoad]);
  assert.deepEqual(report.error_samples, [], mode);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.mode, mode);
  assert.equal(report.opened, 22);
  assert.equal(report.subscribers_per_topic, 10);
  assert.ok(report.publishes > 0, 'something was published');
  assert.equal(report.deliveries, report.publishes * 10);
  assert.equal(report.undelivered, 0);
  assert.ok(report.latency_us.p50 > 0);
  if (mode === 'poll') {
    assert.ok(report.poll_answers > 0 && report.poll_answers <= report.deliveries);
  }
}

// Idle event streams held open, the server's RSS read from /proc.
async function expectIdleStreams(port, pid) {
  const { status, report } = await bench(port, ['--sse', '--idle', '-c', '200', '-d', '0.5',
    '--server-pid', String(pid)]);
  assert.deepEqual(report.error_samples, []);
  assert.equal(status, 0);
  assert.equal(report.mode, 'sse');
  assert.equal(report.stream_target, '/sse?topic=t0');
  assert.equal(report.opened, 200);
  assert.equal(report.baseline_connections, 2);
  assert.equal(typeof report.server_rss_per_connection, 'number');
}

// Both modes and idle streams against a server on `port` whose process is `pid`.
async function expectEveryMode(port, pid) {
  for (const mode of kModes) await expectExactRun(port, mode);
  await expectIdleStreams(port, pid);
}

testEveryServer('Node ws', 'ws_pubsub.mjs', 'every publish reaches every subscriber of its topic',
  expectEveryMode);

test('against an echo server: what it answers is reported, nothing is measured', async () => {
  const peer = await startPeer('ws_echo.mjs');
  try {
    // The subscribe is echoed; a GET /sse or /poll is refused by ws's own HTTP answer (the
    // polls' publisher may first be told that its priming publish came back).
    const expected = {
      pubsub: /^expected \{"type":"subscribed","topic":"t[01]"\}, got /,
      sse: /^event stream: server answered 426 /,
      poll: /^long poll: server answered 426 /,
    };
    for (const mode of kModes) {
      const { status, report } = await bench(peer.port, [`--${mode}`, ...kLoad]);
      assert.equal(status, 1);
      assert.ok(report.errors >= 1);
      assert.ok(report.error_samples.some((e) => expected[mode].test(e)),
        report.error_samples.join('\n'));
      assert.equal(report.publishes, 0);
      assert.equal(report.deliveries, 0);
    }
  } finally {
    await peer.stop();
  }
});

test('long polls of a server that keeps no history: the loss is reported', async () => {
  // Keeping nothing, it tells a poll that comes back with a cursor that it lost what came after.
  const server = await startServer(['--threads', '1', '--history', '0']);
  try {
    const { status, report } = await bench(server.port, ['--poll', ...kLoad]);
    assert.equal(status, 1);
    assert.ok(report.errors >= 1);
    assert.match(report.error_samples[0], /^long poll: messages of t[01] lost /);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0, server.output());
  }
});

test('bad arguments: topics must divide subscribers, data holds the 16-digit id', async () => {
  const bad = [['--pubsub', '--subscribers', '10', '--topics', '3'], ['--pubsub', '-s', '15'],
    ['--sse', '--subscribers', '10', '--topics', '3'], ['--sse', '--sse-path', 'sse'],
    ['--sse', '--sse-path', '/sse?x=1'], ['--sse', '--binary'], ['--sse', '--idle', '--deflate'],
    ['--poll', '--subscribers', '10', '--topics', '3'], ['--poll', '--poll-path', 'poll'],
    ['--poll', '--idle'], ['--poll', '--sse'], ['--poll', '--pubsub']];
  for (const args of bad) {
    assert.equal(await benchStatus(['ws://127.0.0.1:1/pubsub', ...args]), 2, args.join(' '));
  }
});
