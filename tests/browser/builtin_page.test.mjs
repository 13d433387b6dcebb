// Headless Chromium uses the page `duplex serve` serves at / : it connects with the browser's
// WebSocket, echoes a message, reconnects, and sees the server's 1001 on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launchBrowser } from './support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const duplexBin = process.env.DUPLEX_BIN ?? path.join(repo, 'build/release/duplex');

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(duplexBin, ['serve', '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error('duplex serve did not start')), 10000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/ws:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`duplex serve exited with ${code}`)));
  });
}

test('the built-in page echoes through the browser WebSocket', { timeout: 60000 }, async () => {
  const { child, port } = await startServer();
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');

    await page.fill('#message', 'hello from chromium ✓');
    await page.click('#send');
    await page.waitForSelector('.received');
    assert.equal(await page.textContent('.received'), '< hello from chromium ✓');

    await page.click('#reconnect');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.info')].some((e) => e.textContent === 'closed: code 1000'));
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');

    mkdirSync(path.join(repo, 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'artifacts/builtin-page.png') });

    child.kill('SIGTERM');
    await page.waitForFunction(() => [...document.querySelectorAll('.info')].some(
      (e) => e.textContent === 'closed: code 1001 (server shutting down)'), null, { timeout: 10000 });
    assert.equal(await exited, 0);
    await browser.assertNoPageErrors();
  } finally {
    await browser.close();
    child.kill('SIGKILL');
  }
});
