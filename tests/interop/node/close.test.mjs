// Closing handshake, message-size limit, subprotocol negotiation and SIGTERM shutdown with `ws`.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, inbox, closed, withTimeout, binaryOfBytes, textOfBytes, WebSocket,
} from './helpers.mjs';

describe('ws client: closing handshake', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  for (const code of [1000, 1001, 3000, 4999]) {
    test(`client close ${code} with a reason -> server replies ${code} with an empty reason`, async () => {
      const ws = await connect(server.url);
      const done = closed(ws);
      ws.close(code, `bye ${code} ✓`);
      const { code: got, reason } = await done;
      assert.equal(got, code);
      assert.equal(reason, '');
    });
  }

  test('client close without a code -> server replies with an empty close (1005)', async () => {
    const ws = await connect(server.url);
    const done = closed(ws);
    ws.close();
    const { code, reason } = await done;
    assert.equal(code, 1005);
    assert.equal(reason, '');
  });

  test('close after echo traffic still completes the handshake', async () => {
    const ws = await connect(server.url);
    const box = inbox(ws);
    ws.send('one');
    assert.equal((await box.next()).data.toString(), 'one');
    const done = closed(ws);
    ws.close(1000, 'done');
    assert.equal((await done).code, 1000);
  });
});

describe('ws client: --max-payload', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(['--max-payload', '1024']); });
  after(async () => { await server?.stop(); });

  test('a message of exactly the limit is echoed', async () => {
    const ws = await connect(server.url);
    const box = inbox(ws);
    const bytes = binaryOfBytes(1024);
    ws.send(bytes);
    assert.ok((await box.next()).data.equals(bytes));
    const text = textOfBytes(1024);
    ws.send(text);
    assert.equal((await box.next()).data.toString('utf8'), text);
    ws.close(1000);
  });

  test('a binary message of limit+1 bytes -> close 1009', async () => {
    const ws = await connect(server.url);
    const done = closed(ws);
    ws.send(binaryOfBytes(1025));
    assert.equal((await done).code, 1009);
  });

  test('a text message of limit+1 bytes -> close 1009', async () => {
    const ws = await connect(server.url);
    const done = closed(ws);
    ws.send(textOfBytes(1025));
    assert.equal((await done).code, 1009);
  });

  test('fragments adding up to limit+1 bytes -> close 1009', async () => {
    const ws = await connect(server.url);
    const done = closed(ws);
    ws.send(binaryOfBytes(600), { binary: true, fin: false });
    ws.send(binaryOfBytes(425), { binary: true, fin: true });
    assert.equal((await done).code, 1009);
  });
});

describe('ws client: subprotocols', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(['--protocol', 'chat', '--protocol', 'superchat']); });
  after(async () => { await server?.stop(); });

  test('offer [superchat, chat] -> superchat (client offer order wins)', async () => {
    const ws = await connect(server.url, ['superchat', 'chat']);
    assert.equal(ws.protocol, 'superchat');
    ws.close(1000);
  });

  test('offer [chat, superchat] -> chat', async () => {
    const ws = await connect(server.url, ['chat', 'superchat']);
    assert.equal(ws.protocol, 'chat');
    ws.close(1000);
  });

  test('offer [other, chat] -> chat', async () => {
    const ws = await connect(server.url, ['other', 'chat']);
    assert.equal(ws.protocol, 'chat');
    const box = inbox(ws);
    ws.send('hi');
    assert.equal((await box.next()).data.toString(), 'hi');
    ws.close(1000);
  });

  test('offer [other] -> server answers no subprotocol, and ws fails the handshake', async () => {
    const ws = new WebSocket(server.url, ['other'], { perMessageDeflate: false });
    const upgrade = new Promise((resolve) => ws.once('upgrade', (res) => resolve(res)));
    const err = await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('handshake unexpectedly succeeded')));
      ws.once('error', resolve);
    }), undefined, 'handshake error');
    assert.match(err.message, /Server sent no subprotocol/);
    const res = await withTimeout(upgrade, undefined, 'upgrade');
    assert.equal(res.headers['sec-websocket-protocol'], undefined);
  });

  test('no offer -> no subprotocol', async () => {
    const ws = await connect(server.url);
    assert.equal(ws.protocol, '');
    ws.close(1000);
  });
});

