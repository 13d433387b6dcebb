// Several `duplex serve --threads 2 --redis redis://...` nodes on one real redis-server: a
// /pubsub publisher on one node reaches subscribers on the others exactly once and in order (its
// own node's once, not twice); only channels with subscribers are subscribed in Redis, and a
// publish nobody subscribes to is one PUBLISH and nothing else (Redis's MONITOR and PUBSUB say
// so); SSE streams, STOMP (headers and binary bodies as sent) and Socket.IO (the chat, rooms,
// binary arguments) take part; Redis killed mid-stream and started again (local delivery
// throughout, the losses counted, delivery across nodes back once re-subscribed, nothing else
// lost); Redis stalled (publishes past the buffer bound dropped and counted); a node killed (the
// others go on, its clients move); `duplex bench --node` across nodes; a node started before
// Redis; a quiet pause longer than every timeout; a bad URL.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { duplexBin } from '../node/helpers.mjs';
import { openStream, publish as httpPublish } from '../sse/support.mjs';
import { io as ioClient } from 'socket.io-client';
import { stompClient, collect } from '../stomp/support.mjs';
import { bench, benchStatus } from '../../bench_smoke/bench_support.mjs';
import {
  startRedis, startNode, pubsubClient, stopServer, redisLines, waitForLine, topicChannel,
  delivery, sleep, eventually, withTimeout, STEP_TIMEOUT_MS,
} from './support.mjs';

const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
const deliveries = (topic, numbers) => numbers.map((i) => delivery(topic, i));
const dataOf = (text) => JSON.parse(text).data;

/**
 * A /pubsub publisher on node `a`, and a subscriber of `topic` on `a` and one on `b`, resolved
 * once Redis counts both nodes' subscriptions.
 */
async function publisherAndSubscribers(redis, a, b, topic) {
  const publisher = await pubsubClient(a);
  const local = await pubsubClient(a);
  const remote = await pubsubClient(b);
  await local.subscribe(topic);
  await remote.subscribe(topic);
  await redis.waitNumsub(topicChannel(topic), 2);
  return { publisher, local, remote };
}

/** Runs `body(redis, nodes)` with redis-server and `count` nodes, stopping all of them after. */
async function withCluster(count, body, flags = []) {
  const redis = await startRedis();
  const nodes = [];
  try {
    for (let i = 0; i < count; ++i) nodes.push(await startNode(redis.url, flags));
    await body(redis, nodes);
  } finally {
    for (const node of nodes) await stopServer(node);
    await redis.stop();
  }
}

