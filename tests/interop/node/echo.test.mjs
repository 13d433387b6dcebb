// Echo interop with the `ws` client (without compression; see deflate.test.mjs): sizes, types,
// fragmentation, ping/pong and many concurrent clients.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, inbox, closed, withTimeout, textOfBytes, binaryOfBytes, WebSocket,
} from './helpers.mjs';

const SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024];

describe('ws client: echo', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  async function echoOnce(path, payload, binary) {
    const ws = await connect(server.url.replace(/\/$/, path));
    try {
      const box = inbox(ws);
      ws.send(payload, { binary });
      const msg = await box.next();
      return msg;
    } finally {
      ws.close(1000);
    }
  }

  for (const size of SIZES) {
    test(`text of ${size} B is echoed as text with the same bytes`, async () => {
      const text = textOfBytes(size);
      assert.equal(Buffer.byteLength(text), size);
      const msg = await echoOnce('/', text, false);
      assert.equal(msg.isBinary, false);
      assert.deepEqual(msg.data, Buffer.from(text, 'utf8'));
      assert.equal(msg.data.toString('utf8'), text);
    });

    test(`binary of ${size} B is echoed as binary with the same bytes`, async () => {
      const bytes = binaryOfBytes(size);
      const msg = await echoOnce('/', bytes, true);
      assert.equal(msg.isBinary, true);
      assert.equal(msg.data.length, size);
      assert.ok(msg.data.equals(bytes), 'binary payload differs');
    });
  }

  test('the /echo path echoes too', async () => {
    const text = 'héllo wörld ✓ 😀';
    const t = await echoOnce('/echo', text, false);
    assert.equal(t.isBinary, false);
    assert.equal(t.data.toString('utf8'), text);
    const bytes = binaryOfBytes(300);
    const b = await echoOnce('/echo', bytes, true);
    assert.equal(b.isBinary, true);
    assert.ok(b.data.equals(bytes));
  });

  test('several messages on one connection come back in order', async () => {
    const ws = await connect(server.url);
    const box = inbox(ws);
    const sent = [];
    for (let i = 0; i < 30; i++) {
      const binary = i % 2 === 1;
      const payload = binary ? binaryOfBytes(i * 37) : `msg ${i} ✓ ${'é'.repeat(i)}`;
      sent.push({ payload, binary });
      ws.send(payload, { binary });
    }
    for (const { payload, binary } of sent) {
      const msg = await box.next();
      assert.equal(msg.isBinary, binary);
      assert.deepEqual(msg.data, Buffer.from(payload));
    }
    ws.close(1000);
  });

  test('fragmented binary message is echoed as one message', async () => {
    const ws = await connect(server.url);
    const box = inbox(ws);
    const parts = [binaryOfBytes(10), binaryOfBytes(0), binaryOfBytes(200), binaryOfBytes(70_000)];
    parts.forEach((p, i) => ws.send(p, { binary: true, fin: i === parts.length - 1 }));
    const msg = await box.next();
    assert.equal(msg.isBinary, true);
    assert.ok(msg.data.equals(Buffer.concat(parts)));
    ws.close(1000);
  });

  test('fragmented text message (UTF-8 split across fragments) is echoed as one message', async () => {
    const ws = await connect(server.url);
    const box = inbox(ws);
    const whole = Buffer.from('héllo wörld ✓ 😀 — fragmented', 'utf8');
    // Cut inside the 4-byte emoji and inside the 2-byte é, so no fragment is valid UTF-8 alone.
    const emoji = whole.indexOf(Buffer.from('😀'));
    const cuts = [2, emoji + 2, whole.length];
    let start = 0;
    cuts.forEach((end, i) => {
      ws.send(whole.subarray(start, end), { binary: false, fin: i === cuts.length - 1 });
      start = end;
    });
    const msg = await box.next();
    assert.equal(msg.isBinary, false);
    assert.ok(msg.data.equals(whole));
    ws.close(1000);
  });

  test('ping with a payload is answered by a pong with the same payload', async () => {
    const ws = await connect(server.url);
    for (const payload of [Buffer.from('ping-payload ✓'), Buffer.alloc(0), binaryOfBytes(125)]) {
      const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), undefined, 'pong');
      ws.ping(payload);
      const got = await pong;
      assert.ok(Buffer.from(got).equals(payload), `pong payload differs for ${payload.length} B`);
    }
    // Messages still flow after control frames.
    const box = inbox(ws);
    ws.send('after ping');
    assert.equal((await box.next()).data.toString(), 'after ping');
    ws.close(1000);
  });

  test('no subprotocol answered when the client offers none', async () => {
    const ws = await connect(server.url);
    assert.equal(ws.protocol, '');
    ws.close(1000);
  });

  test('20 concurrent clients x 50 echoes each get exactly their own messages in order', async () => {
    const CLIENTS = 20;
    const MESSAGES = 50;
    const runClient = async (c) => {
      const ws = await connect(server.url);
      const box = inbox(ws);
      const got = [];
      // Keep a few messages in flight so the server interleaves clients.
      const expected = [];
      for (let i = 0; i < MESSAGES; i++) {
        const binary = i % 5 === 4;
        const text = `client ${c} message ${i} ✓`;
        const payload = binary ? Buffer.from(text) : text;
        expected.push({ text, binary });
        ws.send(payload, { binary });
        if (i % 10 === 9) {
          while (got.length <= i) got.push(await box.next());
        }
      }
      while (got.length < MESSAGES) got.push(await box.next());
      const done = closed(ws);
      ws.close(1000);
      assert.equal((await done).code, 1000);
      return { got, expected };
    };
    const results = await withTimeout(
      Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(c))), 60_000, 'all clients');
    for (const { got, expected } of results) {
      assert.equal(got.length, expected.length);
      got.forEach((msg, i) => {
        assert.equal(msg.isBinary, expected[i].binary);
        assert.equal(msg.data.toString('utf8'), expected[i].text);
      });
    }
  });
});
