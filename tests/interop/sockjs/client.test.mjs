// The real sockjs-client 1.6 in Node against a SockJS server: Node's sockjs 0.3 (the reference,
// client_reference_server.mjs) and, when $DUPLEX_SOCKJS_PROTOCOL names it, Duplex's
// examples/sockjs_protocol_server; a describe per target, the same tests for both.
//
// In Node the client has four transports, each forced in turn here: websocket (faye-websocket),
// xhr-streaming and xhr-polling (its http driver), and eventsource (the `eventsource` 2.0 npm
// package, its own dependency). The others need a document (jsonp-polling, htmlfile, the iframe-* ones) or
// XDomainRequest (xdr-*); tests/browser/sockjs_page.test.mjs runs those in Chromium.
//
// On each transport: open and the transport used; echo of 0 B to 1 MiB; every character the
// protocol escapes, every BMP character, characters beyond the BMP and lone surrogates; a burst
// of 2,000 messages; the server's close (/close: 3000 "Go away!"); the client's close codes.
// Then: quiet spells longer than every timeout, with heartbeats; a polling session that stops
// polling for longer than the disconnect delay is gone ("Server lost session"), one that stops
// for less is kept; a WebSocket cut under the client. Reference only (its /report service tells
// one session when another ended, which the example has no service for; and its limits): the
// server ends a session as soon as its client closes it or its connection drops, and the
// largest messages each transport carries.
//
// Seen of the client in Node, not tested: an xhr-streaming response cut after its first bytes
// goes unnoticed (the http driver listens for the request's errors, not the response's), so the
// client stays open and hears nothing more; an eventsource stream cut is reconnected by the
// `eventsource` package itself, to the same session URL, where the reference (which ended the
// session at the cut) opens a new one: the client closes 1006 "Server lost session".
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { textOfBytes } from '../node/helpers.mjs';
import {
  SockJS, TARGET_NAMES, targets, startSockjs, openClient, startRelay, sleep,
  ESCAPED, CLIENT_ESCAPED, PAIRS, PERCENT, EVERY_BMP, LONE_SURROGATES,
} from './client_support.mjs';

const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];
const POLLING = 'xhr-polling';
const QUIET_MS = 2000;
const GO_AWAY = { code: 3000, reason: 'Go away!', wasClean: true };
// The events up to 'open': xhr-streaming's response starts with a line of 2,048 "h" (the
// prelude some browsers need before they hand out a streaming response), which the client
// reads as a heartbeat frame.
const OPENING = (transport) => (transport === 'xhr-streaming' ? ['heartbeat', 'open'] : ['open']);
// After a poll is answered the client sends the next one at once, but not before a message
// handler it called has returned: a test that closes right after a message waits this long for
// the next poll to reach the server (nothing tells the client it did).
const POLL_SENT_MS = 200;

/** Clients opened by a test, closed after it whatever happened. */
function clientPool() {
  const open = [];
  afterEach(() => { for (const c of open.splice(0)) c.close(); });
  return async (...args) => {
    const c = await openClient(...args);
    open.push(c);
    return c;
  };
}

/** Sends each message and checks that the echoes come back exactly, in order. */
async function echoes(client, messages, ms) {
  for (const m of messages) client.sock.send(m);
  const got = await client.next(messages.length, ms);
  for (let i = 0; i < messages.length; i++) {
    assert.ok(got[i] === messages[i], `message ${i} (${messages[i].length} UTF-16 units) came back ` +
      `${got[i] === undefined ? 'missing' : `as ${got[i].length} units: ${JSON.stringify(got[i].slice(0, 80))}`}`);
  }
}

