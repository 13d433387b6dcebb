// One hub: `duplex serve --threads 2`'s /sockjs/chat sessions are subscribers of the /pubsub
// topic "sockjs-chat". A sockjs-client message reaches every chat session (websocket and
// xhr-polling) and a /pubsub subscriber; a /pubsub publish and a POST /publish reach the SockJS
// sessions; nothing is lost or doubled, in order per sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { startServer, connect, inbox, withTimeout } from '../node/helpers.mjs';
import { nextText, stopServer } from '../pubsub/support.mjs';

const require = createRequire(import.meta.url);
const SockJS = require('sockjs-client');
const TOPIC = 'sockjs-chat';

/** A sockjs-client on `transport` with an inbox of its messages. */
async function sockjsClient(base, transport) {
  const sock = new SockJS(`${base}/sockjs/chat`, null, { transports: [transport] });
  const got = [];
  const waiters = [];
  sock.onmessage = (e) => {
    got.push(e.data);
    for (const w of waiters.splice(0)) w();
  };
  await withTimeout(new Promise((resolve, reject) => {
    sock.onopen = resolve;
    sock.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason} before open`));
  }), 10_000, `open ${transport}`);
  assert.equal(sock.transport, transport);
  const atLeast = (n) => withTimeout((async () => {
    while (got.length < n) await new Promise((resolve) => waiters.push(resolve));
    return got.slice();
  })(), 10_000, `${n} messages on ${transport}`);
  return { sock, got, atLeast };
}

function post(port, path, body) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
    req.on('error', reject);
    req.end(body);
  }), 10_000, `POST ${path}`);
}

test('SockJS chat sessions, a /pubsub subscriber and POST /publish meet on one topic',
  { timeout: 60_000 }, async () => {
    const server = await startServer(['--threads', '2']);
    const base = `http://127.0.0.1:${server.port}`;
    const clients = [];
    try {
      const ws = await connect(`${server.url}pubsub`);
      const box = inbox(ws);
      ws.send(JSON.stringify({ type: 'subscribe', topic: TOPIC }));
      assert.equal(await nextText(box), JSON.stringify({ type: 'subscribed', topic: TOPIC }));
      const a = await sockjsClient(base, 'websocket');
      const b = await sockjsClient(base, 'xhr-polling');
      clients.push(a, b);

      // From SockJS: every chat session (the sender too) and the /pubsub subscriber, whose data
      // is the text as a JSON string.
      for (let i = 0; i < 20; i++) a.sock.send(`from a ${i} ✓`);
      for (let i = 0; i < 20; i++) b.sock.send(`from b ${i}`);
      const fromSockjs = [...Array(20).keys()].map((i) => `from a ${i} ✓`)
        .concat([...Array(20).keys()].map((i) => `from b ${i}`));
      for (const c of [a, b]) {
        const got = await c.atLeast(40);
        assert.deepEqual([...got].sort(), [...fromSockjs].sort());
        // In order per sender.
        assert.deepEqual(got.filter((m) => m.startsWith('from a')), fromSockjs.slice(0, 20));
        assert.deepEqual(got.filter((m) => m.startsWith('from b')), fromSockjs.slice(20));
      }
      const seen = [];
      for (let i = 0; i < 40; i++) seen.push(JSON.parse(await nextText(box)));
      assert.deepEqual(seen.map((m) => m.data).sort(), [...fromSockjs].sort());
      assert.ok(seen.every((m) => m.type === 'message' && m.topic === TOPIC));

      // Into SockJS: a /pubsub publish (its data's JSON text) and a POST /publish (its body).
      ws.send(JSON.stringify({ type: 'publish', topic: TOPIC, data: { n: 1 } }));
      assert.equal(await post(server.port, `/publish?topic=${TOPIC}`, 'posted ✓'), 204);
      for (const c of [a, b]) {
        const got = await c.atLeast(42);
        assert.deepEqual(got.slice(40), ['{"n":1}', 'posted ✓']);
      }
      // Nothing more comes (nothing doubled).
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(a.got.length, 42);
      assert.equal(b.got.length, 42);
      ws.close();
    } finally {
      for (const c of clients) c.sock.close();
      await stopServer(server);
    }
  });
