// Headless Chromium opens the built-in page over https:// from `duplex serve --tls-cert/--tls-key`
// and echoes through the browser's WebSocket over wss://. The browser is told to accept exactly
// the test server's key (--ignore-certificate-errors-spki-list), not any certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServer, certs } from '../interop/node/helpers.mjs';
import { launchBrowser } from './support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function spkiHash(certFile) {
  const der = new X509Certificate(readFileSync(certFile)).publicKey
    .export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

test('the built-in page over https echoes through wss', { timeout: 60000 }, async () => {
  const server = await startServer([], { tls: true });
  const browser = await launchBrowser([
    `--ignore-certificate-errors-spki-list=${spkiHash(path.join(certs(), 'server.pem'))}`,
  ]);
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://localhost:${server.port}/`);
    assert.equal(response.status(), 200);
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
    assert.ok(await page.evaluate(() => [...document.querySelectorAll('.info')].some(
      (e) => e.textContent.startsWith('connected to wss://localhost:'))));

    await page.fill('#message', 'hello over wss ✓');
    await page.click('#send');
    await page.waitForSelector('.received');
    assert.equal(await page.textContent('.received'), '< hello over wss ✓');

    mkdirSync(path.join(repo, 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'artifacts/https-page.png') });
    await browser.assertNoPageErrors();
  } finally {
    await browser.close();
    await server.stop();
  }
});