for (const target of targets()) {
  describe(`sockjs-client in Node against ${TARGET_NAMES[target]}`, { timeout: 240_000 }, () => {
    let server;
    before(async () => { server = await startSockjs(target); });
    after(() => server?.stop());
    const open = clientPool();
    const url = (service) => `${server.base}/${service}`;

    test('the transport the client picks: websocket on /echo, xhr-streaming where the server ' +
      'disables websocket; websocket forced there fails with 2000 "All transports failed"',
    async () => {
      assert.equal((await open(url('echo'))).sock.transport, 'websocket');
      const fallback = await open(url('disabled_websocket_echo'));
      assert.equal(fallback.sock.transport, 'xhr-streaming');
      await echoes(fallback, ['over xhr-streaming']);
      await assert.rejects(open(url('disabled_websocket_echo'), ['websocket']), (err) => {
        assert.deepEqual({ code: err.code, reason: err.reason, wasClean: err.wasClean },
          { code: 2000, reason: 'All transports failed', wasClean: false });
        return true;
      });
    });

    for (const transport of TRANSPORTS) {
      describe(transport, () => {
        test('open: the open event, on the transport forced, and the empty message', async () => {
          const c = await open(url('echo'), [transport]);
          assert.equal(c.sock.transport, transport);
          assert.equal(c.sock.readyState, SockJS.OPEN);
          assert.deepEqual(c.events, OPENING(transport));
          await echoes(c, ['']);
        });

        test('echo of 1 B, 1000 B, 64 KiB and 1 MiB messages (UTF-8 bytes, ASCII and not)',
          async () => {
            const c = await open(url('echo'), [transport]);
            const sizes = [1, 1000, 64 * 1024, 1024 * 1024];
            const messages = sizes.flatMap((n) => [textOfBytes(n), 'a'.repeat(n)]);
            await echoes(c, messages, 30_000);
            assert.deepEqual(messages.map((m) => Buffer.byteLength(m)), sizes.flatMap((n) => [n, n]));
          });

        test('unicode: every character the protocol escapes, what the client escapes, every BMP ' +
          'character, pairs beyond the BMP, %-sequences', async () => {
          const c = await open(url('echo'), [transport]);
          await echoes(c, [ESCAPED, CLIENT_ESCAPED, PAIRS, PERCENT, EVERY_BMP,
            'héllo ✓ 中文 </script> <!-- ]]>', ...[...ESCAPED].map((ch) => `<${ch}>`)]);
        });

        test('lone surrogates come back as they went', async () => {
          const c = await open(url('echo'), [transport]);
          await echoes(c, LONE_SURROGATES);
        });

        test('a burst of 2,000 messages sent at once comes back whole and in order', async () => {
          const c = await open(url('echo'), [transport]);
          const messages = Array.from({ length: 2000 }, (_, i) => `${i} ${'é'.repeat(i % 300)}✓`);
          await echoes(c, messages, 30_000);
          await sleep(100);
          assert.equal(c.pending(), 0, 'nothing more');
        });

        test('the server closes: /close gives open, then close 3000 "Go away!", clean', async () => {
          const c = await open(url('close'), [transport]);
          assert.deepEqual(await c.closed(), GO_AWAY);
          assert.deepEqual(c.events, [...OPENING(transport), 'close']);
          assert.equal(c.sock.readyState, SockJS.CLOSED);
        });

        test('the client closes: 1000, 3000 and 4999 with their reasons; other codes and ' +
          'reasons over 123 characters are refused', async () => {
          for (const [code, reason] of [[1000, 'done'], [3000, 'é ✓'], [4999, 'r'.repeat(123)]]) {
            const c = await open(url('echo'), [transport]);
            for (const bad of [1001, 2999, 5000]) {
              assert.throws(() => c.sock.close(bad), /^Error: InvalidAccessError: Invalid code$/);
            }
            assert.throws(() => c.sock.close(1000, 'r'.repeat(124)),
              /^SyntaxError: reason argument has an invalid length$/);
            c.sock.close(code, reason);
            assert.deepEqual(await c.closed(), { code, reason, wasClean: true });
            assert.deepEqual(c.events, [...OPENING(transport), 'close']);
          }
        });

        test('/cookie_needed_echo echoes as /echo does', async () => {
          const c = await open(url('cookie_needed_echo'), [transport]);
          assert.equal(c.sock.transport, transport);
          await echoes(c, ['with a cookie ✓', '']);
        });
      });
    }
  });

  describe(`quiet spells, heartbeats and sessions against ${TARGET_NAMES[target]}`, { timeout: 120_000 }, () => {
    const servers = [];
    const relays = [];
    const start = async (options) => {
      const s = await startSockjs(target, options);
      servers.push(s);
      return s;
    };
    const open = clientPool();
    const relayTo = async (s) => {
      const r = await startRelay(s.port);
      relays.push(r);
      return r;
    };
    afterEach(async () => { for (const r of relays.splice(0)) await r.stop(); });
    after(async () => { for (const s of servers) await s.stop(); });
    // The reference's /report is /echo that also names its sessions (see the reference server).
    const service = target === 'reference' ? 'report' : 'echo';
    const name = async (c, n) => {
      if (target !== 'reference') return;
      c.sock.send(n);
      assert.deepEqual(await c.next(), [`named ${n}`]);
    };

    test(`every transport at once, quiet for ${QUIET_MS} ms with --heartbeat-delay 0.3 and ` +
      '--disconnect-delay 1: still open, heartbeats on the HTTP transports, messages flow after',
    async () => {
      const s = await start({ heartbeatDelay: 0.3, disconnectDelay: 1 });
      const cs = await Promise.all(TRANSPORTS.map((t) => open(`${s.base}/echo`, [t])));
      await Promise.all(cs.map((c) => echoes(c, ['before'])));
      await sleep(QUIET_MS);
      for (const [i, c] of cs.entries()) {
        const t = TRANSPORTS[i];
        assert.equal(c.sock.readyState, SockJS.OPEN, `${t} is open`);
        assert.ok(!c.events.includes('close'), `${t} did not close`);
        // Node's sockjs sends WebSocket pings rather than "h" frames on websocket; on the others
        // each heartbeat is an "h" frame (on xhr-polling, a poll answered).
        if (t !== 'websocket') assert.ok(c.heartbeats() >= 3, `${t}: ${c.heartbeats()} heartbeats`);
      }
      await Promise.all(cs.map((c) => echoes(c, ['after the quiet ✓'])));
    });

    test(`${POLLING}: polling stalled for 2 s, longer than --disconnect-delay 0.5, loses the ` +
      'session: the next poll opens a new one and the client closes 1006 "Server lost session"',
    async () => {
      const s = await start({ heartbeatDelay: 0.3, disconnectDelay: 0.5 });
      const relay = await relayTo(s);
      let watcher;
      if (target === 'reference') {
        watcher = await open(`${s.base}/report`, ['websocket']);
        await name(watcher, 'watcher');
      }
      const c = await open(`http://127.0.0.1:${relay.port}/${service}`, [POLLING]);
      await name(c, 'stalled');
      await echoes(c, ['before']);
      relay.pause();
      const stalled = Date.now();
      if (watcher) assert.deepEqual(await watcher.next(1, 1900), ['closed stalled'], 'the session ended while stalled');
      await sleep(2000 - (Date.now() - stalled));
      relay.resume();
      assert.deepEqual(await c.closed(), { code: 1006, reason: 'Server lost session', wasClean: false });
    });

    test(`${POLLING}: polling stalled for 1 s, shorter than --disconnect-delay 3, keeps the ` +
      'session: what was sent meanwhile arrives in order, and it goes on', async () => {
      const s = await start({ heartbeatDelay: 0.3, disconnectDelay: 3 });
      const relay = await relayTo(s);
      const c = await open(`http://127.0.0.1:${relay.port}/${service}`, [POLLING]);
      await name(c, 'kept');
      await echoes(c, ['before']);
      relay.pause();
      await sleep(500);
      for (let i = 0; i < 5; i++) c.sock.send(`during ${i}`);
      await sleep(500);
      relay.resume();
      assert.deepEqual(await c.next(5), [0, 1, 2, 3, 4].map((i) => `during ${i}`));
      await echoes(c, ['after']);
      assert.equal(c.sock.readyState, SockJS.OPEN);
      assert.ok(!c.events.includes('close'));
    });

    test('websocket: the connection cut under the client closes it 1006, not clean', async () => {
      const s = await start({});
      const relay = await relayTo(s);
      const c = await open(`http://127.0.0.1:${relay.port}/echo`, ['websocket']);
      await echoes(c, ['before']);
      relay.cut();
      assert.deepEqual(await c.closed(), { code: 1006, reason: '', wasClean: false });
    });
  });
}

