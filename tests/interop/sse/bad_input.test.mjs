// What bad input and bad readers do to `duplex serve`'s /publish and /sse, and that they disturb
// nobody else: a body that trickles past --handshake-timeout (408, closed), bodies over
// --max-payload (413) and broken framing (400), byte for byte, while a stream on the same topic
// goes on receiving and nothing of theirs is published; a stream that never reads dropped past
// --max-backpressure while one that reads gets every message; 1,000 streams that go at once;
// and a stream left quiet for longer than every timeout, which gets heartbeats, then a message.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, inbox } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';
import {
  delivery, openStream, publish, publishInTurn, publishPipelined, rawConnect, sleep,
} from './support.mjs';

/** The whole error answer `duplex serve` gives before it closes the connection. */
function errorAnswer(code, phrase, reason) {
  const body = `${code} ${phrase}: ${reason}\n`;
  return `HTTP/1.1 ${code} ${phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Connection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

const publishHead = (topic, framing) =>
  `POST /publish?topic=${topic} HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}\r\n`;

/** Sends `bytes` on a connection of its own; resolves with what came back once it closed. */
async function answerTo(port, bytes) {
  const raw = await rawConnect(port);
  raw.write(bytes);
  const { how } = await raw.ended;
  return { how, text: raw.text() };
}

const texts = (stream) => stream.messages.map((e) => JSON.parse(e.data).data);

describe('bad requests on /publish, timeouts lowered to 0.5 s', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer(['--threads', '2', '--first-sequence', '1', '--max-payload', '4096',
      '--handshake-timeout', '0.5', '--idle-timeout', '0.5', '--close-timeout', '0.5',
      '--sse-heartbeat', '0.3']);
  });
  after(() => stopServer(server));

  test('a body that trickles slower than --handshake-timeout gets 408 and its connection ' +
    'closes, while a stream on its topic keeps receiving', async () => {
    const stream = await openStream(server.port, '/sse?topic=calm');
    const raw = await rawConnect(server.port);
    let trickle;
    try {
      const started = Date.now();
      raw.write(publishHead('calm', 'Content-Length: 20\r\n'));
      // One byte of the 20 every 100 ms: the body would need 2 s.
      let sent = 0;
      trickle = setInterval(() => {
        if (sent < 19) raw.write(sent++ === 0 ? '"' : 'x');
      }, 100);
      await sleep(150);
      await publish(server.port, 'calm', '"while it trickles"');
      const { how } = await raw.ended;
      const took = Date.now() - started;
      assert.equal(raw.text(),
        errorAnswer(408, 'Request Timeout', 'the request body did not arrive in time'));
      assert.equal(how, 'end');
      assert.ok(took >= 450, `answered after ${took} ms`);
      assert.ok(sent < 19, 'answered before the body was complete');
      await publish(server.port, 'calm', '"after it"');
      await stream.messagesAtLeast(2);
      assert.deepEqual(texts(stream), ['while it trickles', 'after it']);
      assert.equal(stream.done, false);
    } finally {
      clearInterval(trickle);
      raw.destroy();
      stream.close();
    }
  });

  test('bodies over --max-payload get 413 and broken framing 400, each closing its connection ' +
    'alone; nothing of them is published', async () => {
    const stream = await openStream(server.port, '/sse?topic=bad');
    try {
      const chunk = (data) => `${data.length.toString(16)}\r\n${data}\r\n`;
      const cases = [
        [publishHead('bad', 'Content-Length: 4097\r\n'),
          errorAnswer(413, 'Content Too Large', 'Content-Length over the body limit')],
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}1001\r\n`,
          errorAnswer(413, 'Content Too Large', 'chunk size over the body limit')],
        // Chunks that are each small but together pass the limit.
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}${chunk(`"${'a'.repeat(2047)}`)}` +
          `${chunk('b'.repeat(2048))}1\r\n`,
        errorAnswer(413, 'Content Too Large', 'chunk size over the body limit')],
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}zz\r\n`,
          errorAnswer(400, 'Bad Request', 'invalid chunk size')],
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}3\r\n"x"X`,
          errorAnswer(400, 'Bad Request', 'chunk data not followed by CRLF')],
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}3;x="y\r\n"x"\r\n0\r\n\r\n`,
          errorAnswer(400, 'Bad Request', 'malformed chunk extension')],
        [`${publishHead('bad', 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n')}"x"`,
          errorAnswer(400, 'Bad Request', 'both Content-Length and Transfer-Encoding')],
        [`${publishHead('bad', 'Transfer-Encoding: gzip\r\n')}"x"`,
          errorAnswer(400, 'Bad Request', 'Transfer-Encoding does not end in chunked')],
      ];
      const answers = await Promise.all(cases.map(([bytes]) => answerTo(server.port, bytes)));
      answers.forEach(({ how, text }, i) => {
        assert.equal(text, cases[i][1], JSON.stringify(cases[i][0].slice(0, 120)));
        assert.equal(how, 'end');
      });
      // Exactly the limit, chunked and not, is taken.
      const whole = `"${'w'.repeat(4094)}"`;
      const ok = 'HTTP/1.1 204 No Content\r\n\r\n';
      const at = [
        `${publishHead('bad', `Content-Length: ${whole.length}\r\n`)}${whole}`,
        `${publishHead('bad', 'Transfer-Encoding: chunked\r\n')}${chunk(whole.slice(0, 4000))}` +
          `${chunk(whole.slice(4000))}0\r\n\r\n`,
      ];
      for (const bytes of at) {
        const raw = await rawConnect(server.port);
        raw.write(bytes);
        assert.equal(await raw.waitFor((t) => t.length >= ok.length, '204'), ok);
        raw.destroy();
      }
      await stream.messagesAtLeast(2);
      assert.deepEqual(texts(stream), ['w'.repeat(4094), 'w'.repeat(4094)]);
      assert.equal(stream.done, false);
    } finally {
      stream.close();
    }
  });

  test('a stream left quiet for longer than every timeout gets heartbeats, then a message',
    async () => {
      const stream = await openStream(server.port, '/sse?topic=quiet');
      try {
        const opened = Date.now();
        // --sse-heartbeat 0.3 against --handshake-timeout, --idle-timeout and --close-timeout
        // of 0.5: 2 s of silence is four times each.
        await sleep(2000);
        const beats = stream.comments.length;
        assert.equal(stream.text, `retry: 3000\n\n${': heartbeat\n\n'.repeat(beats)}`);
        assert.ok(beats >= 3 && beats <= 7, `${beats} heartbeats in 2 s`);
        assert.equal(stream.done, false);
        await publish(server.port, 'quiet', '"still there"');
        await stream.messagesAtLeast(1);
        assert.ok(stream.text.endsWith(
          `\ndata: ${delivery('quiet', '"still there"')}\n\n`), stream.text);
        assert.ok(Date.now() - opened >= 2000);
      } finally {
        stream.close();
      }
    });
});

