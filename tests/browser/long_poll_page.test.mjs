// Headless Chromium long-polls `duplex serve` with fetch, from a page the server serves: a loop
// of GET /poll?topic=news&cursor=<the last answer's cursor>. Messages published over HTTP while
// it waits, between its polls, in bursts and after quiet spells longer than --poll-timeout all
// arrive, in order, once each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { launchBrowser } from './support.mjs';

const POLL_TIMEOUT_S = 0.4;

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>long poll</title>
<script>
  window.got = [];
  window.polls = 0;
  let cursor = '';
  (async () => {
    while (true) {
      const query = cursor ? '&cursor=' + encodeURIComponent(cursor) : '';
      const answer = await (await fetch('/poll?topic=news' + query)).json();
      cursor = answer.cursor;
      for (const m of answer.messages) window.got.push(m.data);
      if (answer.lost.length) window.got.push('LOST');
      window.polls++;
    }
  })();
</script>`;

async function publish(port, text) {
  const response = await fetch(`http://127.0.0.1:${port}/publish?topic=news`, {
    method: 'POST', body: text,
  });
  assert.equal(response.status, 204);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a fetch long-poll loop in Chromium gets every message once, in order', { timeout: 60000 },
  async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'duplex-poll-'));
    writeFileSync(path.join(folder, 'poll.html'), PAGE);
    const server = await startServer(['--threads', '2', '--static', folder,
      '--poll-timeout', String(POLL_TIMEOUT_S), '--history', '100']);
    const { port } = server;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/poll.html`);
      // Quiet first: polls time out and come back with the cursor.
      await page.waitForFunction(() => window.polls >= 2, null, { timeout: 10000 });
      const sent = [];
      // A burst: some answer a waiting poll, the rest wait in the history for the next poll.
      for (let i = 0; i < 20; i++) {
        sent.push(`burst ${i}`);
        await publish(port, sent.at(-1));
      }
      await page.waitForFunction((n) => window.got.length >= n, sent.length, { timeout: 10000 });
      // A quiet spell longer than the poll timeout, then one by one, with pauses between.
      await sleep(POLL_TIMEOUT_S * 2500);
      for (let i = 0; i < 5; i++) {
        sent.push(`slow ${i}`);
        await publish(port, sent.at(-1));
        await sleep(i * 150);
      }
      await page.waitForFunction((n) => window.got.length >= n, sent.length, { timeout: 10000 });
      await sleep(POLL_TIMEOUT_S * 1500);  // nothing more, nothing twice
      assert.deepEqual(await page.evaluate(() => window.got), sent);
      await browser.assertNoPageErrors();
    } finally {
      await browser.close();
      await stopServer(server);  // exits 0: under ASan, without leaks
      rmSync(folder, { recursive: true, force: true });
    }
  });
