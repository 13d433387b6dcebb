// The `eventsource` npm package (a WHATWG EventSource for Node) against `duplex serve --threads 2
// --history 5`: live messages from POST /publish and from a /pubsub WebSocket, the automatic
// reconnection with Last-Event-ID after its connection is cut (exactly what it missed, once, in
// order), the `lost` event when the history no longer reaches back, and the one id of a stream of
// several topics. A raw stream on the same topics that never breaks is the witness of what was
// published; a TCP relay between the client and the server is what cuts the connection.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, connect } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';
import {
  delivery, lostData, openStream, publish, startRelay, lastEventIdOf, watch, STEP_TIMEOUT_MS,
} from './support.mjs';

/** An EventSource whose every event is recorded: {type, data, id} (id: its lastEventId). */
function source(url, init) {
  const es = new EventSource(url, init);
  const log = [];
  const changes = watch(() => log);
  const record = (type) => (e) => {
    log.push({ type, data: e.data, id: e.lastEventId, at: Date.now() });
    changes.changed();
  };
  for (const type of ['open', 'error', 'message', 'lost']) es.addEventListener(type, record(type));
  return {
    es,
    log,
    messages: () => log.filter((e) => e.type === 'message'),
    waitFor: (predicate, label, ms) => changes.until(predicate, label, ms),
    count: (type, n, ms) =>
      changes.until((l) => l.filter((e) => e.type === type).length >= n, `${n} ${type}`, ms),
  };
}

// The reconnection waits for the server's `retry: 3000`.
const RECONNECT_MS = 3000 + STEP_TIMEOUT_MS;

const idsAndData = (events) => events.map(({ id, data }) => ({ id, data }));

/**
 * Runs `body` with a client that reaches the server through a relay (open already) and a witness
 * stream straight to the server, both on `target`; closes all three whatever happens.
 */
async function relayed(server, target, body) {
  const relay = await startRelay(server.port);
  const witness = await openStream(server.port, target);
  const client = source(`http://127.0.0.1:${relay.port}${target}`);
  try {
    await client.count('open', 1);
    await body({ relay, witness, client });
  } finally {
    client.es.close();
    witness.close();
    await relay.close();
  }
}