describe('ws client: subprotocols without --protocol', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  // The upgrade response the client saw, and an echo round trip on the connection.
  async function offer(path, protocols) {
    const ws = new WebSocket(server.url.replace(/\/$/, path), protocols, { perMessageDeflate: false });
    ws.on('error', () => {});
    const box = inbox(ws);
    const upgrade = new Promise((resolve) => ws.once('upgrade', resolve));
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), undefined, `open ${path}`);
    const res = await withTimeout(upgrade, undefined, 'upgrade');
    return { ws, box, header: res.headers['sec-websocket-protocol'] };
  }

  for (const path of ['/', '/echo']) {
    test(`offer [chat, superchat] at ${path} -> chat, and the echo works`, async () => {
      const { ws, box, header } = await offer(path, ['chat', 'superchat']);
      assert.equal(header, 'chat');
      assert.equal(ws.protocol, 'chat');
      ws.send('hello with a subprotocol ✓');
      const msg = await box.next();
      assert.equal(msg.isBinary, false);
      assert.equal(msg.data.toString('utf8'), 'hello with a subprotocol ✓');
      const done = closed(ws);
      ws.close(1000);
      assert.equal((await done).code, 1000);
    });
  }

  test('offer [superchat, chat] -> superchat (the first offer, whatever it is)', async () => {
    const { ws, header } = await offer('/echo', ['superchat', 'chat']);
    assert.equal(header, 'superchat');
    assert.equal(ws.protocol, 'superchat');
    ws.close(1000);
  });

  test('no offer -> no Sec-WebSocket-Protocol', async () => {
    const { ws, header } = await offer('/echo', []);
    assert.equal(header, undefined);
    assert.equal(ws.protocol, '');
    ws.close(1000);
  });

  test('/pubsub does not take the offer: ws fails the handshake as before', async () => {
    const ws = new WebSocket(`${server.url}pubsub`, ['chat'], { perMessageDeflate: false });
    const upgrade = new Promise((resolve) => ws.once('upgrade', resolve));
    const err = await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('handshake unexpectedly succeeded')));
      ws.once('error', resolve);
    }), undefined, 'handshake error');
    assert.match(err.message, /Server sent no subprotocol/);
    assert.equal((await withTimeout(upgrade, undefined, 'upgrade')).headers['sec-websocket-protocol'],
      undefined);
  });
});

describe('ws client: --protocol superchat', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(['--protocol', 'superchat']); });
  after(async () => { await server?.stop(); });

  test('offer [chat, superchat] -> superchat, and the echo works', async () => {
    const ws = await connect(`${server.url}echo`, ['chat', 'superchat']);
    assert.equal(ws.protocol, 'superchat');
    const box = inbox(ws);
    ws.send('hello superchat');
    assert.equal((await box.next()).data.toString('utf8'), 'hello superchat');
    ws.close(1000);
  });
});

describe('ws client: SIGTERM shutdown', { timeout: 60_000 }, () => {
  test('open clients get close 1001 and the server exits 0', async () => {
    const server = await startServer();
    try {
      const clients = await Promise.all([0, 1, 2].map(() => connect(server.url)));
      // Make sure every connection is fully established on the server side.
      for (const ws of clients) {
        const box = inbox(ws);
        ws.send('ready');
        assert.equal((await box.next()).data.toString(), 'ready');
      }
      const closes = clients.map((ws) => closed(ws));
      server.proc.kill('SIGTERM');
      const results = await Promise.all(closes);
      for (const r of results) assert.equal(r.code, 1001);
      const exit = await withTimeout(server.exited, 10_000, 'server exit after SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    } finally {
      await server.stop();
    }
  });
});