describe('duplex serve nodes sharing topics through Redis', () => {
  test('a publisher on node A reaches subscribers on B and C exactly once each, in order, and ' +
       "its own node's once", async () => {
    await withCluster(3, async (redis, [a, b, c]) => {
      const publisher = await pubsubClient(a);
      const subscribers = [await pubsubClient(a), await pubsubClient(b), await pubsubClient(b),
        await pubsubClient(c)];
      for (const s of [publisher, ...subscribers]) await s.subscribe('fan');
      await redis.waitNumsub(topicChannel('fan'), 3);  // one subscription per node, not per client
      for (const i of range(0, 200)) publisher.publish('fan', i);
      const expected = deliveries('fan', range(0, 200));
      for (const s of [publisher, ...subscribers]) assert.deepEqual(await s.take(200), expected);
      for (const s of [publisher, ...subscribers]) await s.nothingWithin(500);
      for (const s of [publisher, ...subscribers]) s.close();
    });
  });

  test('publishers on two nodes at once: each one keeps its order at every subscriber',
    async () => {
      await withCluster(2, async (redis, [a, b]) => {
        const pa = await pubsubClient(a);
        const pb = await pubsubClient(b);
        const subscribers = [await pubsubClient(a), await pubsubClient(b)];
        for (const s of subscribers) await s.subscribe('both');
        await redis.waitNumsub(topicChannel('both'), 2);
        for (const i of range(0, 150)) {
          pa.publish('both', `a${i}`);
          pb.publish('both', `b${i}`);
        }
        for (const s of subscribers) {
          const got = (await s.take(300)).map(dataOf);
          assert.deepEqual(got.filter((d) => d.startsWith('a')), range(0, 150).map((i) => `a${i}`));
          assert.deepEqual(got.filter((d) => d.startsWith('b')), range(0, 150).map((i) => `b${i}`));
          await s.nothingWithin(300);
        }
        for (const s of [pa, pb, ...subscribers]) s.close();
      });
    });

  test('only channels with subscribers are subscribed in Redis: a publish nobody wants is one ' +
       'PUBLISH and nothing else', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const nodeChannels = await redis.channels();
      assert.equal(nodeChannels.length, 2, `one node channel each: ${nodeChannels}`);
      for (const channel of nodeChannels) assert.match(channel, /^duplex:node:[0-9a-f]{16}$/);
      const monitor = await redis.monitor();
      const seen = () => monitor.pubsub().filter((cmd) => cmd.args[0] === topicChannel('lonely'))
        .map((cmd) => cmd.name);
      try {
        const publisher = await pubsubClient(a);
        publisher.publish('lonely', 1);
        await eventually(() => seen().length === 1, 'the PUBLISH in MONITOR');
        await sleep(300);
        assert.deepEqual(seen(), ['PUBLISH']);
        assert.deepEqual(await redis.numsub(topicChannel('lonely')), { [topicChannel('lonely')]: 0 });
        assert.deepEqual(await redis.channels(), nodeChannels);

        // Two subscribers on B: one SUBSCRIBE; each gets the message once.
        const first = await pubsubClient(b);
        const second = await pubsubClient(b);
        await first.subscribe('lonely');
        await second.subscribe('lonely');
        await redis.waitNumsub(topicChannel('lonely'), 1);
        assert.deepEqual(await redis.channels(), [...nodeChannels, topicChannel('lonely')].sort());
        publisher.publish('lonely', 2);
        assert.equal(await first.next(), delivery('lonely', 2));
        assert.equal(await second.next(), delivery('lonely', 2));
        // MONITOR's copy may come after the delivery.
        await eventually(() => seen().length >= 3, 'the second PUBLISH in MONITOR');
        assert.deepEqual(seen(), ['PUBLISH', 'SUBSCRIBE', 'PUBLISH']);

        // The last one's leaving unsubscribes; the first's does not.
        await first.unsubscribe('lonely');
        await sleep(300);
        assert.deepEqual(seen(), ['PUBLISH', 'SUBSCRIBE', 'PUBLISH']);
        second.close();
        await redis.waitNumsub(topicChannel('lonely'), 0);
        await eventually(() => seen().length >= 4, 'the UNSUBSCRIBE in MONITOR');
        await sleep(300);
        assert.deepEqual(seen(), ['PUBLISH', 'SUBSCRIBE', 'PUBLISH', 'UNSUBSCRIBE']);
        assert.deepEqual(await redis.channels(), nodeChannels);
        await first.nothingWithin(300);
        publisher.close();
        first.close();
      } finally {
        await monitor.stop();
      }
    });
  });

  test('an SSE stream on node B gets what /pubsub publishes on A and POST /publish on C',
    async () => {
      await withCluster(3, async (redis, [a, b, c]) => {
        const stream = await openStream(b.port, '/sse?topic=news');
        assert.equal(stream.status, 200);
        await redis.waitNumsub(topicChannel('news'), 1);
        const publisher = await pubsubClient(a);
        for (const i of range(0, 50)) publisher.publish('news', i);
        await stream.messagesAtLeast(50);
        await httpPublish(c.port, 'news', '{"from":"c"}');
        await stream.messagesAtLeast(51);
        assert.deepEqual(stream.messages.map((e) => e.data),
          [...deliveries('news', range(0, 50)), delivery('news', { from: 'c' })]);
        // Ids are the stream's node's own cursor: increasing.
        const ids = stream.messages.map((e) => BigInt(e.id));
        for (let i = 1; i < ids.length; ++i) assert.ok(ids[i] > ids[i - 1], `ids ${ids}`);
        await sleep(300);
        assert.equal(stream.messages.length, 51);
        stream.close();
        publisher.close();
      });
    });

  test('a STOMP SEND on node A reaches /pubsub on B as it reaches /pubsub on A', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const here = await pubsubClient(a);
      const there = await pubsubClient(b);
      await here.subscribe('stomp-news');
      await there.subscribe('stomp-news');
      await redis.waitNumsub(topicChannel('stomp-news'), 2);
      const stomp = await stompClient(`${a.url}stomp`);
      stomp.publish({ destination: '/topic/stomp-news', body: 'sent over STOMP' });
      const local = await here.next();
      assert.equal(local, delivery('stomp-news', 'sent over STOMP'));
      assert.equal(await there.next(), local);
      await stomp.deactivate();
      here.close();
      there.close();
    });
  });

  test('STOMP subscribers on node B get a SEND on A with its headers, content type and binary ' +
       'body as sent', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const there = await stompClient(`${b.url}stomp`);
      const box = collect(there, '/topic/stomp-headers');
      await redis.waitNumsub(topicChannel('stomp-headers'), 1);
      const sender = await stompClient(`${a.url}stomp`);
      sender.publish({ destination: '/topic/stomp-headers', body: 'plain',
        headers: { 'content-type': 'text/x-duplex', 'x-trace': 'a:b\nc' } });
      const binary = new Uint8Array([0, 255, 1, 0, 10]);
      sender.publish({ destination: '/topic/stomp-headers', binaryBody: binary,
        headers: { 'x-kind': 'bytes' } });
      const [first, second] = await box.next(2);
      assert.equal(first.body, 'plain');
      assert.equal(first.headers['content-type'], 'text/x-duplex');
      assert.equal(first.headers['x-trace'], 'a:b\nc');
      assert.equal(first.headers.destination, '/topic/stomp-headers');
      assert.deepEqual(Buffer.from(second.binaryBody), Buffer.from(binary));
      assert.equal(second.headers['x-kind'], 'bytes');
      await sleep(300);
      assert.equal(box.messages.length, 2);
      await sender.deactivate();
      await there.deactivate();
    });
  });

  test('Socket.IO across nodes: the chat reaches sockets on every node, a room emit with binary ' +
       'arguments reaches its members wherever they are, and so does an emit to a socket id, ' +
       'each once', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const open = async (node) => {
        const socket = ioClient(node.url.replace('ws://', 'http://'), { forceNew: true, reconnection: false });
        await withTimeout(new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        }), STEP_TIMEOUT_MS, 'a Socket.IO connect');
        const got = [];
        socket.onAny((event, ...args) => got.push([event, ...args]));
        return { socket, got };
      };
      const [sa, sb, outside] = [await open(a), await open(b), await open(b)];
      for (const s of [sa, sb]) {
        assert.deepEqual(await s.socket.timeout(STEP_TIMEOUT_MS).emitWithAck('join', 'crew'), 'crew');
      }
      await redis.waitNumsub(topicChannel('crew'), 2);
      await redis.waitNumsub('duplex:topic:socket.io:/', 2);

      sa.socket.emit('chat message', 'hello from A');
      const bytes = Buffer.from([0, 1, 2, 255]);
      sb.socket.emit('broadcast', 'crew', { n: 1 }, bytes);
      const chat = ['chat message', 'hello from A'];
      await eventually(() => sa.got.length === 2 && sb.got.length === 2 && outside.got.length === 1,
        'the chat everywhere, the room emit in the room');
      await sleep(300);
      for (const s of [sa, sb]) {
        const [chatFirst, room] = s.got[0][0] === 'chat message' ? s.got : [...s.got].reverse();
        assert.deepEqual(chatFirst, chat);
        assert.equal(room[0], 'broadcast');
        assert.deepEqual(room[1], { n: 1 });
        assert.deepEqual(Buffer.from(room[2]), bytes);
        assert.equal(s.got.length, 2);
      }
      assert.deepEqual(outside.got, [chat]);

      // A socket is in the room of its id on every node: an emit to it from A reaches it on B.
      await redis.waitNumsub(topicChannel(sb.socket.id), 1);
      sa.socket.emit('broadcast', sb.socket.id, 'just for you');
      await eventually(() => sb.got.length === 3, 'the emit to a socket id on the other node');
      assert.deepEqual(sb.got[2], ['broadcast', 'just for you']);
      await sleep(300);
      assert.deepEqual([sa.got.length, sb.got.length, outside.got.length], [2, 3, 1]);
      for (const s of [sa, sb, outside]) s.socket.close();
    });
  });

  test('Redis killed mid-stream and started again: local delivery goes on, losses are counted, ' +
       'the nodes re-subscribe and nothing else is lost', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const { publisher, local, remote } = await publisherAndSubscribers(redis, a, b, 'stream');
      for (const i of range(0, 30)) publisher.publish('stream', i);
      assert.deepEqual(await remote.take(30), deliveries('stream', range(0, 30)));

      // Killed while messages flow; then more during the outage, after both nodes know.
      for (const i of range(30, 80)) {
        if (i === 40) await redis.kill();
        publisher.publish('stream', i);
        await sleep(5);
      }
      const lost = /^redis: connection lost \(.+\); retrying$/;
      await waitForLine(a, lost);
      await waitForLine(b, lost);
      for (const i of range(80, 100)) publisher.publish('stream', i);
      assert.deepEqual(await local.take(100), deliveries('stream', range(0, 100)),
        'the node delivers its own publishes throughout');

      await redis.start();
      const again = new RegExp(`^redis: connected to 127\\.0\\.0\\.1:${redis.port} again; (\\d+) ` +
        'publishes dropped while disconnected, (\\d+) unconfirmed when the connection went$');
      const [line] = await waitForLine(a, again);
      await waitForLine(b, again);
      await redis.waitNumsub(topicChannel('stream'), 2);
      for (const i of range(100, 150)) publisher.publish('stream', i);
      assert.deepEqual(await local.take(50), deliveries('stream', range(100, 150)));

      const got = [];
      while (got.at(-1) !== 149) got.push(dataOf(await remote.next()));
      for (let i = 1; i < got.length; ++i) assert.ok(got[i] > got[i - 1], `in order, once: ${got}`);
      assert.deepEqual(got.filter((i) => i >= 100), range(100, 150), 'all of them after');
      const missing = range(30, 100).filter((i) => !got.includes(i));
      const [, dropped, unconfirmed] = line.match(again).map(Number);
      assert.ok(dropped >= 20, `80..99 at least were published while A was disconnected: ${line}`);
      assert.ok(missing.length >= dropped && missing.length <= dropped + unconfirmed,
        `${missing.length} missing (${missing}) against ${line}`);
      await remote.nothingWithin(300);
      await local.nothingWithin(1);

      // Each change logged once, however many attempts failed between.
      for (const node of [a, b]) {
        const lines = redisLines(node);
        assert.equal(lines.length, 3, lines.join('\n'));
        assert.match(lines[0], new RegExp(`^redis: connected to 127\\.0\\.0\\.1:${redis.port}$`));
        assert.match(lines[1], lost);
        assert.match(lines[2], again);
      }
      for (const s of [publisher, local, remote]) s.close();
    });
  });

  test('Redis stalled (SIGSTOP): local delivery goes on, publishes past --redis-max-buffered ' +
       'are dropped and counted in two lines, and every publish not dropped arrives, once, in order',
  async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const { publisher, local: here, remote: there } =
        await publisherAndSubscribers(redis, a, b, 'stall');
      const count = 1200;
      const data = (i) => `${i}:`.padEnd(32 * 1024, 'x');  // 39 MB in all, past what sockets hold
      redis.proc.kill('SIGSTOP');
      try {
        // In batches that the local subscriber reads as they come (a burst of 39 MB would make
        // it a slow subscriber, which the server drops).
        for (let first = 0; first < count; first += 50) {
          for (const i of range(first, first + 50)) publisher.publish('stall', data(i));
          assert.deepEqual(await here.take(50),
            range(first, first + 50).map((i) => delivery('stall', data(i))));
        }
        const [slow] = await waitForLine(a, /^redis: Redis is not keeping up/);
        assert.match(slow, /^redis: Redis is not keeping up \(\d+ bytes waiting for it\); publishes for other nodes are dropped until it does$/);
      } finally {
        redis.proc.kill('SIGCONT');
      }
      const [back] = await waitForLine(a, /^redis: Redis keeps up again/);
      const dropped = Number(/; (\d+) publishes dropped while it did not$/.exec(back)[1]);
      assert.ok(dropped > 0 && dropped < count, back);
      // What crossed is every publish that was not dropped: count - dropped of them, once
      // each, in order.
      const crossed = (await there.take(count - dropped)).map((m) => Number(JSON.parse(m).data.split(':')[0]));
      for (let i = 1; i < crossed.length; ++i) assert.ok(crossed[i] > crossed[i - 1], `order at ${i}`);
      assert.ok(crossed.every((n) => n >= 0 && n < count));
      await there.nothingWithin(300);
      publisher.publish('stall', 'after');
      assert.equal(await there.next(), delivery('stall', 'after'));
      assert.equal(redisLines(a).filter((l) => /not keeping up|keeps up/.test(l)).length, 2);
      for (const s of [publisher, here, there]) s.close();
    }, ['--redis-max-buffered', '1000000']);
  });

  test('duplex bench --node spreads its subscribers over the nodes: every publish on A reaches ' +
       'every subscriber on A and B, exactly', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      // B holds the bench's topics in Redis already: a subscribed answer comes before Redis has
      // the node's SUBSCRIBE, and the bench publishes as soon as its subscribers are answered.
      const holder = await pubsubClient(b);
      for (const topic of ['t0', 't1']) {
        await holder.subscribe(topic);
        await redis.waitNumsub(topicChannel(topic), 1);
      }
      const load = ['--subscribers', '20', '--topics', '2', '--publishers', '2', '-k', '4',
        '-s', '100', '-d', '1', '-w', '0.2', '--node', `ws://127.0.0.1:${b.port}/pubsub`,
        '--server-pid', String(a.proc.pid), '--server-pid', String(b.proc.pid)];
      const { status, report } = await bench(a.port, ['--pubsub', ...load]);
      assert.deepEqual(report.error_samples, []);
      assert.equal(status, 0);
      assert.equal(report.opened, 22);
      assert.ok(report.publishes > 0);
      assert.equal(report.deliveries, report.publishes * 10);
      assert.equal(typeof report.server_cpu_seconds, 'number');
      assert.equal(await benchStatus(['--node', `ws://127.0.0.1:${b.port}/pubsub`,
        `ws://127.0.0.1:${a.port}/echo`]), 2, '--node needs a publish/subscribe load');
      assert.equal(await benchStatus(['--pubsub', '--node', `ws://127.0.0.1:${b.port}/elsewhere`,
        `ws://127.0.0.1:${a.port}/pubsub`]), 2, 'a node of another path');
      holder.close();
    });
  });

  test('a node killed: the others go on, Redis forgets its subscriptions at once, and its ' +
       'clients that reconnect to another node get everything published after', async () => {
    await withCluster(2, async (redis, [a, c]) => {
      const b = await startNode(redis.url);
      let killed = false;
      try {
        const publisher = await pubsubClient(a);
        const onC = await pubsubClient(c);
        const onB = await pubsubClient(b);
        for (const s of [onC, onB]) await s.subscribe('survive');
        await redis.waitNumsub(topicChannel('survive'), 2);
        publisher.publish('survive', 0);
        for (const s of [onC, onB]) assert.equal(await s.next(), delivery('survive', 0));

        b.proc.kill('SIGKILL');
        assert.deepEqual(await b.exited, { code: null, signal: 'SIGKILL' });
        killed = true;
        await redis.waitNumsub(topicChannel('survive'), 1);
        // B's client comes back on another node, as a client that retries does.
        const moved = await pubsubClient(c);
        await moved.subscribe('survive');
        for (const i of range(1, 51)) publisher.publish('survive', i);
        const expected = deliveries('survive', range(1, 51));
        assert.deepEqual(await onC.take(50), expected);
        assert.deepEqual(await moved.take(50), expected);
        for (const s of [onC, moved]) await s.nothingWithin(300);
        assert.doesNotMatch(a.output() + c.output(), /redis: connection lost/);
        for (const s of [publisher, onC, moved, onB]) s.close();
      } finally {
        if (!killed) await stopServer(b);
      }
    });
  });

  test('a node started before Redis serves on its own, says so once, and joins when Redis comes',
    async () => {
      const redis = await startRedis();
      await redis.stop();  // its port, with nothing on it yet
      let a;
      let b;
      try {
        a = await startNode(redis.url, [], { connected: false });
        await waitForLine(a, new RegExp(`^redis: cannot connect to 127\\.0\\.0\\.1:${redis.port} ` +
          '\\(Connection refused\\); retrying$'));
        const here = await pubsubClient(a);
        await here.subscribe('early');
        here.publish('early', 'local');
        assert.equal(await here.next(), delivery('early', 'local'));
        await sleep(1000);  // several attempts (100, 200, 400 ms...), one line
        assert.equal(redisLines(a).length, 1, redisLines(a).join('\n'));

        await redis.start();
        await waitForLine(a, new RegExp(`^redis: connected to 127\\.0\\.0\\.1:${redis.port}$`), 1,
          15_000);
        b = await startNode(redis.url);
        const there = await pubsubClient(b);
        await there.subscribe('early');
        await redis.waitNumsub(topicChannel('early'), 2);
        there.publish('early', 'from b');
        assert.equal(await here.next(), delivery('early', 'from b'));
        assert.equal(await there.next(), delivery('early', 'from b'));
        here.close();
        there.close();
      } finally {
        await stopServer(a);
        await stopServer(b);
        await redis.stop();
      }
    });

  test('after a quiet pause longer than every timeout, new clients reach each other across nodes',
    async () => {
      const timeouts = ['--idle-timeout', '1', '--handshake-timeout', '1', '--close-timeout', '1',
        '--sse-heartbeat', '1', '--poll-timeout', '1'];
      await withCluster(2, async (redis, [a, b]) => {
        // Longer than the lowered timeouts, the Redis connect timeout (5 s) and its longest
        // retry delay (5 s).
        await sleep(6500);
        const subscriber = await pubsubClient(b);
        await subscriber.subscribe('after-quiet');
        const stream = await openStream(b.port, '/sse?topic=after-quiet');
        await redis.waitNumsub(topicChannel('after-quiet'), 1);
        const publisher = await pubsubClient(a);
        for (const i of range(0, 10)) publisher.publish('after-quiet', i);
        assert.deepEqual(await subscriber.take(10), deliveries('after-quiet', range(0, 10)));
        await stream.messagesAtLeast(10);
        for (const node of [a, b]) assert.equal(redisLines(node).length, 1, 'the link stayed up');
        stream.close();
        subscriber.close();
        publisher.close();
      }, timeouts);
    });

  test('a URL it cannot use is refused at start with the reason; --help explains --redis',
    async () => {
      const run = (args) => new Promise((resolve) => {
        execFile(duplexBin(), args, { timeout: 10_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? err.code : 0, stdout, stderr }));
      });
      for (const [url, reason] of [
        ['localhost:6379', 'the URL must start with redis://'],
        ['redis://:pw@localhost', 'user names and passwords are not supported'],
        ['redis://localhost:0', 'the port must be a number from 1 to 65535'],
        ['rediss://localhost', 'TLS (rediss://) is not supported'],
      ]) {
        const { code, stderr } = await run(['serve', '--host', '127.0.0.1', '--port', '0',
          '--redis', url]);
        assert.equal(code, 2, stderr);
        assert.equal(stderr, `duplex serve: --redis: bad Redis URL '${url}': ${reason}\n`);
      }
      const help = await run(['serve', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout.replace(/\s+/g, ' '),
        /--redis TEXT Share topics, rooms and users with the other duplex serve nodes on this Redis \(redis:\/\/HOST:PORT\[\/DB\]\)/);
    });
});
