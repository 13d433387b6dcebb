// Several `duplex serve --threads 2 --redis redis://...` nodes on one real redis-server: a
// /pubsub publisher on one node reaches subscribers on the others exactly once and in order (its
// own node's once, not twice); only channels with subscribers are subscribed in Redis, and a
// publish nobody subscribes to is one PUBLISH and nothing else (Redis's MONITOR and PUBSUB say
// so); SSE streams and STOMP take part; Redis killed mid-stream and started again (local delivery
// throughout, the losses counted, delivery across nodes back once re-subscribed, nothing else
// lost); a node started before Redis; a quiet pause longer than every timeout; a bad URL.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { duplexBin } from '../node/helpers.mjs';
import { openStream, publish as httpPublish } from '../sse/support.mjs';
import { stompClient } from '../stomp/support.mjs';
import {
  startRedis, startNode, pubsubClient, stopServer, redisLines, waitForLine, topicChannel,
  delivery, sleep, eventually,
} from './support.mjs';

const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
const deliveries = (topic, numbers) => numbers.map((i) => delivery(topic, i));
const dataOf = (text) => JSON.parse(text).data;

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

  test('Redis killed mid-stream and started again: local delivery goes on, losses are counted, ' +
       'the nodes re-subscribe and nothing else is lost', async () => {
    await withCluster(2, async (redis, [a, b]) => {
      const publisher = await pubsubClient(a);
      const local = await pubsubClient(a);
      const remote = await pubsubClient(b);
      await local.subscribe('stream');
      await remote.subscribe('stream');
      await redis.waitNumsub(topicChannel('stream'), 2);
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
