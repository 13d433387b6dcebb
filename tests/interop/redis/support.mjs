// Shared by the Redis cluster suite: a real redis-server (Debian's, scripts/setup.sh --test) on
// a free loopback port, with no persistence, that a test can kill and start again on the same
// port; redis-cli for what Redis itself says (PUBSUB NUMSUB, CHANNELS, MONITOR); `duplex serve
// --redis` nodes whose stderr lines a test waits for; /pubsub clients. Loopback only, every wait
// bounded, everything started is stopped by the test that started it.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import { startServer, connect, inbox, withTimeout, STEP_TIMEOUT_MS } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';

export { STEP_TIMEOUT_MS, withTimeout, stopServer };

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** The Redis channel a /pubsub topic travels on (duplex serve mounts /pubsub with "pubsub:"). */
export const topicChannel = (topic) => `duplex:topic:pubsub:${topic}`;

/** What a /pubsub subscriber receives for `data` published to `topic`. */
export const delivery = (topic, data) => JSON.stringify({ type: 'message', topic, data });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` (async, truthy when done) every 20 ms for at most `ms`; resolves its value. */
export async function eventually(check, label, ms = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${label}`);
    await sleep(20);
  }
}

/**
 * Starts redis-server on 127.0.0.1 (a free port, or `port`), without RDB or AOF files; resolves
 * once it accepts connections. The object has port, url, stop() (SIGTERM), kill() (SIGKILL, as
 * a crash), start() (again on the same port), cli(...args) and monitor().
 */
export async function startRedis({ port } = {}) {
  const redis = { port: port ?? await freePort(), proc: null, log: '' };
  redis.url = `redis://127.0.0.1:${redis.port}`;
  redis.start = async () => {
    const proc = spawn('redis-server', ['--port', String(redis.port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    redis.proc = proc;
    proc.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    let out = '';
    await withTimeout(new Promise((resolve, reject) => {
      proc.on('error', (e) => reject(new Error(`redis-server: ${e.message} (scripts/setup.sh --test installs it)`)));
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (d) => {
        out += d;
        redis.log += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      proc.exited.then(({ code }) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    }), STEP_TIMEOUT_MS, `redis-server on port ${redis.port}`);
  };
  const end = async (signal) => {
    const { proc } = redis;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await withTimeout(proc.exited, STEP_TIMEOUT_MS, `redis-server ${signal}`);
  };
  redis.stop = () => end('SIGTERM');
  redis.kill = () => end('SIGKILL');
  redis.cli = (...args) => new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args],
      { timeout: STEP_TIMEOUT_MS }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  /** Subscribers Redis counts for each channel (PUBSUB NUMSUB), as {channel: n}. */
  redis.numsub = async (...channels) => {
    const lines = (await redis.cli('PUBSUB', 'NUMSUB', ...channels)).trim().split('\n');
    const counts = {};
    for (let i = 0; i + 1 < lines.length; i += 2) counts[lines[i]] = Number(lines[i + 1]);
    return counts;
  };
  /** Channels with at least one subscriber that match `pattern`, sorted. */
  redis.channels = async (pattern = 'duplex:*') =>
    (await redis.cli('PUBSUB', 'CHANNELS', pattern)).split('\n').filter(Boolean).sort();
  /** Waits until Redis counts `n` subscribers of `channel`. */
  redis.waitNumsub = (channel, n) => eventually(async () => (await redis.numsub(channel))[channel] === n,
    `${n} subscribers of ${channel} in Redis`);
  /**
   * Every command Redis runs from now on (MONITOR), as [{args: [...]}]; stop() ends it. Only
   * what a test asserts is taken from it: the commands' names and first argument.
   */
  redis.monitor = async () => {
    const proc = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), 'MONITOR'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    const commands = [];
    let pending = '';
    let ok;
    const started = new Promise((resolve) => { ok = resolve; });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      pending += d;
      for (let end; (end = pending.indexOf('\n')) >= 0;) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (line === 'OK') { ok(); continue; }
        // 1700000000.123456 [0 127.0.0.1:5555] "PUBLISH" "channel" "..."
        const quoted = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
        if (quoted.length) commands.push({ name: quoted[0].toUpperCase(), args: quoted.slice(1) });
      }
    });
    await withTimeout(started, STEP_TIMEOUT_MS, 'redis-cli MONITOR');
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    return {
      commands,
      /** The commands of the nodes' kinds (PUBLISH, SUBSCRIBE, UNSUBSCRIBE) seen so far. */
      pubsub: () => commands.filter((c) => ['PUBLISH', 'SUBSCRIBE', 'UNSUBSCRIBE'].includes(c.name)),
      async stop() { proc.kill('SIGTERM'); await exited; },
    };
  };
  await redis.start();
  return redis;
}

/** The node's stderr lines that begin with "redis:". */
export function redisLines(node) {
  const stderr = node.output().split('--- stderr ---\n')[1] ?? '';
  return stderr.split('\n').filter((line) => line.startsWith('redis:'));
}

/** Waits until the node has logged `count` lines matching `re`; resolves them. */
export function waitForLine(node, re, count = 1, ms = STEP_TIMEOUT_MS) {
  return eventually(() => {
    const lines = redisLines(node).filter((line) => re.test(line));
    return lines.length >= count ? lines : null;
  }, `${count} line(s) ${re} from the node (has ${JSON.stringify(redisLines(node))})`, ms);
}

/** `duplex serve --threads 2 --redis URL ...flags`, resolved once it says it is connected. */
export async function startNode(redisUrl, flags = [], { connected = true } = {}) {
  const node = await startServer(['--threads', '2', '--redis', redisUrl, ...flags]);
  if (connected) await waitForLine(node, /^redis: connected to /);
  return node;
}

/** A /pubsub WebSocket of `node`; `box.next()` gives its messages as text. */
export async function pubsubClient(node) {
  const ws = await connect(`${node.url}pubsub`);
  const box = inbox(ws);
  const client = {
    ws,
    async next(ms) {
      const msg = await box.next(ms);
      assert.equal(msg.isBinary, false);
      return msg.data.toString('utf8');
    },
    async subscribe(topic) {
      ws.send(JSON.stringify({ type: 'subscribe', topic }));
      assert.equal(await client.next(), JSON.stringify({ type: 'subscribed', topic }));
    },
    async unsubscribe(topic) {
      ws.send(JSON.stringify({ type: 'unsubscribe', topic }));
      assert.equal(await client.next(), JSON.stringify({ type: 'unsubscribed', topic }));
    },
    publish(topic, data) { ws.send(JSON.stringify({ type: 'publish', topic, data })); },
    /** Reads `n` messages. */
    async take(n, ms) {
      const got = [];
      for (let i = 0; i < n; ++i) got.push(await client.next(ms));
      return got;
    },
    /** Asserts that nothing arrives within `ms`. */
    async nothingWithin(ms) {
      await assert.rejects(box.next(ms), /timed out/, 'no further message');
    },
    close() { ws.close(1000); },
  };
  return client;
}
