// The real engine.io-client 6 (what socket.io-client 4 runs on) against Duplex's example echo
// server: default transports (polling, then the upgrade), polling only, WebSocket only, on one
// and on two loops (where a session's requests and its WebSocket land on other loops than its
// own), messages in order across the upgrade, binary both ways, and sessions left quiet for
// several ping intervals.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { PING_INTERVAL, PING_TIMEOUT, sleep, startExample, withTimeout } from './support.mjs';

const bin = process.env.DUPLEX_EIO_ECHO;
if (!bin) throw new Error('DUPLEX_EIO_ECHO (the example_engineio_echo_server binary) is not set');

/** Opens a client; resolves once 'open' fired. Collects messages and the close reason. */
async function open(port, options = {}) {
  const socket = new Socket(`http://127.0.0.1:${port}`, options);
  const got = [];
  const waiters = [];
  let closeReason = null;
  const closed = new Promise((resolve) => socket.on('close', (reason, description) => {
    closeReason = reason;
    resolve({ reason, description });
  }));
  socket.on('message', (data) => {
    got.push(data);
    for (const w of waiters.splice(0)) w();
  });
  await withTimeout(new Promise((resolve, reject) => {
    socket.on('open', resolve);
    socket.on('error', reject);
  }), 5000, 'engine.io-client open');
  const received = (n, ms = 5000) => withTimeout((async () => {
    while (got.length < n) await new Promise((resolve) => waiters.push(resolve));
    return got.slice(0, n);
  })(), ms, `${n} messages (have ${got.length})`);
  const upgraded = () => (socket.transport.name === 'websocket' ? Promise.resolve()
    : withTimeout(new Promise((resolve) => socket.on('upgrade', resolve)), 5000, 'upgrade'));
  return { socket, got, received, closed, upgraded, closeReason: () => closeReason };
}

for (const threads of [1, 2]) {
  describe(`engine.io-client against the echo server on ${threads} loop(s)`, { timeout: 90_000 },
    () => {
      let server;
      before(async () => { server = await startExample(bin, ['--threads', String(threads)]); });
      after(() => server.stop());

      test('default transports: polling, then the upgrade; 300 messages sent across it come ' +
        'back once each, in order', async () => {
        const c = await open(server.port);
        assert.equal(c.socket.transport.name, 'polling');
        const sent = [];
        for (let i = 0; i < 300; i++) {
          sent.push(`m${i} ✓`);
          c.socket.send(`m${i} ✓`);
          if (i % 30 === 0) await sleep(5);
        }
        await c.upgraded();
        assert.equal(c.socket.transport.name, 'websocket');
        assert.deepEqual(await c.received(300), sent);
        await sleep(50);
        assert.equal(c.got.length, 300, 'no duplicates');
        c.socket.close();
        assert.equal((await c.closed).reason, 'forced close');
      });

      for (const transports of [['polling'], ['websocket']]) {
        test(`transports ${JSON.stringify(transports)}: text and binary echo`, async () => {
          const c = await open(server.port, { transports });
          assert.equal(c.socket.transport.name, transports[0]);
          c.socket.send('héllo');
          c.socket.send(Uint8Array.from([0, 1, 2, 253, 254, 255]));
          c.socket.send('');
          const [first, second, third] = await c.received(3);
          assert.equal(first, 'héllo');
          assert.deepEqual([...new Uint8Array(second)], [0, 1, 2, 253, 254, 255]);
          assert.equal(third, undefined, 'an empty message is the packet "4", which the client reads as no data');
          c.socket.close();
          await c.closed;
        });
      }

      test('twenty clients at once, upgrading, each get their own messages in order', async () => {
        const clients = await Promise.all(Array.from({ length: 20 }, () => open(server.port)));
        for (const [k, c] of clients.entries()) {
          for (let i = 0; i < 50; i++) c.socket.send(`${k}:${i}`);
        }
        for (const [k, c] of clients.entries()) {
          assert.deepEqual(await c.received(50), Array.from({ length: 50 }, (_, i) => `${k}:${i}`));
        }
        await Promise.all(clients.map((c) => c.upgraded()));
        for (const c of clients) c.socket.close();
        await Promise.all(clients.map((c) => c.closed));
      });

      test('sessions left quiet for several ping intervals stay open, on both transports',
        async () => {
          const polling = await open(server.port, { transports: ['polling'] });
          const ws = await open(server.port, { transports: ['websocket'] });
          await sleep(4 * (PING_INTERVAL + PING_TIMEOUT));
          assert.equal(polling.closeReason(), null);
          assert.equal(ws.closeReason(), null);
          polling.socket.send('after the quiet');
          ws.socket.send('after the quiet');
          assert.deepEqual(await polling.received(1), ['after the quiet']);
          assert.deepEqual(await ws.received(1), ['after the quiet']);
          polling.socket.close();
          ws.socket.close();
        });
    });
}

describe('the server going away', { timeout: 30_000 }, () => {
  test('clients on both transports see "transport close" or "transport error" and the ' +
    'server exits cleanly', async () => {
    const server = await startExample(bin);
    const polling = await open(server.port, { transports: ['polling'] });
    const ws = await open(server.port, { transports: ['websocket'] });
    await server.stop();
    const [p, w] = await Promise.all([polling.closed, ws.closed]);
    assert.match(p.reason, /^transport (close|error)$/);
    assert.equal(w.reason, 'transport close');
    polling.socket.close();
    ws.socket.close();
  });
});
