// Headless Chromium uses the chat page `duplex serve --threads 2` serves at /chat: two pages pick
// nicknames and the same room and talk; a third comes later and sees the history; one leaves.
// Both transcripts and member lists are checked exactly, and nothing a peer sent becomes HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServer } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { launchBrowser } from './support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const transcript = (page) =>
  page.$$eval('#log .line', (lines) => lines.map((l) => l.textContent));
const members = (page) => page.$$eval('#members li', (items) => items.map((i) => i.textContent));

async function waitForLines(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#log .line').length >= n, count);
}

async function joinAs(page, url, nick, room) {
  await page.goto(url);
  await page.fill('#nick', nick);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
  await waitForLines(page, 1);
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

test('two browsers chat in one room', { timeout: 90_000 }, async () => {
  const server = await startServer(['--threads', '2']);
  const browser = await launchBrowser();
  try {
    const url = `http://127.0.0.1:${server.port}/chat`;
    const bob = '<b>bob</b>';
    const injected = '<img src=x onerror="window.injected=1"> hi & bye';
    const ann = await browser.newPage();
    const other = await browser.newPage();

    await joinAs(ann, url, 'ann', 'lobby');
    assert.deepEqual(await members(ann), ['ann']);
    await joinAs(other, url, bob, 'lobby');
    await waitForLines(ann, 2);

    await say(ann, 'hello bob ✓');
    await waitForLines(other, 2);
    await say(other, injected);
    await waitForLines(ann, 4);
    await waitForLines(other, 3);

    assert.deepEqual(await transcript(ann), [
      'You joined lobby as ann',
      `${bob} joined`,
      'ann: hello bob ✓',
      `${bob}: ${injected}`,
    ]);
    assert.deepEqual(await transcript(other), [
      `You joined lobby as ${bob}`,
      'ann: hello bob ✓',
      `${bob}: ${injected}`,
    ]);
    // The server sorts members by their bytes: '<' comes before 'a'.
    assert.deepEqual(await members(ann), [bob, 'ann']);
    assert.deepEqual(await members(other), [bob, 'ann']);
    for (const page of [ann, other]) {
      assert.equal(await page.$$eval('#log b, #log img, #members b', (e) => e.length), 0);
      assert.equal(await page.evaluate(() => window.injected), undefined);
    }
    // Each page marks its own lines.
    assert.deepEqual(await ann.$$eval('#log .mine', (l) => l.map((e) => e.textContent)),
      ['ann: hello bob ✓']);

    // A newcomer sees the history, then everyone sees it arrive.
    const cid = await browser.newPage();
    await joinAs(cid, url, 'cid', 'lobby');
    await waitForLines(cid, 3);
    assert.deepEqual(await transcript(cid), [
      'ann: hello bob ✓',
      `${bob}: ${injected}`,
      'You joined lobby as cid',
    ]);
    assert.equal(await cid.$$eval('#log .history', (l) => l.length), 2);
    await waitForLines(ann, 5);
    await waitForLines(other, 4);
    assert.deepEqual(await members(cid), [bob, 'ann', 'cid']);

    // A nickname taken in the room: the page says so and stays on the form.
    // Chromium logs the refused handshake: that page expects exactly this error.
    const again = await browser.newPage({ expectedErrors: [/Unexpected response code: 409/] });
    await again.goto(url);
    await again.fill('#nick', 'ann');
    await again.fill('#room', 'lobby');
    await again.click('#join');
    await again.waitForFunction(() => !document.getElementById('join-error').hidden);
    assert.equal(await again.textContent('#join-error'),
      'Could not join lobby as ann: that nickname is probably taken in this room.');
    // A bad one is caught before connecting.
    await again.fill('#nick', ' ann');
    await again.click('#join');
    assert.equal(await again.textContent('#join-error'), 'nickname begins or ends with a space');

    // bob leaves.
    await other.click('#leave');
    await waitForLines(other, 5);
    await waitForLines(ann, 6);
    assert.deepEqual((await transcript(other)).slice(3), ['cid joined', 'You left lobby']);
    assert.deepEqual(await transcript(ann), [
      'You joined lobby as ann',
      `${bob} joined`,
      'ann: hello bob ✓',
      `${bob}: ${injected}`,
      'cid joined',
      `${bob} left`,
    ]);
    await ann.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
    assert.deepEqual(await members(ann), ['ann', 'cid']);

    mkdirSync(path.join(repo, 'artifacts'), { recursive: true });
    await ann.screenshot({ path: path.join(repo, 'artifacts/chat.png') });
    await browser.assertNoPageErrors();
  } finally {
    await browser.close();
    await stopServer(server);
  }
});
