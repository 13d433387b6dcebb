// Socket.IO in headless Chromium with the client `duplex serve` serves at /socket.io/socket.io.js:
// two pages of /socketio/chat on one server (same origin, polling then the upgrade) see each
// other's messages and a Node socket.io-client's, also after a quiet spell longer than the ping
// timeout; then a page of another origin reaches a server that lists it in --socketio-cors, and
// one that does not (its polling is refused by the browser, its WebSocket-only client connects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, withTimeout } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { launchBrowser } from './support.mjs';

// A ping every 0.3 s, answered within 1 s: a Chromium renderer on a loaded 2-core machine
// (ctest -j2 beside another browser) can stall for longer than 0.3 s, which a shorter timeout
// would turn into a "ping timeout" and a lost message.
const QUICK = ['--socketio-ping-interval', '0.3', '--socketio-ping-timeout', '1'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function say(page, text) {
  await page.fill('#input', text);
  await page.click('#send');
}

const messagesOf = (page) => page.$$eval('#messages li', (items) => items.map((li) => li.textContent));

// Waits for n messages on the page; a timeout says what the page shows instead.
async function messagesAtLeast(page, n) {
  try {
    await page.waitForFunction((count) => document.querySelectorAll('#messages li').length >= count,
      n, { timeout: 10_000 });
  } catch (error) {
    const state = await page.textContent('#state');
    const transport = await page.textContent('#transport');
    throw new Error(`${page.url()} shows ${JSON.stringify(await messagesOf(page))} (state ${state} ` +
      `${transport}) instead of ${n} messages: ${error.message}`);
  }
  return messagesOf(page);
}

test('two chat pages and a Node client share messages over the served socket.io.js',
  { timeout: 90_000 }, async () => {
    const server = await startServer(['--threads', '2', ...QUICK]);
    const browser = await launchBrowser();
    let node;
    try {
      const url = `http://127.0.0.1:${server.port}/socketio/chat`;
      const [a, b] = [await browser.newPage(), await browser.newPage()];
      await a.goto(url);
      await b.goto(url);
      for (const page of [a, b]) {
        await page.waitForFunction(() => document.getElementById('state').textContent === 'connected');
        await page.waitForFunction(() => document.getElementById('transport').textContent === '(websocket)',
          null, { timeout: 10_000 });
      }
      node = io(`http://127.0.0.1:${server.port}`, { forceNew: true });
      const nodeGot = [];
      node.on('chat message', (m) => nodeGot.push(m));
      await withTimeout(new Promise((resolve) => node.once('connect', resolve)), 5000, 'node connect');

      await say(a, 'hello from a ✓');
      await say(b, 'hello from b');
      node.emit('chat message', 'hello from node');
      const expected = ['hello from a ✓', 'hello from b', 'hello from node'];
      for (const page of [a, b]) assert.deepEqual((await messagesAtLeast(page, 3)).sort(), [...expected].sort());
      assert.deepEqual([...nodeGot].sort(), [...expected].sort());

      // Quiet for longer than ping interval + timeout, several times over: still connected.
      await sleep(2000);
      for (const page of [a, b]) {
        assert.equal(await page.textContent('#state'), 'connected');
      }
      await say(b, 'after the quiet');
      for (const page of [a, b]) assert.equal((await messagesAtLeast(page, 4))[3], 'after the quiet');
      await browser.assertNoPageErrors();
    } finally {
      node?.close();
      await browser.close();
      await stopServer(server);
    }
  });

const CROSS_PAGE = (target) => `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>cross-origin Socket.IO</title>
<script src="${target}/socket.io/socket.io.js"></script>
<script>
  window.results = {};
  window.tryConnect = (name, options) => new Promise((resolve) => {
    const socket = io('${target}', { reconnection: false, ...options });
    socket.on('connect', () => {
      socket.once('chat message', (m) => { window.results[name] = { got: m, transport: socket.io.engine.transport.name }; socket.close(); resolve(); });
      socket.emit('chat message', name + ' says hi');
    });
    socket.on('connect_error', (e) => { window.results[name] = { error: e.message }; socket.close(); resolve(); });
  });
</script>
</html>`;

test('a page of another origin: polling as --socketio-cors allows, WebSocket regardless',
  { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duplex_sio_page_'));
    const servers = [];
    const browser = await launchBrowser();
    try {
      const start = async (flags) => {
        const s = await startServer(['--threads', '1', ...QUICK, ...flags]);
        servers.push(s);
        return s;
      };
      const pages = await start(['--static', dir]);
      const origin = `http://127.0.0.1:${pages.port}`;
      const allowing = await start(['--socketio-cors', origin]);
      const refusing = await start([]);
      writeFileSync(path.join(dir, 'allowed.html'), CROSS_PAGE(`http://127.0.0.1:${allowing.port}`));
      writeFileSync(path.join(dir, 'refused.html'), CROSS_PAGE(`http://127.0.0.1:${refusing.port}`));

      const allowedPage = await browser.newPage();
      await allowedPage.goto(`${origin}/allowed.html`);
      await allowedPage.evaluate(() => window.tryConnect('polling first'));
      await allowedPage.evaluate(() => window.tryConnect('polling only', { transports: ['polling'] }));
      const allowed = await allowedPage.evaluate(() => window.results);
      assert.equal(allowed['polling first'].got, 'polling first says hi');
      assert.deepEqual(allowed['polling only'], { got: 'polling only says hi', transport: 'polling' });

      const at = String.raw`http://127\.0\.0\.1:${refusing.port}/socket\.io/\?EIO=4&transport=polling`;
      const refusedPage = await browser.newPage({
        expectedErrors: [
          new RegExp(String.raw`^console error: Access to XMLHttpRequest at '${at}.*' from origin ` +
            String.raw`'http://127\.0\.0\.1:${pages.port}' has been blocked by CORS policy`),
          new RegExp(String.raw`^request failed: ${at}.* \(net::ERR_FAILED\)$`),
          new RegExp(String.raw`^console error: Failed to load resource: net::ERR_FAILED`),
        ],
      });
      await refusedPage.goto(`${origin}/refused.html`);
      await refusedPage.evaluate(() => window.tryConnect('polling', { transports: ['polling'] }));
      await refusedPage.evaluate(() => window.tryConnect('websocket', { transports: ['websocket'] }));
      const refused = await refusedPage.evaluate(() => window.results);
      assert.deepEqual(refused.polling, { error: 'xhr poll error' });
      assert.deepEqual(refused.websocket, { got: 'websocket says hi', transport: 'websocket' });
      await browser.assertNoPageErrors();
    } finally {
      await browser.close();
      for (const s of servers) await stopServer(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });
