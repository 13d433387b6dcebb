// The /pubsub protocol of `duplex serve --threads 2` (docs/pubsub-protocol.md) with Node `ws`
// clients: delivery bytes, order and completeness across threads, unsubscribe, exclude_self,
// every error reason, and that errors disturb nobody. Also: the echo endpoints and the page
// with several threads.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, inbox, closed, withTimeout, httpRequest, WebSocket,
} from '../node/helpers.mjs';
import { join, nextText, stopServer } from './support.mjs';

const THREADS = 2;

const subscribed = (topic) => JSON.stringify({ type: 'subscribed', topic });
const unsubscribed = (topic) => JSON.stringify({ type: 'unsubscribed', topic });
const delivery = (topic, data) => JSON.stringify({ type: 'message', topic, data });
const error = (reason) => `{"type":"error","reason":"${reason}"}`;

/** Opens a /pubsub client with an inbox, subscribed to `topics` (each answer checked). */
async function client(server, topics = []) {
  const ws = await connect(`${server.url}pubsub`);
  const box = inbox(ws);
  for (const topic of topics) {
    ws.send(JSON.stringify({ type: 'subscribe', topic }));
    assert.equal(await nextText(box), subscribed(topic));
  }
  return { ws, box };
}

async function closeAll(clients) {
  await Promise.all(clients.map(async ({ ws }) => {
    if (ws.readyState === WebSocket.CLOSED) return;
    const done = closed(ws);
    ws.close(1000);
    assert.equal((await done).code, 1000);
  }));
}

describe(`/pubsub on ${THREADS} threads`, () => {
  let server;
  before(async () => { server = await startServer(['--threads', String(THREADS)]); });
  after(() => stopServer(server));

  test('the startup line names the threads and the endpoints', () => {
    assert.match(server.output(), new RegExp(
      `duplex serving http://127\\.0\\.0\\.1:${server.port}/ \\(WebSocket echo at ` +
      `ws://127\\.0\\.0\\.1:${server.port}/ and ws://127\\.0\\.0\\.1:${server.port}/echo\\) on ` +
      `2 threads; pub/sub at ws://127\\.0\\.0\\.1:${server.port}/pubsub, chat at ` +
      `http://127\\.0\\.0\\.1:${server.port}/chat, Socket\\.IO at ` +
      `http://127\\.0\\.0\\.1:${server.port}/socket\\.io/ \\(chat at ` +
      `http://127\\.0\\.0\\.1:${server.port}/socketio/chat\\), SockJS at ` +
      `http://127\\.0\\.0\\.1:${server.port}/sockjs/echo \\(chat at ` +
      `http://127\\.0\\.0\\.1:${server.port}/sockjs/chat\\.html\\), STOMP at ` +
      `ws://127\\.0\\.0\\.1:${server.port}/stomp\\n`));
  });

  test('a publish reaches every subscriber, the publisher too, in the documented bytes', async () => {
    const topic = 'news ✓ "quoted" \\ \n';
    const a = await client(server, [topic]);
    const b = await client(server, [topic]);
    const other = await client(server, ['other']);
    // Whitespace in data goes, strings and numbers stay as sent.
    a.ws.send(`{ "data" : { "text" : "plain ASCII, kept byte for byte: {}[]:,", "n" : [ 1, 2.50, -3e2 ],` +
      ` "ok" : true , "none" : null } , "topic" : ${JSON.stringify(topic)} , "type" : "publish" }`);
    const expected = `{"type":"message","topic":${JSON.stringify(topic)},"data":` +
      '{"text":"plain ASCII, kept byte for byte: {}[]:,","n":[1,2.50,-3e2],"ok":true,"none":null}}';
    assert.equal(await nextText(a.box), expected);
    assert.equal(await nextText(b.box), expected);
    // `other` got nothing: its next message is the one published to its topic afterwards.
    a.ws.send(JSON.stringify({ type: 'publish', topic: 'other', data: 'x' }));
    assert.equal(await nextText(other.box), delivery('other', 'x'));
    await closeAll([a, b, other]);
  });

  test('40 subscribers get all 900 messages of 3 publishers, each publisher\'s in order',
    { timeout: 120_000 }, async () => {
      const SUBSCRIBERS = 40;
      const PUBLISHERS = 3;
      const MESSAGES = 300;
      const topic = 'order';
      const subscribers = await Promise.all(
        Array.from({ length: SUBSCRIBERS }, () => client(server, [topic])));
      const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, () => client(server)));

      // Every subscriber collects until it has them all (or the step times out).
      const collected = subscribers.map(async ({ box }) => {
        const got = [];
        while (got.length < PUBLISHERS * MESSAGES) got.push(await nextText(box));
        return got;
      });
      // The publishers send at once, interleaved, each from its own connection.
      for (let n = 0; n < MESSAGES; n++) {
        publishers.forEach(({ ws }, p) =>
          ws.send(JSON.stringify({ type: 'publish', topic, data: { p, n } })));
      }
      const results = await withTimeout(Promise.all(collected), 100_000, 'all deliveries');

      for (const got of results) {
        const next = new Array(PUBLISHERS).fill(0);
        for (const text of got) {
          const { p, n } = JSON.parse(text).data;
          assert.equal(text, delivery(topic, { p, n }));
          assert.equal(n, next[p], `publisher ${p}: message ${n} arrived when ${next[p]} was due`);
          next[p]++;
        }
        assert.deepEqual(next, new Array(PUBLISHERS).fill(MESSAGES));
      }
      // Nothing more arrives: the next message of each is its answer to a fresh subscribe.
      await Promise.all(subscribers.map(async ({ ws, box }) => {
        ws.send(JSON.stringify({ type: 'subscribe', topic: 'after' }));
        assert.equal(await nextText(box), subscribed('after'));
      }));
      await closeAll([...subscribers, ...publishers]);
    });

  test('exclude_self leaves out the publisher only', async () => {
    const a = await client(server, ['ex']);
    const b = await client(server, ['ex']);
    a.ws.send(JSON.stringify({ type: 'publish', topic: 'ex', data: 1, exclude_self: true }));
    a.ws.send(JSON.stringify({ type: 'publish', topic: 'ex', data: 2, exclude_self: false }));
    a.ws.send(JSON.stringify({ type: 'publish', topic: 'ex', data: 3 }));
    assert.equal(await nextText(b.box), delivery('ex', 1));
    assert.equal(await nextText(b.box), delivery('ex', 2));
    assert.equal(await nextText(b.box), delivery('ex', 3));
    assert.equal(await nextText(a.box), delivery('ex', 2));
    assert.equal(await nextText(a.box), delivery('ex', 3));
    await closeAll([a, b]);
  });

  test('an unsubscribed client gets nothing more from the topic', async () => {
    const leaver = await client(server, ['u', 'sync']);
    const stayer = await client(server, ['u']);
    const publisher = await client(server);
    leaver.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'u' }));
    assert.equal(await nextText(leaver.box), unsubscribed('u'));
    // Repeating either is answered the same.
    leaver.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'u' }));
    assert.equal(await nextText(leaver.box), unsubscribed('u'));
    leaver.ws.send(JSON.stringify({ type: 'subscribe', topic: 'sync' }));
    assert.equal(await nextText(leaver.box), subscribed('sync'));

    // One publisher's messages reach each loop in order: had 'u' reached the leaver, it would
    // come before 'sync'.
    publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'u', data: 'gone' }));
    publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'sync', data: 'here' }));
    assert.equal(await nextText(stayer.box), delivery('u', 'gone'));
    assert.equal(await nextText(leaver.box), delivery('sync', 'here'));

    // Subscribing again brings it back.
    leaver.ws.send(JSON.stringify({ type: 'subscribe', topic: 'u' }));
    assert.equal(await nextText(leaver.box), subscribed('u'));
    publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'u', data: 'back' }));
    assert.equal(await nextText(leaver.box), delivery('u', 'back'));
    assert.equal(await nextText(stayer.box), delivery('u', 'back'));
    await closeAll([leaver, stayer, publisher]);
  });

  test('a closed subscriber is released: publishing goes on for the others', async () => {
    const gone = await client(server, ['rel']);
    const stays = await client(server, ['rel']);
    const done = closed(gone.ws);
    gone.ws.close(1000);
    await done;
    stays.ws.send(JSON.stringify({ type: 'publish', topic: 'rel', data: 'still' }));
    assert.equal(await nextText(stays.box), delivery('rel', 'still'));
    await closeAll([stays]);
  });

  test('every fault is answered with its reason, and nobody is disturbed', async () => {
    const faulty = await client(server);
    const watcher = await client(server, ['calm']);
    const long = 'x'.repeat(257);
    const cases = [
      ['', error('message is not valid JSON')],
      ['{"type":"subscribe","topic":"t"', error('message is not valid JSON')],
      ['{"type":"subscribe","topic":"t"} x', error('message is not valid JSON')],
      ['{"type":"publish","topic":"t","data":"\\ud800"}', error('message is not valid JSON')],
      [`{"type":"publish","topic":"t","data":${'['.repeat(63)}${']'.repeat(63)}}`, null],
      [`{"type":"publish","topic":"t","data":${'['.repeat(64)}${']'.repeat(64)}}`,
        error('message is nested deeper than 64 levels')],
      ['[{"type":"subscribe","topic":"t"}]', error('message is not a JSON object')],
      ['"subscribe"', error('message is not a JSON object')],
      ['{"topic":"t"}', error('missing type')],
      ['{"type":"SUBSCRIBE","topic":"t"}', error('unknown type')],
      ['{"type":7,"topic":"t"}', error('unknown type')],
      ['{"type":"subscribe"}', error('missing topic')],
      ['{"type":"subscribe","topic":["t"]}', error('topic is not a string')],
      ['{"type":"unsubscribe","topic":""}', error('topic is empty')],
      [`{"type":"subscribe","topic":"${long}"}`, error('topic is longer than 256 bytes')],
      [`{"type":"subscribe","topic":"${'é'.repeat(128)}"}`, subscribed('é'.repeat(128))],
      [`{"type":"subscribe","topic":"${'é'.repeat(128)}x"}`, error('topic is longer than 256 bytes')],
      ['{"type":"publish","topic":"t"}', error('publish without data')],
      ['{"type":"publish","topic":"t","data":1,"exclude_self":"true"}',
        error('exclude_self is not a boolean')],
    ];
    for (const [sent, answer] of cases) {
      faulty.ws.send(sent);
      // A publish to "t" (no subscribers) has no answer: a subscribe marks where it ends.
      if (answer === null) {
        faulty.ws.send(JSON.stringify({ type: 'subscribe', topic: 'mark' }));
        assert.equal(await nextText(faulty.box), subscribed('mark'), sent);
      } else {
        assert.equal(await nextText(faulty.box), answer, sent);
      }
    }
    faulty.ws.send(Buffer.from('{"type":"subscribe","topic":"t"}'), { binary: true });
    assert.equal(await nextText(faulty.box), error('binary messages are not accepted'));

    // After all that the same connection subscribes, publishes and receives.
    faulty.ws.send(JSON.stringify({ type: 'subscribe', topic: 'calm' }));
    assert.equal(await nextText(faulty.box), subscribed('calm'));
    faulty.ws.send(JSON.stringify({ type: 'publish', topic: 'calm', data: 'fine' }));
    assert.equal(await nextText(faulty.box), delivery('calm', 'fine'));
    // The watcher saw only that.
    assert.equal(await nextText(watcher.box), delivery('calm', 'fine'));
    await closeAll([faulty, watcher]);
  });

  test('1000 topics per connection: the 1001st is refused, known ones still answered',
    { timeout: 60_000 }, async () => {
      const c = await client(server);
      for (let i = 0; i < 1000; i++) c.ws.send(JSON.stringify({ type: 'subscribe', topic: `t${i}` }));
      for (let i = 0; i < 1000; i++) assert.equal(await nextText(c.box), subscribed(`t${i}`));
      c.ws.send(JSON.stringify({ type: 'subscribe', topic: 'one too many' }));
      assert.equal(await nextText(c.box), error('too many topics (at most 1000 per connection)'));
      c.ws.send(JSON.stringify({ type: 'subscribe', topic: 't999' }));
      assert.equal(await nextText(c.box), subscribed('t999'));
      // Leaving one makes room for another.
      c.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 't0' }));
      assert.equal(await nextText(c.box), unsubscribed('t0'));
      c.ws.send(JSON.stringify({ type: 'subscribe', topic: 'one too many' }));
      assert.equal(await nextText(c.box), subscribed('one too many'));
      c.ws.send(JSON.stringify({ type: 'publish', topic: 'one too many', data: [] }));
      assert.equal(await nextText(c.box), delivery('one too many', []));
      await closeAll([c]);
    });

  test('the chat rooms are out of reach of /pubsub topics', async () => {
    const room = await join(server, 'lobby', 'watcher');
    const intruder = await client(server, ['chat:lobby']);
    intruder.ws.send(JSON.stringify({ type: 'publish', topic: 'chat:lobby', data: 'fake' }));
    assert.equal(await nextText(intruder.box), delivery('chat:lobby', 'fake'));
    // The room's next event is the watcher's own message, not the intruder's.
    room.ws.send(JSON.stringify({ type: 'say', text: 'real' }));
    assert.equal(await nextText(room.box),
      JSON.stringify({ type: 'message', seq: room.welcome.seq + 1, nick: 'watcher', text: 'real' }));
    await closeAll([intruder, room]);
  });
});

