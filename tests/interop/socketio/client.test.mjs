// The real socket.io-client 4.8 against Duplex's Socket.IO (tests/interop/socketio/
// socketio_test_server.cpp), on each transport setting and on two loops: events with every
// JSON type, acks both ways and their timeouts, rooms, except, broadcast, emits to a socket id,
// namespaces and middleware refusals, dynamic namespaces, binary both ways, disconnect reasons
// on both sides, reconnection after the server drops the transport, and rooms shared with
// /pubsub, SSE and POST /publish.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { startExample, withTimeout, sleep, request } from './support.mjs';

const bin = process.env.DUPLEX_SIO_TEST_SERVER;
if (!bin) throw new Error('DUPLEX_SIO_TEST_SERVER (socketio_test_server) is not set');

const once = (socket, event, ms = 5000) =>
  withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), ms, event);

async function connect(port, nsp = '/', options = {}) {
  const socket = io(`http://127.0.0.1:${port}${nsp}`, { forceNew: true, reconnection: false, ...options });
  const hello = once(socket, nsp.startsWith('/dyn-') ? 'dyn' : nsp === '/private' ? 'welcome' : 'hello');
  hello.catch(() => {});  // a refused connect never says hello
  try {
    await withTimeout(new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    }), 5000, `connect ${nsp}`);
  } catch (err) {
    socket.close();
    throw err;
  }
  return { socket, hello: await hello };
}

/** Emits with an acknowledgement; resolves with every argument of the answer. */
const ack = (socket, ...args) => new Promise((resolve, reject) => {
  socket.timeout(5000).emit(...args, (err, ...answer) => (err ? reject(err) : resolve(answer)));
});

const SETTINGS = [
  ['default transports', {}, 1],
  ['polling only', { transports: ['polling'] }, 1],
  ['websocket only', { transports: ['websocket'] }, 1],
  ['default transports on 2 loops', {}, 2],
];

