// A newcomer's run (issue 13): `duplex serve` started with its defaults, as scripts/serve.sh
// starts it, then used the way a person would, with a quiet pause longer than every timeout
// before each step: curl, the echo page, the chat page and the Socket.IO, SockJS and STOMP chat
// pages in Chromium,
// `duplex connect`, and
// the same over https:// and wss://. Only the port, the host (loopback, as every test) and the
// timeouts are set: lowered so the test stays short, and `--threads 2` so that both loops sleep
// through every pause. It guards against a loop whose clock went stale while it slept: after a
// quiet spell longer than --handshake-timeout the first connection on each loop was dropped
// (curl: "Empty reply from server" or "Connection reset by peer"; Chromium:
// ERR_CONNECTION_RESET; duplex connect: "connection closed during the handshake").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startServer, certs, duplexBin } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { launchBrowser } from '../browser/support.mjs';

// Every timeout `duplex serve --help` lists, lowered. The idle timeout is the longest: the test
// types into the echo page within it, as a person types within the default two minutes. On a
// loaded machine Chromium and the test's round trips to it can take over half a second between
// the page's 'open' and its first message (a 0.6 s idle timeout closed the echo page there once).
const TIMEOUTS = {
  '--handshake-timeout': 0.3,
  '--close-timeout': 0.3,
  '--idle-timeout': 1.5,
  '--poll-timeout': 0.3,
  // Chromium on a loaded machine may answer a ping later than 0.3 s (see socketio_page.test).
  '--socketio-ping-timeout': 1,
};
// Not a timeout, but it bounds the Socket.IO heartbeat the pauses must outlast.
const SOCKETIO_PING_INTERVAL = 0.3;
// Longer than every timeout, and over 1 s: over TLS each loop also wakes every second (an idle
// sweep), so a pause of 2 s leaves the loops asleep for 1 s, longer than --handshake-timeout,
// even right after a start.
const PAUSE_MS = 2000;
// Fresh connections in a row after a pause: each loop gets some (the kernel spreads them).
const FRESH_HTTP = 8;
const FRESH_WS = 4;
const COMMAND_TIMEOUT_MS = 10_000;

// Not timeouts either, but SockJS's heartbeat and the wait for a polling client's next request:
// the pauses outlast both.
const SOCKJS = ['--sockjs-heartbeat-delay', '0.5', '--sockjs-disconnect-delay', '1'];
const FLAGS = ['--threads', '2', ...Object.entries(TIMEOUTS).flatMap(([f, s]) => [f, String(s)]),
  '--socketio-ping-interval', String(SOCKETIO_PING_INTERVAL), ...SOCKJS];

// A person's shell has no proxy for 127.0.0.1; neither do the commands run here.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)));

// Servers still running if the process exits early (a failed start, a test timeout).
const running = new Set();
process.on('exit', () => { for (const server of running) server.proc.kill('SIGKILL'); });

async function serve(flags) {
  const server = await startServer(flags);
  running.add(server);
  return server;
}

async function stop(server) {
  if (!server) return;
  try {
    await stopServer(server);
  } finally {
    running.delete(server);
  }
}

/** Runs a command to completion (killed after COMMAND_TIMEOUT_MS): {code, stdout, stderr}. */
function run(command, args) {
  return new Promise((resolve) => {
    execFile(command, args, { env: ENV, timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (error.code ?? error.signal) : 0;
        resolve({ code, stdout, stderr, shown: `${command} ${args.join(' ')}` });
      });
  });
}

const pause = () => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

/** After a quiet pause: `count` curls in a row of `url`, each one 200. */
async function curlAfterPause(url, count, extra = []) {
  await pause();
  for (let i = 1; i <= count; i++) {
    const got = await run('curl', ['-sS', '--max-time', '5', ...extra, '-o', '/dev/null',
      '-w', '%{http_code}', url]);
    assert.deepEqual({ code: got.code, status: got.stdout, stderr: got.stderr },
      { code: 0, status: '200', stderr: '' }, `curl ${i} of ${count} after a quiet pause`);
  }
}

/** After a quiet pause: `count` runs in a row of `duplex connect URL -x hi -w 1`, each echoed. */
async function connectAfterPause(url, count, extra = []) {
  await pause();
  for (let i = 1; i <= count; i++) {
    const got = await run(duplexBin(), ['connect', url, ...extra, '-x', 'hi', '-w', '1']);
    assert.deepEqual({ code: got.code, stdout: got.stdout, stderr: got.stderr },
      { code: 0, stdout: '< hi\n', stderr: '' }, `${got.shown}: run ${i} of ${count}`);
  }
}