describe('eventsource (npm) against duplex serve', { concurrency: true, timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer(['--threads', '2', '--first-sequence', '1', '--history', '5']); });
  after(() => stopServer(server));

  test('live messages from POST /publish and a /pubsub WebSocket arrive in order', async () => {
    const topic = 'live ✓';
    const witness = await openStream(server.port, `/sse?topic=${encodeURIComponent(topic)}`);
    const client = source(`http://127.0.0.1:${server.port}/sse?topic=${encodeURIComponent(topic)}`);
    const ws = await connect(`${server.url}pubsub`);
    try {
      await client.count('open', 1);
      assert.equal(client.es.readyState, EventSource.OPEN);
      await publish(server.port, topic, 'plain text, "quoted"\nsecond line');
      await publish(server.port, topic, '{ "n" : [1, 2.50, -3e2], "ok": true }');
      ws.send(JSON.stringify({ type: 'publish', topic, data: { from: 'ws', list: [null] } }));
      // The WebSocket's publish has no answer, and its connection may be on the other loop:
      // it is delivered before the next POST only once seen.
      await client.count('message', 3);
      await publish(server.port, topic, '');
      await client.count('message', 4);
      await witness.messagesAtLeast(4);
      const expected = [
        delivery(topic, JSON.stringify('plain text, "quoted"\nsecond line')),
        delivery(topic, '{"n":[1,2.50,-3e2],"ok":true}'),
        delivery(topic, '{"from":"ws","list":[null]}'),
        delivery(topic, '""'),
      ];
      assert.deepEqual(client.messages().map((m) => m.data), expected);
      assert.deepEqual(idsAndData(client.messages()), idsAndData(witness.messages));
      const ids = client.messages().map((m) => Number(m.id));
      ids.forEach((id, i) => assert.ok(Number.isInteger(id) && (i === 0 || id > ids[i - 1]),
        `ids are growing integers: ${client.messages().map((m) => m.id)}`));
      assert.deepEqual(client.log.map((e) => e.type),
        ['open', 'message', 'message', 'message', 'message']);
    } finally {
      client.es.close();
      witness.close();
      ws.terminate();
    }
  });

  test('after its connection is cut it reconnects by itself with Last-Event-ID and gets exactly ' +
    'what it missed', async () => {
    const topic = 'resume';
    await relayed(server, `/sse?topic=${topic}`, async ({ relay, witness, client }) => {
      await publish(server.port, topic, '"before 1"');
      await publish(server.port, topic, '"before 2"');
      await client.count('message', 2);
      const seen = client.messages().at(-1).id;

      relay.cut();
      await client.count('error', 1);
      const cutAt = client.log.find((e) => e.type === 'error').at;
      // Published while the client is away: 3 of them, within the --history of 5.
      for (const n of [1, 2, 3]) await publish(server.port, topic, `"missed ${n}"`);
      await client.count('message', 5, RECONNECT_MS);
      await publish(server.port, topic, '"live again"');
      await client.count('message', 6);
      await witness.messagesAtLeast(6);

      assert.deepEqual(idsAndData(client.messages()), idsAndData(witness.messages));
      assert.deepEqual(client.messages().map((m) => JSON.parse(m.data).data),
        ['before 1', 'before 2', 'missed 1', 'missed 2', 'missed 3', 'live again']);
      assert.deepEqual(client.log.map((e) => e.type),
        ['open', 'message', 'message', 'error', 'open', 'message', 'message', 'message', 'message']);
      // Two requests: the first without Last-Event-ID, the second with the last id it saw, sent
      // once the server's `retry: 3000` had passed.
      assert.equal(relay.heads.length, 2, relay.heads.join('\n'));
      assert.equal(lastEventIdOf(relay.heads[0]), null);
      assert.equal(lastEventIdOf(relay.heads[1]), seen);
      const reopened = client.log.filter((e) => e.type === 'open')[1].at;
      assert.ok(reopened - cutAt >= 2900, `reconnected after ${reopened - cutAt} ms`);
    });
  });

  test('told with a `lost` event when the history no longer reaches back', async () => {
    const topic = 'lossy';
    await relayed(server, `/sse?topic=${topic}`, async ({ relay, witness, client }) => {
      await publish(server.port, topic, '"kept by the client"');
      await client.count('message', 1);
      const seen = client.messages()[0].id;
      relay.cut();
      await client.count('error', 1);
      // 8 while it is away: the server keeps the last 5.
      for (let n = 1; n <= 8; ++n) await publish(server.port, topic, `"while away ${n}"`);
      await client.count('message', 6, RECONNECT_MS);
      await witness.messagesAtLeast(9);

      const afterError = client.log.slice(client.log.findIndex((e) => e.type === 'error') + 1);
      assert.deepEqual(afterError.map((e) => e.type),
        ['open', 'lost', 'message', 'message', 'message', 'message', 'message']);
      // The lost event leaves the id where the client was; then the 5 the server kept.
      assert.deepEqual({ data: afterError[1].data, id: afterError[1].id },
        { data: lostData(topic), id: seen });
      assert.deepEqual(idsAndData(afterError.slice(2)), idsAndData(witness.messages.slice(4)));
      assert.equal(lastEventIdOf(relay.heads[1]), seen);
    });
  });

  test('a stream of several topics has one id for all and resumes them all from it', async () => {
    const topics = ['m a', 'm&b'];
    const target = `/sse?topic=${topics.map(encodeURIComponent).join('&topic=')}`;
    assert.equal(target, '/sse?topic=m%20a&topic=m%26b');
    await relayed(server, target, async ({ relay, witness, client }) => {
      await publish(server.port, 'm a', '1');
      await publish(server.port, 'm&b', '2');
      await client.count('message', 2);
      const [first, second] = client.messages();
      // Every topic's place, form-encoded, in the order the stream named them.
      const m = /^m\+a=(\d+)&m%26b=(\d+)$/.exec(first.id);
      assert.ok(m, `first id ${first.id}`);
      const m2 = /^m\+a=(\d+)&m%26b=(\d+)$/.exec(second.id);
      assert.ok(m2, `second id ${second.id}`);
      assert.equal(m2[1], m[1], 'm a has not moved');
      assert.ok(Number(m2[2]) > Number(m[1]), 'm&b is now past m a\'s message');
      assert.deepEqual([first.data, second.data], [delivery('m a', '1'), delivery('m&b', '2')]);

      relay.cut();
      await client.count('error', 1);
      await publish(server.port, 'm&b', '3');
      await publish(server.port, 'm a', '4');
      await publish(server.port, 'm&b', '5');
      await client.count('message', 5, RECONNECT_MS);
      await witness.messagesAtLeast(5);
      assert.equal(lastEventIdOf(relay.heads[1]), second.id);
      assert.deepEqual(idsAndData(client.messages()), idsAndData(witness.messages));
      assert.deepEqual(client.messages().map((e) => JSON.parse(e.data).data), [1, 2, 3, 4, 5]);
    });
  });
});

