// Headless Chromium, on the page `duplex serve` serves at /, opens
// `new WebSocket(url, ['chat', 'superchat'])`: without --protocol the server takes the first
// offer ("chat"), with `--protocol superchat` that one; either way the echo comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { launchBrowser } from './support.mjs';

// In the page: connect with the offer, echo one message, close; bounded by `ms`.
function offerAndEcho([path, protocols, text, ms]) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo within ${ms} ms`)), ms);
    const ws = new WebSocket(`ws://${location.host}${path}`, protocols);
    let echoed;
    ws.onopen = () => ws.send(text);
    ws.onerror = () => { clearTimeout(timer); reject(new Error('WebSocket error')); };
    ws.onmessage = (event) => { echoed = event.data; ws.close(1000); };
    ws.onclose = (event) => {
      clearTimeout(timer);
      resolve({ protocol: ws.protocol, echoed, code: event.code });
    };
  });
}

for (const { flags, path, expected } of [
  { flags: [], path: '/echo', expected: 'chat' },
  { flags: [], path: '/', expected: 'chat' },
  { flags: ['--protocol', 'superchat'], path: '/echo', expected: 'superchat' },
]) {
  const name = `offer [chat, superchat] at ${path} with [${flags.join(' ')}] -> ${expected}`;
  test(name, { timeout: 60000 }, async () => {
    const server = await startServer(flags);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const response = await page.goto(`http://127.0.0.1:${server.port}/`);
      assert.equal(response.status(), 200);
      const got = await page.evaluate(offerAndEcho,
        [path, ['chat', 'superchat'], 'hello with a subprotocol ✓', 10000]);
      assert.deepEqual(got, { protocol: expected, echoed: 'hello with a subprotocol ✓', code: 1000 });
      await browser.assertNoPageErrors();
    } finally {
      await browser.close();
      await stopServer(server);
    }
  });
}