describe('the reference server ends sessions and carries messages of its limits', { timeout: 180_000 }, () => {
  let server;
  const open = clientPool();
  before(async () => { server = await startSockjs('reference', { disconnectDelay: 5 }); });
  after(() => server?.stop());
  const report = () => `${server.base}/report`;
  async function watcher() {
    const w = await open(report(), ['websocket']);
    w.sock.send('watcher');
    assert.deepEqual(await w.next(), ['named watcher']);
    return w;
  }

  // The client sends nothing when it closes: the server learns of it as its WebSocket closes or
  // its request is aborted, and Node's sockjs then ends the session at once (well within the
  // disconnect delay of 5 s).
  for (const transport of TRANSPORTS) {
    test(`${transport}: the session ends as the client closes it, not after the disconnect delay`,
      async () => {
        const w = await watcher();
        const c = await open(report(), [transport]);
        c.sock.send(transport);
        assert.deepEqual(await c.next(), [`named ${transport}`]);
        if (transport === POLLING) await sleep(POLL_SENT_MS);
        c.sock.close(4000, 'leaving');
        assert.deepEqual(await c.closed(), { code: 4000, reason: 'leaving', wasClean: true });
        assert.deepEqual(await w.next(1, 2500), [`closed ${transport}`]);
      });
  }

  test('websocket and xhr-polling cut under the client: the server ends the session at once; ' +
    'the client closes 1006', async () => {
    const w = await watcher();
    for (const [transport, reason] of [['websocket', ''], ['xhr-polling', 'permanent']]) {
      const relay = await startRelay(server.port);
      try {
        const c = await open(`http://127.0.0.1:${relay.port}/report`, [transport]);
        c.sock.send(`cut ${transport}`);
        assert.deepEqual(await c.next(), [`named cut ${transport}`]);
        if (transport === POLLING) await sleep(POLL_SENT_MS);
        relay.cut();
        // The polling client reports why its poll ended: 'permanent' (no answer).
        assert.deepEqual(await c.closed(), { code: 1006, reason, wasClean: false });
        assert.deepEqual(await w.next(1, 2500), [`closed cut ${transport}`]);
      } finally {
        await relay.stop();
      }
    }
  });

  // websocket: faye-websocket takes frames of up to 2^26 - 1 bytes, on both ends: the client's
  // ["..."] and the server's a["..."] around the message. The HTTP transports have no limit
  // (Node's sockjs reads a whole body; response_limit only ends a streaming response after the
  // frame that reaches it); 16 MiB stands for them.
  const WS_LARGEST = 2 ** 26 - 1 - 5;
  // The server refuses the frame with a close 1009 as soon as it reads the frame's length: the
  // client reports that close if it reads it, or 1006 if its own write of the rest fails first.
  test(`websocket: a message of ${WS_LARGEST} bytes comes back; one of ${WS_LARGEST + 2}, ` +
    'over the server\'s frame limit, closes the connection (1009, or 1006)', async () => {
    const c = await open(`${server.base}/echo`, ['websocket']);
    await echoes(c, ['x'.repeat(WS_LARGEST)], 60_000);
    c.sock.send('x'.repeat(WS_LARGEST + 2));
    const closed = await c.closed(30_000);
    assert.ok([
      { code: 1009, reason: 'WebSocket frame length too large', wasClean: false },
      { code: 1006, reason: 'WebSocket connection broken', wasClean: false },
    ].some((e) => util.isDeepStrictEqual(closed, e)), JSON.stringify(closed));
  });

  for (const transport of ['xhr-streaming', 'xhr-polling', 'eventsource']) {
    test(`${transport}: a 16 MiB message comes back`, async () => {
      const c = await open(`${server.base}/echo`, [transport]);
      await echoes(c, ['x'.repeat(16 * 1024 * 1024)], 60_000);
    });
  }
});