for (const [label, options, threads] of SETTINGS) {
  describe(`socket.io-client, ${label}`, { timeout: 120_000 }, () => {
    let server;
    before(async () => { server = await startExample(bin, ['--threads', String(threads)]); });
    after(() => server.stop());
    const open = (nsp = '/', more = {}) => connect(server.port, nsp, { ...options, ...more });

    test('connect: the hello event carries the socket id and namespace', async () => {
      const { socket, hello } = await open();
      assert.deepEqual(hello, [socket.id, '/', false]);
      assert.match(socket.id, /^[A-Za-z0-9_-]{20}$/);
      socket.disconnect();
    });

    test('events with every JSON type come back exactly, with and without an ack', async () => {
      const { socket } = await open();
      const values = [null, true, false, 0, -1, 1.5, 1e21, 'é ✓ 😀 "q" \\ \n', [], {},
        { a: [1, { b: null }], 'k e y': 'v' }, 2 ** 53 - 1];
      assert.deepEqual(await ack(socket, 'echo', ...values), values);
      const echoed = once(socket, 'echo');
      socket.emit('echo', ...values);
      assert.deepEqual(await echoed, values);
      socket.disconnect();
    });

    test('binary both ways, several attachments in one emit', async () => {
      const { socket } = await open();
      const got = once(socket, 'binary');
      socket.emit('binary-back', Buffer.from([7, 7]), { deep: [Buffer.from([1])] });
      const [blob, nested, back] = await got;
      assert.deepEqual([...blob], [0, 1, 2, 255]);
      assert.deepEqual([...nested.nested], [9, 8]);
      assert.deepEqual([...back[0]], [7, 7]);
      assert.deepEqual([...back[1].deep[0]], [1]);
      socket.disconnect();
    });

    test('server-side acks: answered, and timed out when the client does not answer',
      async () => {
        const { socket } = await open();
        socket.once('question', (q, answer) => {
          assert.deepEqual(q, { q: 1 });
          answer('yes', 42);
        });
        let answered = once(socket, 'answer');
        socket.emit('server-ack', 2000);
        assert.deepEqual(await answered, [['yes', 42]]);
        socket.once('question', () => {});  // never answers
        answered = once(socket, 'answer');
        socket.emit('server-ack', 200);
        assert.deepEqual(await answered, ['timed out']);
        socket.disconnect();
      });

    test('rooms: join, to(room), except, several rooms at once (each socket once), leave',
      async () => {
        const a = await open();
        const b = await open();
        const c = await open();
        assert.deepEqual(await ack(a.socket, 'join', 'red'), [[a.socket.id, 'red']]);
        await ack(b.socket, 'join', 'red');
        await ack(b.socket, 'join', 'blue');
        await ack(c.socket, 'join', 'blue');
        const inbox = (s) => {
          const got = [];
          s.on('room-message', (...m) => got.push(m));
          return got;
        };
        const [ga, gb, gc] = [inbox(a.socket), inbox(b.socket), inbox(c.socket)];
        await ack(c.socket, 'to-room', 'red', 'room-message', 'to red', 1);
        await ack(c.socket, 'to-room-except', 'red', 'blue', 'red but not blue');
        await ack(c.socket, 'to-rooms', 'red', 'blue', 'red or blue');
        await sleep(300);
        assert.deepEqual(ga, [['to red', 1], ['red but not blue'], ['red or blue']]);
        assert.deepEqual(gb, [['to red', 1], ['red or blue']]);
        assert.deepEqual(gc, [['red or blue']]);
        assert.deepEqual((await ack(a.socket, 'fetch', 'red'))[0].sort(),
          [a.socket.id, b.socket.id].sort());
        assert.deepEqual(await ack(a.socket, 'leave', 'red'), [[a.socket.id]]);
        await ack(c.socket, 'to-room', 'red', 'room-message', 'after leave');
        await sleep(200);
        assert.equal(ga.length, 3);
        assert.deepEqual(gb.at(-1), ['after leave']);
        for (const s of [a, b, c]) s.socket.disconnect();
      });

    test('broadcast reaches every other socket; io.emit everyone; to(socket id) one', async () => {
      const a = await open();
      const b = await open();
      const fromB = once(b.socket, 'broadcast');
      let selfGot = false;
      a.socket.on('broadcast', () => { selfGot = true; });
      await ack(a.socket, 'broadcast', 'hi all');
      assert.deepEqual(await fromB, ['hi all']);
      const all = [once(a.socket, 'all'), once(b.socket, 'all')];
      await ack(a.socket, 'emit-all', { n: 1 });
      assert.deepEqual(await Promise.all(all), [[{ n: 1 }], [{ n: 1 }]]);
      const priv = once(b.socket, 'private');
      await ack(a.socket, 'to-socket', b.socket.id, 'psst');
      assert.deepEqual(await priv, ['psst', a.socket.id]);
      await sleep(100);
      assert.equal(selfGot, false);
      a.socket.disconnect();
      b.socket.disconnect();
    });

    test('sockets_join moves matching sockets into a room', async () => {
      const a = await open();
      await ack(a.socket, 'join', 'green');
      await ack(a.socket, 'sockets-join', 'green', 'yellow');
      await sleep(100);
      const got = once(a.socket, 'room-message');
      await ack(a.socket, 'to-room', 'yellow', 'room-message', 'yellow now');
      assert.deepEqual(await got, ['yellow now']);
      a.socket.disconnect();
    });

    test('namespaces: middleware refuses with message and data, accepts with the token; ' +
      'dynamic namespaces; unknown ones refused', async () => {
      await assert.rejects(open('/private'), (err) => {
        assert.equal(err.message, 'not authorized');
        assert.deepEqual(err.data, { code: 401 });
        return true;
      });
      const ok = await open('/private', { auth: { token: 'secret' } });
      assert.deepEqual(ok.hello, ['/private']);
      ok.socket.disconnect();
      const dyn = await open('/dyn-42');
      assert.deepEqual(dyn.hello, ['/dyn-42']);
      dyn.socket.disconnect();
      await assert.rejects(open('/nowhere'), /Invalid namespace/);
    });

    test('disconnect reasons on both sides: io server disconnect (the namespace, or the whole ' +
      'client), client namespace disconnect', async () => {
      const a = await open();
      const aid = a.socket.id;
      let reason = once(a.socket, 'disconnect');
      a.socket.emit('disconnect-me', false);
      assert.equal((await reason)[0], 'io server disconnect');
      const b = await open();
      const bid = b.socket.id;
      reason = once(b.socket, 'disconnect');
      b.socket.emit('disconnect-me', true);
      assert.equal((await reason)[0], 'io server disconnect');
      const c = await open();
      const cid = c.socket.id;
      c.socket.disconnect();
      const watcher = await open();
      await sleep(200);
      const [reasons] = await ack(watcher.socket, 'reasons');
      assert.equal(reasons[aid], 'server namespace disconnect');
      assert.equal(reasons[bid], 'server namespace disconnect');
      assert.equal(reasons[cid], 'client namespace disconnect');
      watcher.socket.disconnect();
    });

    test('a socket left quiet for several ping intervals stays connected', async () => {
      const { socket } = await open();
      await sleep(1500);
      assert.equal(socket.connected, true);
      assert.deepEqual(await ack(socket, 'echo', 'after quiet'), ['after quiet']);
      socket.disconnect();
    });

    test('rooms are /pubsub, SSE and POST /publish topics: both directions', async () => {
      const { socket } = await open();
      await ack(socket, 'join', 'news');
      const sub = new WebSocket(`ws://127.0.0.1:${server.port}/pubsub`);
      const subGot = [];
      await new Promise((resolve) => sub.once('open', resolve));
      sub.on('message', (d) => subGot.push(JSON.parse(d.toString())));
      sub.send(JSON.stringify({ type: 'subscribe', topic: 'news' }));
      const es = new EventSource(`http://127.0.0.1:${server.port}/sse?topic=news`);
      const sseGot = [];
      es.onmessage = (e) => sseGot.push(JSON.parse(e.data));
      await new Promise((resolve) => { es.onopen = resolve; });
      await sleep(100);
      // From /pubsub and POST /publish to the room.
      const fromPubsub = once(socket, 'message');
      sub.send(JSON.stringify({ type: 'publish', topic: 'news', data: { headline: 'a' } }));
      assert.deepEqual(await fromPubsub, [{ headline: 'a' }]);
      const fromPost = once(socket, 'message');
      await fetch(`http://127.0.0.1:${server.port}/publish?topic=news`, { method: 'POST', body: '"b"' });
      assert.deepEqual(await fromPost, ['b']);
      // From the room to /pubsub and SSE; an event of another name stays in Socket.IO.
      await ack(socket, 'to-room', 'news', 'other', 'not for pubsub');
      await ack(socket, 'to-room', 'news', 'message', { headline: 'c' });
      await sleep(300);
      const expected = [
        { type: 'message', topic: 'news', data: { headline: 'a' } },
        { type: 'message', topic: 'news', data: 'b' },
        { type: 'message', topic: 'news', data: { headline: 'c' } },
      ];
      assert.deepEqual(subGot.filter((m) => m.type === 'message'), expected);
      assert.deepEqual(sseGot, expected);
      es.close();
      sub.close();
      socket.disconnect();
    });
  });
}