describe('a stream that never reads, --max-backpressure 65536', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer(['--threads', '1', '--first-sequence', '1', '--max-backpressure', '65536']);
  });
  after(() => stopServer(server));

  test('is dropped while one that reads gets every message, in order', async () => {
    const MESSAGES = 800;
    const SIZE = 16 * 1024;
    const slow = await rawConnect(server.port);
    const fast = await openStream(server.port, '/sse?topic=flood');
    try {
      slow.write('GET /sse?topic=flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await slow.waitFor((t) => t.includes('retry: 3000\n\n'), 'the slow stream open');
      slow.pause();
      // 12.5 MiB, one message at a time (each answered before the next): more than the kernel
      // buffers of a connection hold, so the slow one's queue passes the limit.
      const bodies = Array.from({ length: MESSAGES },
        (_, i) => JSON.stringify(`${i} ${'f'.repeat(SIZE)}`));
      await publishInTurn(server.port, 'flood', bodies);
      await fast.messagesAtLeast(MESSAGES, 30_000);
      const got = fast.messages.map((e) => JSON.parse(e.data).data);
      assert.equal(got.length, MESSAGES);
      got.forEach((text, i) => assert.equal(text, `${i} ${'f'.repeat(SIZE)}`));
      const ids = fast.messages.map((e) => Number(e.id));
      ids.forEach((id, i) => assert.equal(id, ids[0] + i, 'one id after the other'));
      // The slow one reads at last: what the kernel held, then the end without the last chunk.
      slow.resume();
      const { how } = await slow.ended;
      const text = slow.text();
      const events = text.split('\nid: ').length - 1;
      assert.ok(['end', 'reset'].includes(how), how);
      assert.ok(events < MESSAGES, `the slow stream got ${events} events`);
      assert.ok(!text.endsWith('0\r\n\r\n'), 'its stream was cut, not ended');
      // The reader goes on.
      await publish(server.port, 'flood', '"after"');
      await fast.messagesAtLeast(MESSAGES + 1);
      assert.equal(fast.done, false);
    } finally {
      slow.destroy();
      fast.close();
    }
  });
});