describe('/pubsub slow subscribers', () => {
  let server;
  // A long close timeout: the close frame waits behind the slow reader's backlog until it reads.
  before(async () => {
    server = await startServer(['--threads', String(THREADS), '--max-backpressure', '65536',
      '--close-timeout', '60']);
  });
  after(() => stopServer(server));

  test('a subscriber that does not read is closed with 1008 past max_backpressure',
    { timeout: 90_000 }, async () => {
      const slow = await client(server, ['flood']);
      const fast = await client(server, ['flood']);
      const publisher = await client(server);
      const slowClosed = closed(slow.ws, 80_000);
      slow.ws._socket.pause();  // the kernel buffers fill, then the server's queue
      const data = 'y'.repeat(16 * 1024);
      const MESSAGES = 2000;  // 32 MiB: more than the socket buffers of a reader that stopped
      const BATCH = 2;  // what the fast subscriber may have in flight: within max_backpressure
      for (let n = 0; n < MESSAGES; n += BATCH) {
        for (let i = n; i < n + BATCH; i++) {
          publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'flood', data: { n: i, data } }));
        }
        for (let i = n; i < n + BATCH; i++) {
          assert.equal(await nextText(fast.box), delivery('flood', { n: i, data }));
        }
      }
      slow.ws._socket.resume();
      assert.deepEqual(await slowClosed, { code: 1008, reason: 'send queue over max_backpressure' });
      // The fast one is still subscribed.
      publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'flood', data: 'end' }));
      assert.equal(await nextText(fast.box), delivery('flood', 'end'));
      await closeAll([fast, publisher]);
    });
});

describe('echo endpoints and the page on 4 threads', () => {
  let server;
  before(async () => { server = await startServer(['--threads', '4']); });
  after(() => stopServer(server));

  test('40 clients echo on / and /echo at once; GET / and /chat serve the pages', async () => {
    const one = async (c) => {
      const ws = await connect(server.url + (c % 2 ? 'echo' : ''));
      const box = inbox(ws);
      for (let i = 0; i < 20; i++) ws.send(`client ${c} message ${i}`);
      for (let i = 0; i < 20; i++) assert.equal(await nextText(box), `client ${c} message ${i}`);
      const done = closed(ws);
      ws.close(1000);
      assert.equal((await done).code, 1000);
    };
    await withTimeout(Promise.all(Array.from({ length: 40 }, (_, c) => one(c))), 60_000, 'echoes');
    for (const [path, title] of [['/', '<title>Duplex echo</title>'], ['/chat', '<title>Duplex chat</title>']]) {
      const res = await httpRequest(server.port, path);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.ok(res.body.toString('utf8').includes(title), `${path} serves its page`);
    }
  });
});