describe('connection state recovery (--recovery: a 3 s window)', { timeout: 60_000 }, () => {
  for (const transports of [['websocket'], ['polling']]) {
    test(`${transports[0]}: a dropped transport comes back with its id, rooms and data, and ` +
      'the emits it missed, each with its offset', async () => {
      const server = await startExample(bin, ['--recovery']);
      try {
        const socket = io(`http://127.0.0.1:${server.port}`, {
          forceNew: true, transports, reconnectionDelay: 100, reconnectionDelayMax: 100,
        });
        const hellos = [];
        socket.on('hello', (...args) => hellos.push(args));
        await once(socket, 'connect');
        const id = socket.id;
        assert.equal(socket.recovered, false);
        const other = await connect(server.port, '/', { transports: ['websocket'] });
        await ack(socket, 'join', 'kept');
        const got = [];
        socket.on('room-message', (...args) => got.push(args));
        await ack(other.socket, 'to-room', 'kept', 'room-message', 'before');
        await withTimeout((async () => { while (got.length < 1) await sleep(20); })(), 5000, 'before');
        const dropped = once(socket, 'disconnect');
        socket.emit('drop-transport');
        assert.equal((await dropped)[0], 'transport close');
        // While it is away: a room emit, a namespace emit, and one for another room.
        await ack(other.socket, 'to-room', 'kept', 'room-message', 'while away');
        await ack(other.socket, 'to-room', 'elsewhere', 'room-message', 'not for it');
        await ack(other.socket, 'emit-all', 'to all');
        const all = once(socket, 'all');
        await once(socket, 'connect', 10_000);
        assert.equal(socket.recovered, true);
        assert.equal(socket.id, id);
        const [allArgs] = [await all];
        assert.equal(allArgs[0], 'to all');
        await withTimeout((async () => { while (got.length < 2) await sleep(20); })(), 5000, 'missed');
        // Every replayable emit carries its offset as its last argument (as in Node).
        assert.deepEqual(got.map((g) => g[0]), ['before', 'while away']);
        assert.ok(got.every((g) => typeof g.at(-1) === 'string' && /^\d+$/.test(g.at(-1))));
        assert.deepEqual((await ack(socket, 'join', 'second'))[0], [id, 'kept', 'second']);
        assert.deepEqual(await ack(socket, 'data'), [`first seen as ${id}`]);
        assert.deepEqual(hellos.map((h) => h[2]), [false, true]);
        socket.disconnect();
        other.socket.disconnect();
      } finally {
        await server.stop();
      }
    });
  }

  test('after the window, or after a namespace disconnect, nothing is recovered', async () => {
    const server = await startExample(bin, ['--recovery']);
    try {
      const socket = io(`http://127.0.0.1:${server.port}`, {
        forceNew: true, transports: ['websocket'], reconnectionDelay: 3500, reconnectionDelayMax: 3500,
        randomizationFactor: 0,
      });
      await once(socket, 'connect');
      const id = socket.id;
      await ack(socket, 'emit-all', 'an offset');
      await sleep(100);
      socket.emit('drop-transport');
      await once(socket, 'disconnect');
      await once(socket, 'connect', 10_000);
      assert.equal(socket.recovered, false);
      assert.notEqual(socket.id, id);
      socket.disconnect();
    } finally {
      await server.stop();
    }
  });
});

