// `duplex bench --pubsub` for a second against real publish/subscribe servers (the Node ws peer,
// duplex serve's /pubsub on one thread and on two): the generator's exact accounting (every
// publish of the window delivered to every subscriber of its topic, no error) and its checks (a
// server that does not speak the protocol is reported). Figures are never asserted here;
// bench/run prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/peers/free_port.mjs';
import { duplexBin, startServer, withTimeout } from '../interop/node/helpers.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEERS = path.join(REPO, 'bench', 'peers');

// Starts a Node peer (`node SCRIPT PORT`) and resolves once it printed `ready PORT`.
async function startPeer(script) {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(PEERS, script), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let out = '';
  await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes(`ready ${port}\n`)) resolve();
    });
    exited.then((code) => reject(new Error(`${script} exited with ${code} before ready`)));
  }), 10_000, `${script} start`);
  return {
    port,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await withTimeout(exited, 10_000, `${script} exit`);
    },
  };
}

// Runs the generator and resolves with its exit status and its --json report.
function bench(port, args) {
  return new Promise((resolve, reject) => {
    execFile(duplexBin(), ['bench', `ws://127.0.0.1:${port}/pubsub`, '--pubsub', '--json', '-q',
      ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
      if (!line) return reject(new Error(`no JSON report (${err?.message})\n${stderr}`));
      resolve({ status: err ? err.code : 0, report: JSON.parse(line) });
    });
  });
}

const kLoad = ['--subscribers', '20', '--topics', '2', '--publishers', '2', '-k', '4', '-s', '100',
  '-d', '1', '-w', '0.2'];

test('against the Node ws peer: every publish reaches every subscriber of its topic', async () => {
  const peer = await startPeer('ws_pubsub.mjs');
  try {
    await expectExactRun(peer.port);
  } finally {
    await peer.stop();
  }
});

// The exact accounting of one run against a server on `port`.
async function expectExactRun(port) {
  const { status, report } = await bench(port, kLoad);
  assert.deepEqual(report.error_samples, []);
  assert.equal(report.errors, 0);
  assert.equal(status, 0);
  assert.equal(report.opened, 22);
  assert.equal(report.subscribers_per_topic, 10);
  assert.ok(report.publishes > 0, 'something was published');
  assert.equal(report.deliveries, report.publishes * 10);
  assert.equal(report.undelivered, 0);
  assert.ok(report.latency_us.p50 > 0);
}

for (const threads of ['1', '2']) {
  test(`against duplex serve --threads ${threads}: every publish reaches every subscriber`,
    async () => {
      const server = await startServer(['--threads', threads]);
      try {
        await expectExactRun(server.port);
      } finally {
        const { code } = await server.stop();
        assert.equal(code, 0, server.output());
      }
    });
}

test('against an echo server: the echoed subscribe is reported, nothing is measured', async () => {
  const peer = await startPeer('ws_echo.mjs');
  try {
    const { status, report } = await bench(peer.port, kLoad);
    assert.equal(status, 1);
    assert.ok(report.errors >= 1);
    assert.match(report.error_samples[0],
      /^expected \{"type":"subscribed","topic":"t[01]"\}, got /);
    assert.equal(report.publishes, 0);
    assert.equal(report.deliveries, 0);
  } finally {
    await peer.stop();
  }
});

test('bad arguments: topics must divide subscribers, data holds the 16-digit id', async () => {
  for (const args of [['--subscribers', '10', '--topics', '3'], ['-s', '15']]) {
    const status = await new Promise((resolve) => {
      execFile(duplexBin(), ['bench', 'ws://127.0.0.1:1/pubsub', '--pubsub', ...args],
        { timeout: 10_000 }, (err) => resolve(err ? err.code : 0));
    });
    assert.equal(status, 2, args.join(' '));
  }
});
