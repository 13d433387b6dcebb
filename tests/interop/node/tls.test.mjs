// The `ws` client over wss:// against `duplex serve --tls-cert/--tls-key`, trusting the test CA:
// echo at frame-length boundaries, many clients at once, the closing handshake, and a client
// that does not trust the CA being refused while another connection goes on.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, inbox, closed, textOfBytes, binaryOfBytes, testCa, WebSocket,
} from './helpers.mjs';

const SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024];

describe('ws client over wss', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer([], { tls: true }); });
  after(async () => { await server?.stop(); });

  const open = (path = '/', options = {}) =>
    connect(server.url.replace(/\/$/, path), [], { ca: testCa(), ...options });

  test('the server announces https:// and wss://', () => {
    assert.match(server.output(), /duplex serving https:\/\/127\.0\.0\.1:\d+\/ \(WebSocket echo at wss:\/\/127\.0\.0\.1:\d+\/ and wss:\/\/127\.0\.0\.1:\d+\/echo\)/);
  });

  for (const size of SIZES) {
    test(`text and binary of ${size} B are echoed with the same bytes`, async () => {
      const ws = await open('/echo');
      const box = inbox(ws);
      const text = textOfBytes(size);
      const bytes = binaryOfBytes(size);
      ws.send(text);
      ws.send(bytes, { binary: true });
      const t = await box.next();
      const b = await box.next();
      assert.equal(t.isBinary, false);
      assert.equal(t.data.toString('utf8'), text);
      assert.equal(b.isBinary, true);
      assert.ok(b.data.equals(bytes), 'binary payload differs');
      ws.close(1000);
    });
  }

  test('fifty clients at once each get their own echoes', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => open()));
    await Promise.all(clients.map(async (ws, i) => {
      const box = inbox(ws);
      for (let k = 0; k < 5; k++) ws.send(`client ${i} message ${k}`);
      for (let k = 0; k < 5; k++) {
        assert.equal((await box.next()).data.toString(), `client ${i} message ${k}`);
      }
      const done = closed(ws);
      ws.close(1000);
      assert.equal((await done).code, 1000);
    }));
  });

  test('client close 4001 is answered with 4001', async () => {
    const ws = await open();
    const done = closed(ws);
    ws.close(4001, 'bye ✓');
    assert.deepEqual(await done, { code: 4001, reason: '' });
  });

  test('a client that does not trust the CA is refused; an open connection goes on', async () => {
    const bystander = await open();
    const box = inbox(bystander);
    const refused = new WebSocket(server.url, { perMessageDeflate: false, ca: testCa('rogue-ca.pem') });
    const error = await new Promise((resolve) => refused.once('error', resolve));
    assert.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const defaultStore = new WebSocket(server.url, { perMessageDeflate: false });
    const error2 = await new Promise((resolve) => defaultStore.once('error', resolve));
    assert.equal(error2.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    bystander.send('still here');
    assert.equal((await box.next()).data.toString(), 'still here');
    bystander.close(1000);
  });
});