describe('ping timeout seen by the client', { timeout: 30_000 }, () => {
  test('a server that stops answering (SIGSTOP) is dropped by the client with "ping timeout"',
    async () => {
      const server = await startExample(bin);
      try {
        const { socket } = await connect(server.port, '/', { transports: ['websocket'] });
        const reason = once(socket, 'disconnect', 10_000);
        server.proc.kill('SIGSTOP');
        try {
          assert.equal((await reason)[0], 'ping timeout');
        } finally {
          server.proc.kill('SIGCONT');
        }
        socket.close();
      } finally {
        await server.stop();
      }
    });
});

describe('the io cookie', { timeout: 30_000 }, () => {
  test('the handshake sets io=<sid> as the reference does when the cookie is on', async () => {
    const server = await startExample(bin, ['--cookie']);
    try {
      const res = await request(server.port, '/socket.io/?EIO=4&transport=polling');
      const sid = JSON.parse(res.text.slice(1)).sid;
      assert.deepEqual(res.headers['set-cookie'], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
      const again = await request(server.port,
        `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '40' });
      assert.equal(again.headers['set-cookie'], undefined);
    } finally {
      await server.stop();
    }
  });
});

describe('volatile emits', { timeout: 30_000 }, () => {
  test('skip a polling client with no poll held, reach one with a poll held or on WebSocket',
    async () => {
      const server = await startExample(bin);
      try {
        const base = `/socket.io/?EIO=4&transport=polling`;
        const open = await request(server.port, base);
        const sid = JSON.parse(open.text.slice(1)).sid;
        const post = (body) => request(server.port, `${base}&sid=${sid}`, { method: 'POST', body });
        const poll = () => request(server.port, `${base}&sid=${sid}`);
        assert.equal((await post('40')).text, 'ok');
        assert.match((await poll()).text, /^40\{"sid":"[^"]+"\}\x1e42\["hello",/);
        const ws = await connect(server.port, '/', { transports: ['websocket'] });
        const wsGot = once(ws.socket, 'volatile');
        // No poll held by the raw client: its copy is dropped; the ack still comes.
        assert.equal((await post('421["volatile","v1"]')).text, 'ok');
        assert.deepEqual(await wsGot, ['v1']);
        assert.equal((await poll()).text, '431[true]');
        // With a poll held, it arrives.
        const held = poll();
        await sleep(100);
        await ack(ws.socket, 'volatile', 'v2');
        assert.equal((await held).text, '42["volatile","v2"]');
        ws.socket.disconnect();
      } finally {
        await server.stop();
      }
    });
});

describe('reconnection after the server drops the transport', { timeout: 60_000 }, () => {
  test('the client sees "transport close" and reconnects with a new id to a new server on ' +
    'the same port', async () => {
    let server = await startExample(bin);
    const port = server.port;
    const socket = io(`http://127.0.0.1:${port}`, {
      forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, transports: ['websocket'],
    });
    await once(socket, 'connect');
    const firstId = socket.id;
    const dropped = once(socket, 'disconnect');
    await server.stop();
    const [reason] = await dropped;
    assert.equal(reason, 'transport close');
    server = await startExample(bin, [], { port });
    await once(socket, 'connect', 10_000);
    assert.notEqual(socket.id, firstId);
    assert.equal(await socket.timeout(5000).emitWithAck('echo', 'back'), 'back');
    socket.disconnect();
    await server.stop();
  });
});
