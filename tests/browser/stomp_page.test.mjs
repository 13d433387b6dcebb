// duplex serve's STOMP chat page (/stomp/chat, @stomp/stompjs from /stomp/stomp.umd.min.js) in
// headless Chromium: one page over WebSocket (/stomp), one over SockJS (?transport=sockjs,
// /stomp-sockjs), and a Node stompjs client in the same room; every message reaches all three,
// also after a quiet pause, and a /pubsub publish to the room's topic reaches the pages too.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, WebSocket, withTimeout } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { stompClient, collect, deactivate } from '../interop/stomp/support.mjs';
import { launchBrowser } from './support.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the STOMP chat page', { timeout: 90_000 }, () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer(['--threads', '2']);
    browser = await launchBrowser();
  });
  after(async () => {
    try {
      await browser?.close();
    } finally {
      await stopServer(server);
    }
  });

  // The page's messages once it shows `count` of them (or its state and error when it does not).
  async function messagesAtLeast(page, count) {
    try {
      await page.waitForFunction((n) => document.querySelectorAll('#messages li').length >= n,
        count, { timeout: 10_000 });
    } catch (e) {
      throw new Error(`the page shows ${JSON.stringify(await page.locator('#messages li').allTextContents())}, ` +
        `state ${await page.textContent('#state')}, error ${await page.textContent('#error')}: ${e.message}`);
    }
    return page.locator('#messages li').allTextContents();
  }

  test('two pages (WebSocket, SockJS) and a Node client share the room, before and after a ' +
    'quiet pause; /pubsub reaches it too', async () => {
    const http = `http://127.0.0.1:${server.port}`;
    const pages = [];
    for (const [query, over] of [['', 'WebSocket'], ['?transport=sockjs', 'SockJS']]) {
      const page = await browser.newPage();
      pages.push(page);
      assert.equal((await page.goto(`${http}/stomp/chat${query}`)).status(), 200);
      await page.waitForFunction(() => document.getElementById('state').textContent === 'connected');
      assert.equal(await page.textContent('#transport'), `(STOMP 1.2 over ${over})`);
    }
    const node = await stompClient(`ws://127.0.0.1:${server.port}/stomp`);
    const box = collect(node, '/topic/stomp-chat');
    try {
      await sleep(300);  // the pages' SUBSCRIBEs are on their way after CONNECTED
      await pages[0].fill('#input', 'from the WebSocket page ✓');
      await pages[0].click('#send');
      assert.deepEqual(await messagesAtLeast(pages[1], 1), ['from the WebSocket page ✓']);
      await pages[1].fill('#input', 'from the SockJS page');
      await pages[1].click('#send');
      for (const page of pages) {
        assert.deepEqual(await messagesAtLeast(page, 2),
          ['from the WebSocket page ✓', 'from the SockJS page']);
      }
      assert.deepEqual((await box.next(2)).map((m) => m.body),
        ['from the WebSocket page ✓', 'from the SockJS page']);
      await sleep(2500);  // a quiet spell: the pages stay connected through it
      node.publish({ destination: '/topic/stomp-chat', body: 'after the pause' });
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/pubsub`);
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 10_000, '/pubsub open');
      ws.send(JSON.stringify({ type: 'publish', topic: 'stomp-chat', data: 'from /pubsub' }));
      for (const page of pages) {
        const shown = await messagesAtLeast(page, 4);
        assert.deepEqual(shown.slice(2).sort(), ['after the pause', 'from /pubsub']);
        assert.equal(await page.textContent('#state'), 'connected');
      }
      ws.close();
      await browser.assertNoPageErrors();
    } finally {
      await deactivate(node);
      for (const page of pages) await page.close();
    }
  });
});