describe('1,000 streams at once', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(['--threads', '2', '--first-sequence', '1']); });
  after(() => stopServer(server));

  test('that all go at once (half closed, half reset) leave the server serving', async () => {
    const STREAMS = 1000;
    const streams = [];
    try {
      for (let i = 0; i < STREAMS; i += 100) {
        streams.push(...await Promise.all(Array.from({ length: 100 }, async () => {
          const raw = await rawConnect(server.port);
          raw.write('GET /sse?topic=crowd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          await raw.waitFor((t) => t.includes('retry: 3000\n\n'), 'stream open');
          return raw;
        })));
      }
      await publish(server.port, 'crowd', '"hello crowd"');
      const event = `data: ${delivery('crowd', '"hello crowd"')}\n\n`;
      await Promise.all(streams.map((s) => s.waitFor((t) => t.includes(event), 'the message')));

      streams.forEach((s, i) => (i % 2 ? s.socket.resetAndDestroy() : s.destroy()));
      // At once: a publish to their topic, a new stream, and an echo, all served.
      await publish(server.port, 'crowd', '"into the void"');
      const next = await openStream(server.port, '/sse?topic=crowd');
      const echo = await connect(`${server.url}echo`);
      try {
        const box = inbox(echo);
        echo.send('still here');
        assert.equal((await box.next()).data.toString(), 'still here');
        await publish(server.port, 'crowd', '"to the newcomer"');
        await next.messagesAtLeast(1);
        assert.deepEqual(texts(next), ['to the newcomer']);
      } finally {
        echo.terminate();
        next.close();
      }
    } finally {
      for (const s of streams) s.destroy();
    }
  });
});

describe('readers that keep up, --max-backpressure 16384', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer(['--threads', '1', '--first-sequence', '1', '--max-backpressure', '16384', '--history', '200']);
  });
  after(() => stopServer(server));

  test('a burst of pipelined publishes past the limit in one read drops a stream that reads ' +
    '(its queue passes the limit before the kernel takes any of it), as it drops a WebSocket',
  async () => {
    const stream = await openStream(server.port, '/sse?topic=burst');
    const ws = await connect(`${server.url}pubsub`);
    try {
      const box = inbox(ws);
      ws.send(JSON.stringify({ type: 'subscribe', topic: 'burst' }));
      assert.equal((await box.next()).data.toString(), '{"type":"subscribed","topic":"burst"}');
      const closedWs = new Promise((resolve) => { ws.once('close', (code) => resolve(code)); });
      await publishPipelined(server.port, 'burst',
        Array.from({ length: 60 }, (_, i) => JSON.stringify(`${i} ${'b'.repeat(500)}`)));
      assert.deepEqual(await stream.ended, { complete: false });
      assert.equal(stream.messages.length, 0);
      assert.equal(await closedWs, 1008);
    } finally {
      stream.close();
      ws.terminate();
    }
  });

  test('one message larger than the limit reaches a stream, as it reaches a WebSocket', async () => {
    const stream = await openStream(server.port, '/sse?topic=big');
    const ws = await connect(`${server.url}pubsub`);
    try {
      const box = inbox(ws);
      ws.send(JSON.stringify({ type: 'subscribe', topic: 'big' }));
      await box.next();
      const big = JSON.stringify('B'.repeat(20_000));
      await publish(server.port, 'big', big);
      assert.equal((await box.next()).data.toString(), delivery('big', big));
      await stream.messagesAtLeast(1);
      assert.equal(stream.messages[0].data, delivery('big', big));
    } finally {
      stream.close();
      ws.terminate();
    }
  });

  test('a stream that comes back having missed more than the limit gets what it missed',
    async () => {
    const first = await openStream(server.port, '/sse?topic=comeback');
    let again;
    try {
      await publish(server.port, 'comeback', '"seen"');
      await first.messagesAtLeast(1);
      const seen = first.messages[0].id;
      first.close();
      const missed = Array.from({ length: 60 }, (_, i) => JSON.stringify(`${i} ${'c'.repeat(500)}`));
      await publishInTurn(server.port, 'comeback', missed);
      again = await openStream(server.port, '/sse?topic=comeback', { 'Last-Event-ID': seen });
      assert.equal(again.status, 200);
      await again.messagesAtLeast(60);
      assert.deepEqual(texts(again), missed.map((m) => JSON.parse(m)));
    } finally {
      first.close();
      again?.close();
    }
  });
});