describe('eventsource (npm) across a restart of duplex serve on the same port',
  { concurrency: true, timeout: 60_000 }, () => {
    /**
     * A client sees 3 messages of topic `r` on a first run of the server; that run stops and a
     * new one starts on its port (the history lives in memory: it knows nothing of the first);
     * `publishBeforeReturn` is published to `r` there before the client has reconnected by
     * itself; then `check({client, seen, second})` runs, `seen` being the id the client had.
     * Both runs are stopped (each must exit 0) and the client closed whatever happens.
     */
    async function afterARestart(publishBeforeReturn, check) {
      const flags = ['--threads', '1'];
      let client;
      let first;
      let second;
      try {
        first = await startServer(flags);
        client = source(`http://127.0.0.1:${first.port}/sse?topic=r`);
        await client.count('open', 1);
        for (const n of [1, 2, 3]) await publish(first.port, 'r', `"first run ${n}"`);
        await client.count('message', 3);
        const seen = client.messages().at(-1).id;
        await stopServer(first);
        await client.count('error', 1);
        second = await startServer(flags, { port: first.port });
        for (const body of publishBeforeReturn) await publish(second.port, 'r', body);
        await client.count('open', 2, RECONNECT_MS);
        await check({ client, seen, second });
      } finally {
        client?.es.close();
        await stopServer(first);
        await stopServer(second);
      }
    }

    /** The events since the client's last 'open'. */
    const sinceReopen = (log) => log.slice(log.findLastIndex((e) => e.type === 'open') + 1);

    // Ids count from the clock at start (no --first-sequence): every run counts above the
    // runs before it.
    test('a client that comes back to a new run is told that it lost what it had', async () => {
      await afterARestart([], async ({ client, seen, second }) => {
        await client.count('lost', 1);
        await publish(second.port, 'r', '"second run 1"');
        await client.count('message', 4);
        // The lost event moves the id to the new run's place (its topic has none yet): the new
        // run's messages are taken, with ids above every id of the first run.
        const back = idsAndData(sinceReopen(client.log));
        assert.deepEqual(back.map((e) => e.data), [lostData('r'), delivery('r', '"second run 1"')]);
        assert.equal(back[0].id, '0');
        assert.ok(BigInt(back[1].id) > BigInt(seen), `${back[1].id} after ${seen}`);
        assert.ok(BigInt(back[1].id) < 2n ** 53n, 'ids are exact as JavaScript numbers');
      });
    });

    test('a client whose id is below what a new run has published is told that it lost', async () => {
      const second = [1, 2, 3, 4, 5].map((n) => `"second run ${n}"`);
      await afterARestart(second, async ({ client, second: run }) => {
        // The new run published before anyone able to come back followed the topic, so it kept
        // nothing: the client is told, then gets what comes next.
        await client.count('lost', 1);
        await publish(run.port, 'r', '"second run 6"');
        await client.waitFor((log) => sinceReopen(log).length >= 2, 'two events after reconnecting');
        const back = sinceReopen(client.log);
        assert.deepEqual(back.map((e) => e.type), ['lost', 'message'], JSON.stringify(back));
        assert.equal(back[1].data, delivery('r', '"second run 6"'));
      });
    });
  });
