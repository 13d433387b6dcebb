// What the bench_smoke suites share: starting a bench/peers Node script, running `duplex bench`
// for its --json report, and the same checks against a peer and duplex serve.
import { spawn, execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/peers/free_port.mjs';
import { duplexBin, startServer, withTimeout } from '../interop/node/helpers.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEERS = path.join(REPO, 'bench', 'peers');

// Starts a Node peer (`node SCRIPT PORT`) and resolves once it printed `ready PORT`; pid is the
// peer's own (for --server-pid).
export async function startPeer(script) {
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
    pid: proc.pid,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return withTimeout(exited, 10_000, `${script} exit`);
    },
  };
}

// Runs `duplex bench ws://127.0.0.1:PORT<urlPath> --json -q ARGS...` and resolves with its exit
// status and its --json report.
export function bench(port, args, urlPath = '/pubsub') {
  return new Promise((resolve, reject) => {
    execFile(duplexBin(), ['bench', `ws://127.0.0.1:${port}${urlPath}`, '--json', '-q', ...args],
      { timeout: 60_000 }, (err, stdout, stderr) => {
        const line = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
        if (!line) return reject(new Error(`no JSON report (${err?.message})\n${stderr}`));
        resolve({ status: err ? err.code : 0, report: JSON.parse(line) });
      });
  });
}

// The exit status of `duplex bench ARGS...` (2 for a bad argument).
export function benchStatus(args) {
  return new Promise((resolve) => {
    execFile(duplexBin(), ['bench', ...args], { timeout: 10_000 },
      (err) => resolve(err ? err.code : 0));
  });
}

// Registers `check(port, pid)` as one test against the Node peer `script` and one each against
// duplex serve on one thread and on two (`what` ends the tests' names); each server must exit 0.
export function testEveryServer(peerName, script, what, check) {
  test(`against the ${peerName} peer: ${what}`, async () => {
    const peer = await startPeer(script);
    try {
      await check(peer.port, peer.pid);
    } finally {
      assert.equal(await peer.stop(), 0);
    }
  });
  for (const threads of ['1', '2']) {
    test(`against duplex serve --threads ${threads}: ${what}`, async () => {
      const server = await startServer(['--threads', threads]);
      try {
        await check(server.port, server.proc.pid);
      } finally {
        const { code } = await server.stop();
        assert.equal(code, 0, server.output());
      }
    });
  }
}
