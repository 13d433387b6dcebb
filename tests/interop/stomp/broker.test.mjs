// duplex serve's STOMP broker at /stomp with the real @stomp/stompjs 7 (over Node's `ws`), and a
// raw WebSocket for the frames stompjs never sends: topics, queues, acks and redelivery,
// transactions, receipts, heart-beats held and missed, escaping, binary bodies, one topic space
// with /pubsub, and ERROR then close on bad input with nobody else disturbed.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, WebSocket, withTimeout } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';
import { stompClient, collect, rawStomp, deactivate } from './support.mjs';

/** The ERROR frame the broker sends: its message header, text/plain, the body's length, body. */
const errorFrame = (message, body) => `ERROR\nmessage:${message}\ncontent-type:text/plain\n` +
  `content-length:${Buffer.byteLength(body)}\n\n${body}\0`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A subscription is in place once the broker answered a receipt sent after it.
async function settled(client) {
  const receipt = `settle-${Math.random()}`;
  const done = new Promise((resolve) => client.watchForReceipt(receipt, resolve));
  client.publish({ destination: '/topic/settle', body: '', headers: { receipt } });
  await withTimeout(done, 10_000, 'a receipt');
}

describe('STOMP at /stomp', { timeout: 120_000 }, () => {
  let server;
  let url;
  before(async () => {
    server = await startServer(['--stomp-heart-beat', '0.4', '--stomp-heart-beat-grace', '0.3']);
    url = `ws://127.0.0.1:${server.port}/stomp`;
  });
  after(() => stopServer(server));

  test('CONNECT: CONNECTED with the version, the negotiated heart-beat, a session and the server',
    async () => {
      const raw = await rawStomp(url);
      assert.equal(raw.ws.protocol, 'v12.stomp');
      raw.send('CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\nheart-beat:0,0\n\n\0');
      const [connected] = await raw.next(1);
      assert.match(connected, /^CONNECTED\nversion:1\.2\nheart-beat:0,0\nsession:session-\d+\nserver:Duplex\n\n\0$/);
      raw.send('DISCONNECT\nreceipt:bye\n\n\0');
      assert.deepEqual(await raw.next(2), [connected, 'RECEIPT\nreceipt-id:bye\n\n\0']);
      assert.deepEqual(await raw.closed(), { code: 1000, reason: '' });
    });

  test('a topic: every subscriber gets every message, with the sender\'s headers escaped both ways',
    async () => {
      const [a, b, c] = await Promise.all([stompClient(url), stompClient(url), stompClient(url)]);
      try {
        const got = [collect(a, '/topic/news'), collect(b, '/topic/news')];
        await settled(a);
        await settled(b);
        c.publish({ destination: '/topic/news', body: 'first ✓',
          headers: { 'content-type': 'text/plain', 'x-odd': 'a:b\nc\\d' } });
        c.publish({ destination: '/topic/news', body: 'second' });
        for (const box of got) {
          const [m1, m2] = await box.next(2);
          assert.equal(m1.body, 'first ✓');
          assert.equal(m1.headers.destination, '/topic/news');
          assert.equal(m1.headers.subscription, 'sub-0');
          assert.equal(m1.headers['content-type'], 'text/plain');
          assert.equal(m1.headers['x-odd'], 'a:b\nc\\d');
          assert.equal(m1.headers['content-length'], String(Buffer.byteLength('first ✓')));
          assert.equal(m2.body, 'second');
          assert.notEqual(m1.headers['message-id'], m2.headers['message-id']);
        }
      } finally {
        await deactivate(a, b, c);
      }
    });

  test('a binary body with NUL and non-UTF-8 bytes arrives as sent (a binary WebSocket message)',
    async () => {
      const [a, b] = await Promise.all([stompClient(url), stompClient(url)]);
      const raw = await rawStomp(url);
      try {
        raw.send('CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:r\ndestination:/topic/bin\nreceipt:s\n\n\0');
        await raw.next(2);
        const box = collect(a, '/topic/bin');
        await settled(a);
        const bytes = new Uint8Array([0, 1, 0xff, 0xfe, 0, 65]);
        b.publish({ destination: '/topic/bin', binaryBody: bytes });
        const [m] = await box.next(1);
        assert.deepEqual([...m.binaryBody], [...bytes]);
        const [, , frame] = await raw.next(3);
        assert.ok(Buffer.isBuffer(frame), 'a binary WebSocket message');
        const head = 'MESSAGE\nsubscription:r\ndestination:/topic/bin\nmessage-id:';
        assert.equal(frame.subarray(0, head.length).toString(), head);
        assert.deepEqual([...frame.subarray(frame.length - 7)], [0, 1, 0xff, 0xfe, 0, 65, 0]);
        assert.match(frame.toString('latin1'), /\ncontent-length:6\n\n/);
      } finally {
        raw.ws.close();
        await deactivate(a, b);
      }
    });

  test('a 1 MiB body arrives whole; a frame split across WebSocket messages and several frames in ' +
    'one message are read as frames', async () => {
    const [a, b] = await Promise.all([stompClient(url), stompClient(url)]);
    const raw = await rawStomp(url);
    try {
      const box = collect(a, '/topic/big');
      await settled(a);
      const big = 'x'.repeat(1 << 20);
      b.publish({ destination: '/topic/big', body: big });
      const [m] = await box.next(1);
      assert.equal(m.body.length, big.length);
      assert.equal(m.body, big);
      // CONNECT and a SUBSCRIBE in one message, a SEND cut in three, then two SENDs in one.
      raw.send('CONNECT\naccept-version:1.2\n\n\0\nSUBSCRIBE\nid:0\ndestination:/topic/big\n\n\0');
      await raw.next(1);
      raw.send('SEND\ndestina');
      raw.send('tion:/topic/big\ncontent-le');
      raw.send('ngth:3\n\na\0b\0');
      raw.send('SEND\ndestination:/topic/big\n\none\0\nSEND\ndestination:/topic/big\n\ntwo\0');
      const bodies = (await box.next(4)).slice(1).map((msg) => msg.body);
      assert.deepEqual(bodies, ['a\0b', 'one', 'two']);
    } finally {
      raw.ws.close();
      await deactivate(a, b);
    }
  });

  test('a queue: each message to one subscriber in turns; kept, in order, while nobody listens',
    async () => {
      const [producer, c1, c2] = await Promise.all([stompClient(url), stompClient(url),
        stompClient(url)]);
      try {
        for (const n of [1, 2, 3]) producer.publish({ destination: '/queue/kept', body: `k${n}` });
        await settled(producer);
        const first = collect(c1, '/queue/kept');
        assert.deepEqual((await first.next(3)).map((m) => m.body), ['k1', 'k2', 'k3']);
        const second = collect(c2, '/queue/kept');
        await settled(c2);
        for (const n of [1, 2, 3, 4]) producer.publish({ destination: '/queue/kept', body: `r${n}` });
        await first.next(5);
        await second.next(2);
        assert.deepEqual(first.messages.slice(3).map((m) => m.body), ['r1', 'r3']);
        assert.deepEqual(second.messages.map((m) => m.body), ['r2', 'r4']);
        assert.equal(first.messages[0].headers.destination, '/queue/kept');
        assert.equal(first.messages[0].headers.redelivered, undefined);
      } finally {
        await deactivate(producer, c1, c2);
      }
    });

  test('client-individual: a NACKed message and one its subscriber left unacknowledged go to ' +
    'the next subscriber, marked redelivered', async () => {
    const [producer, c1, c2] = await Promise.all([stompClient(url), stompClient(url),
      stompClient(url)]);
    try {
      const one = collect(c1, '/queue/jobs', { ack: 'client-individual', 'prefetch-count': '1' });
      await settled(c1);
      producer.publish({ destination: '/queue/jobs', body: 'job-a' });
      producer.publish({ destination: '/queue/jobs', body: 'job-b' });
      const [a] = await one.next(1);
      assert.equal(a.body, 'job-a');
      assert.equal(a.headers.ack, a.headers['message-id']);
      await sleep(100);
      assert.equal(one.messages.length, 1, 'prefetch-count 1 holds job-b back');
      a.nack();
      const [, again] = await one.next(2);
      assert.equal(again.body, 'job-a');
      assert.equal(again.headers.redelivered, 'true');
      again.ack();
      const [, , b] = await one.next(3);
      assert.equal(b.body, 'job-b');
      // c1 leaves holding job-b unacknowledged: c2 gets it.
      const two = collect(c2, '/queue/jobs', { ack: 'client-individual' });
      await settled(c2);
      await c1.deactivate();
      const [b2] = await two.next(1);
      assert.equal(b2.body, 'job-b');
      assert.equal(b2.headers.redelivered, 'true');
      b2.ack();
    } finally {
      await deactivate(producer, c1, c2);
    }
  });

  test('client mode acknowledges cumulatively: nothing comes back after an ACK of the last',
    async () => {
      const [producer, c1, c2] = await Promise.all([stompClient(url), stompClient(url),
        stompClient(url)]);
      try {
        const one = collect(c1, '/queue/cumulative', { ack: 'client' });
        await settled(c1);
        for (const n of [1, 2, 3]) producer.publish({ destination: '/queue/cumulative', body: `c${n}` });
        const got = await one.next(3);
        got[2].ack();
        await settled(c1);
        await c1.deactivate();
        const two = collect(c2, '/queue/cumulative', { ack: 'client' });
        await settled(c2);
        producer.publish({ destination: '/queue/cumulative', body: 'after' });
        const [m] = await two.next(1);
        assert.equal(m.body, 'after');
        assert.equal(m.headers.redelivered, undefined);
      } finally {
        await deactivate(producer, c1, c2);
      }
    });

  test('transactions: an aborted one sends nothing, a committed one sends in order', async () => {
    const [producer, consumer] = await Promise.all([stompClient(url), stompClient(url)]);
    try {
      const box = collect(consumer, '/topic/tx');
      await settled(consumer);
      const aborted = producer.begin();
      producer.publish({ destination: '/topic/tx', body: 'never', headers: { transaction: aborted.id } });
      aborted.abort();
      const committed = producer.begin();
      producer.publish({ destination: '/topic/tx', body: 't1', headers: { transaction: committed.id } });
      producer.publish({ destination: '/topic/tx', body: 't2', headers: { transaction: committed.id } });
      await settled(producer);
      await sleep(100);
      assert.equal(box.messages.length, 0, 'nothing before the commit');
      committed.commit();
      assert.deepEqual((await box.next(2)).map((m) => m.body), ['t1', 't2']);
      await sleep(100);
      assert.equal(box.messages.length, 2);
    } finally {
      await deactivate(producer, consumer);
    }
  });

  test('one topic space: a SEND to /topic/x reaches /pubsub\'s topic x, and its publishes reach ' +
    'STOMP', async () => {
    const stomp = await stompClient(url);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/pubsub`);
    const inbox = [];
    ws.on('message', (d) => inbox.push(JSON.parse(d.toString())));
    try {
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 10_000, '/pubsub open');
      ws.send(JSON.stringify({ type: 'subscribe', topic: 'shared' }));
      const box = collect(stomp, '/topic/shared');
      await settled(stomp);
      await withTimeout((async () => { while (inbox.length < 1) await sleep(10); })(), 10_000, 'subscribed');
      stomp.publish({ destination: '/topic/shared', body: 'from STOMP' });
      stomp.publish({ destination: '/topic/shared', body: '{"n":1}' });
      ws.send(JSON.stringify({ type: 'publish', topic: 'shared', data: 'from /pubsub' }));
      ws.send(JSON.stringify({ type: 'publish', topic: 'shared', data: { n: 2 } }));
      // Each publisher's messages in its order (the two publishers' may interleave: they are on
      // different connections, maybe different loops).
      const bodies = (await box.next(4)).map((m) => m.body);
      assert.deepEqual(bodies.filter((b) => b === 'from STOMP' || b === '{"n":1}'),
        ['from STOMP', '{"n":1}']);
      assert.deepEqual(bodies.filter((b) => b === 'from /pubsub' || b === '{"n":2}'),
        ['from /pubsub', '{"n":2}']);
      await withTimeout((async () => { while (inbox.length < 5) await sleep(10); })(), 10_000, '/pubsub deliveries');
      const json = inbox.slice(1).map((m) => JSON.stringify(m));
      const expected = [
        { type: 'message', topic: 'shared', data: 'from STOMP' },
        { type: 'message', topic: 'shared', data: { n: 1 } },
        { type: 'message', topic: 'shared', data: 'from /pubsub' },
        { type: 'message', topic: 'shared', data: { n: 2 } },
      ].map((m) => JSON.stringify(m));
      assert.deepEqual(json.filter((m) => expected.slice(0, 2).includes(m)), expected.slice(0, 2));
      assert.deepEqual(json.filter((m) => expected.slice(2).includes(m)), expected.slice(2));
      assert.equal(json.length, 4);
    } finally {
      ws.close();
      await deactivate(stomp);
    }
  });

  test('heart-beats: the broker sends them and stays with a client that sends its own; a silent ' +
    'client is dropped with an ERROR', async () => {
    const lively = await stompClient(url, { heartbeatIncoming: 400, heartbeatOutgoing: 400 });
    const box = collect(lively, '/topic/alive');
    await settled(lively);
    assert.equal(lively.connectedFrame.headers['heart-beat'], '400,400');
    const raw = await rawStomp(url);
    raw.send('CONNECT\naccept-version:1.2\nheart-beat:400,0\n\n\0');
    const [connected] = await raw.next(1);
    assert.match(connected, /\nheart-beat:0,400\n/);
    const started = Date.now();
    const closed = await raw.closed();
    const waited = Date.now() - started;
    assert.deepEqual(closed, { code: 1008, reason: '' });
    assert.equal(raw.received[1],
      errorFrame('Heart-beat timeout', 'No heart-beat from the client within 700 ms.'));
    assert.ok(waited >= 600, `dropped after ${waited} ms`);
    await sleep(1500);  // longer than the timeout: the lively client is still there
    assert.equal(lively.connected, true);
    lively.publish({ destination: '/topic/alive', body: 'still here' });
    assert.equal((await box.next(1))[0].body, 'still here');
    await deactivate(lively);
  });

  test('a topic subscriber in client mode that never acknowledges: its 10,001st message is an ' +
    'ERROR and the close (queue_max_messages); every acknowledged one was sent, others go on',
  async () => {
    const lazy = await rawStomp(url);
    lazy.send('CONNECT\naccept-version:1.2\n\n\0');
    await lazy.next(1);
    lazy.send('SUBSCRIBE\nid:s\ndestination:/topic/flood\nack:client-individual\nreceipt:r\n\n\0');
    assert.equal((await lazy.next(2))[1], 'RECEIPT\nreceipt-id:r\n\n\0');
    const steady = await stompClient(url);
    const box = collect(steady, '/topic/flood');
    await settled(steady);
    const sender = await rawStomp(url);
    sender.send('CONNECT\naccept-version:1.2\n\n\0');
    await sender.next(1);
    // 10,001 SENDs in a few WebSocket messages.
    for (let batch = 0; batch < 10; ++batch) {
      let frames = '';
      for (let i = 0; i < 1000; ++i) frames += `SEND\ndestination:/topic/flood\n\n${batch * 1000 + i}\0`;
      sender.send(frames);
    }
    sender.send('SEND\ndestination:/topic/flood\nreceipt:last\n\n10000\0');
    assert.equal((await sender.next(2))[1], 'RECEIPT\nreceipt-id:last\n\n\0');
    assert.deepEqual(await lazy.closed(), { code: 1008, reason: '' });
    // CONNECTED, the receipt, 10,000 MESSAGEs (each with its ack id), then the ERROR.
    assert.equal(lazy.received.length, 2 + 10000 + 1);
    assert.equal(lazy.received[2], 'MESSAGE\nsubscription:s\ndestination:/topic/flood\n' +
      'message-id:1\nack:1\ncontent-length:1\n\n0\0');
    assert.match(lazy.received[10001], /^MESSAGE\nsubscription:s\n.*\nack:10000\n.*\n\n9999\0$/s);
    assert.equal(lazy.received[10002], errorFrame('Too many unacknowledged messages',
      'Subscription s to /topic/flood holds 10000 unacknowledged messages ' +
      '(queue_max_messages): ACK them as they come.'));
    // The auto-ack subscriber got all 10,001, in order.
    const all = await box.next(10001);
    assert.deepEqual(all.map((m) => m.body), Array.from({ length: 10001 }, (_, i) => String(i)));
    sender.ws.close();
    await deactivate(steady);
  });

  for (const [what, frames, expected] of [
    ['an unknown command', 'FOO\n\n\0',
      errorFrame('Unknown command', 'The frame\'s command line (FOO) is no STOMP command.')],
    ['a SEND without a destination, with the receipt it asked for', 'SEND\nreceipt:77\n\nx\0',
      'ERROR\nmessage:Missing destination header\nreceipt-id:77\ncontent-type:text/plain\n' +
      'content-length:41\n\nThe SEND frame has no destination header.\0'],
    ['a SEND to a destination that is neither a topic nor a queue', 'SEND\ndestination:/elsewhere\n\nx\0',
      errorFrame('Unknown destination', 'SEND to /elsewhere: Destinations are /topic/<name> ' +
        '(every subscriber gets every message), /queue/<name> (each message to one subscriber) ' +
        'and /user/<user>/<name> (to the subscribers of /user/<name> that are that user\'s).')],
    ['a header line without a colon', 'SEND\ndestination\n\nx\0',
      errorFrame('Header line without a colon',
        'The frame could not be read (Header line without a colon).')],
  ]) {
    test(`${what}: ERROR, then the close; another client is not disturbed`, async () => {
      const bystander = await stompClient(url);
      const box = collect(bystander, '/topic/calm');
      await settled(bystander);
      const raw = await rawStomp(url);
      raw.send('CONNECT\naccept-version:1.2\n\n\0');
      await raw.next(1);
      raw.send(frames);
      const [, error] = await raw.next(2);
      if (typeof expected === 'string') assert.equal(error, expected);
      else assert.match(error, expected);
      assert.deepEqual(await raw.closed(), { code: 1008, reason: '' });
      bystander.publish({ destination: '/topic/calm', body: 'calm' });
      assert.equal((await box.next(1))[0].body, 'calm');
      await deactivate(bystander);
    });
  }
});