test('the test lowers every timeout duplex serve --help lists, and pauses longer', async () => {
  const help = await run(duplexBin(), ['serve', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const listed = [...help.stdout.matchAll(/^\s+(--[a-z-]*timeout)\b/gm)].map((m) => m[1]);
  assert.deepEqual(listed.sort(), Object.keys(TIMEOUTS).sort());
  for (const seconds of Object.values(TIMEOUTS)) assert.ok(PAUSE_MS > seconds * 1000);
});

// Each step is a test of its own, so a run shows every step that fails.
describe('a newcomer uses duplex serve', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let http;
  before(async () => {
    server = await serve(FLAGS);
    http = `http://127.0.0.1:${server.port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    try {
      await browser?.close();
    } finally {
      await stop(server);
    }
  });

  // A page for one step, closed after it so that the next pause is quiet.
  async function onPage(fn) {
    await pause();
    const page = await browser.newPage();
    try {
      await fn(page);
      await browser.assertNoPageErrors();
    } finally {
      await page.close();
    }
  }

  test('curl GET / after a quiet pause', () => curlAfterPause(`${http}/`, FRESH_HTTP));

  test('the echo page after a quiet pause: a message comes back', () => onPage(async (page) => {
    assert.equal((await page.goto(`${http}/`)).status(), 200);
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
    await page.fill('#message', 'hello, I am new here ✓');
    await page.click('#send');
    // Waits for the echo, or for the page to show it lost the connection (then says so).
    await page.waitForFunction(() => document.querySelector('.received')
      || document.getElementById('state').textContent !== 'open');
    assert.deepEqual({ state: await page.textContent('#state'),
      received: await page.locator('.received').allTextContents() },
    { state: 'open', received: ['< hello, I am new here ✓'] },
    `the page's log: ${await page.locator('#log').textContent()}`);
  }));

  test('/chat after a quiet pause: it loads and joins a room', () => onPage(async (page) => {
    assert.equal((await page.goto(`${http}/chat`)).status(), 200);
    await page.fill('#nick', 'newcomer');
    await page.fill('#room', 'lobby');
    await page.click('#join');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
    await page.waitForFunction(() => [...document.querySelectorAll('#log .line')]
      .some((line) => line.textContent === 'You joined lobby as newcomer'));
  }));

  test('duplex connect ws://.../echo -x hi -w 1 after a quiet pause', () =>
    connectAfterPause(`ws://127.0.0.1:${server.port}/echo`, FRESH_WS));

  test('/socketio/chat after a quiet pause: the served client connects, upgrades, and a ' +
    'message comes back; the page stays connected through another pause', () =>
    onPage(async (page) => {
      assert.equal((await page.goto(`${http}/socketio/chat`)).status(), 200);
      await page.waitForFunction(() => document.getElementById('state').textContent === 'connected');
      await page.waitForFunction(() => document.getElementById('transport').textContent === '(websocket)');
      await page.fill('#input', 'hello from a newcomer ✓');
      await page.click('#send');
      await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1);
      assert.equal(await page.textContent('#messages li'), 'hello from a newcomer ✓');
      await pause();
      assert.equal(await page.textContent('#state'), 'connected');
      await page.fill('#input', 'still here');
      await page.click('#send');
      await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 2);
    }));

  for (const transport of ['websocket', 'xhr-polling']) {
    test(`/sockjs/chat.html?transport=${transport} after a quiet pause: the served sockjs-client ` +
      'opens, a message comes back; the page stays open through another pause', () =>
      onPage(async (page) => {
        assert.equal((await page.goto(`${http}/sockjs/chat.html?transport=${transport}`)).status(),
          200);
        await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
        assert.equal(await page.textContent('#transport'), `(${transport})`);
        await page.fill('#input', 'hello over SockJS ✓');
        await page.click('#send');
        await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1);
        assert.equal(await page.textContent('#messages li'), 'hello over SockJS ✓');
        await pause();
        assert.equal(await page.textContent('#state'), 'open');
        await page.fill('#input', 'still here');
        await page.click('#send');
        await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 2);
      }));
  }

  test('/stomp/chat after a quiet pause: the served @stomp/stompjs connects and a message ' +
    'comes back', () => onPage(async (page) => {
    assert.equal((await page.goto(`${http}/stomp/chat`)).status(), 200);
    await page.waitForFunction(() => document.getElementById('state').textContent === 'connected');
    assert.equal(await page.textContent('#transport'), '(STOMP 1.2 over WebSocket)');
    // The page subscribes in the same task that shows 'connected': its SEND comes after.
    await page.fill('#input', 'hello over STOMP ✓');
    await page.click('#send');
    await page.waitForFunction(() => document.querySelectorAll('#messages li').length >= 1);
    assert.equal(await page.textContent('#messages li'), 'hello over STOMP ✓');
  }));

  test('curl GET / again after a quiet pause', () => curlAfterPause(`${http}/`, FRESH_HTTP));
});

describe('the same over https:// and wss://', { timeout: 60_000 }, () => {
  let server;
  let ca;
  before(async () => {
    const dir = certs();
    ca = path.join(dir, 'ca.pem');
    server = await serve([...FLAGS, '--tls-cert', path.join(dir, 'server.pem'),
      '--tls-key', path.join(dir, 'server.key')]);
  });
  after(() => stop(server));

  test('curl GET https://.../ after a quiet pause', () =>
    curlAfterPause(`https://127.0.0.1:${server.port}/`, FRESH_HTTP, ['--cacert', ca]));

  test('duplex connect wss://.../echo -x hi -w 1 after a quiet pause', () =>
    connectAfterPause(`wss://127.0.0.1:${server.port}/echo`, FRESH_WS, ['--ca-file', ca]));
});

after(() => assert.equal(running.size, 0, 'every server was stopped'));
