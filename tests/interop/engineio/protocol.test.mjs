// Engine.IO v4 on the wire, request by request, against Duplex's example echo server
// (examples/engineio_echo_server.cpp) and Node's engine.io 6 with the same options, side by side:
// each expectation below is checked on both, so it states what the reference does. Where Duplex
// answers more clearly than the reference (a POST that does not decode), the test says so.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  PING_INTERVAL, PING_TIMEOUT, sleep, startExample, startReference, request, eio, handshake,
  poll, push, openWs, wsClosed, withTimeout,
} from './support.mjs';

const SID_RE = /^[A-Za-z0-9_-]{20}$/;
const PAYLOAD_TYPE = 'text/plain; charset=UTF-8';
const errorBody = (code, message) => JSON.stringify({ code, message });
const text = (msg) => msg.data.toString();

const bin = process.env.DUPLEX_EIO_ECHO;
if (!bin) throw new Error('DUPLEX_EIO_ECHO (the example_engineio_echo_server binary) is not set');

/** Sends `bytes` on a fresh connection; resolves with all that came back until it closed. */
function rawExchange(port, bytes) {
  return withTimeout(new Promise((resolve) => {
    let got = '';
    const raw = net.connect(port, '127.0.0.1', () => raw.write(bytes));
    raw.setEncoding('latin1');
    raw.on('data', (d) => { got += d; });
    raw.on('close', () => resolve(got));
    raw.on('error', () => {});
  }), 5000, 'raw exchange');
}

for (const target of ['duplex', 'reference']) {
  describe(`Engine.IO v4 against ${target}`, { timeout: 60_000 }, () => {
    let server;
    before(async () => {
      server = target === 'duplex' ? await startExample(bin) : await startReference();
    });
    after(() => server.stop());

    test('the polling handshake: 200, the open packet byte for byte, no-store', async () => {
      const { res, sid } = await handshake(server.port);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], PAYLOAD_TYPE);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(sid, SID_RE);
      assert.equal(res.text, `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":` +
        `${PING_INTERVAL},"pingTimeout":${PING_TIMEOUT},"maxPayload":1000000}`);
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)));
    });

    test('bad handshakes get 400 and the reference error JSON', async () => {
      const cases = [
        ['/engine.io/?transport=polling', 5, 'Unsupported protocol version'],
        ['/engine.io/?EIO=abc&transport=polling', 5, 'Unsupported protocol version'],
        ['/engine.io/?EIO=3&transport=polling', 5, 'Unsupported protocol version'],
        ['/engine.io/?EIO=4', 0, 'Transport unknown'],
        ['/engine.io/?EIO=4&transport=abc', 0, 'Transport unknown'],
        ['/engine.io/?EIO=4&transport=websocket', 3, 'Bad request'],
        ['/engine.io/?EIO=4&transport=polling&sid=nosuchsession', 1, 'Session ID unknown'],
      ];
      for (const [path, code, message] of cases) {
        const res = await request(server.port, path);
        assert.equal(res.status, 400, path);
        assert.equal(res.headers['content-type'], 'application/json', path);
        assert.equal(res.text, errorBody(code, message), path);
      }
      for (const method of ['POST', 'PUT']) {
        const res = await request(server.port, eio(), { method, body: '' });
        assert.equal(res.status, 400, method);
        assert.equal(res.text, errorBody(2, 'Bad handshake method'), method);
      }
    });

    test('a POST of one packet, then of several, then text and binary, come back on polls',
      async () => {
        const { sid } = await handshake(server.port);
        for (const body of ['4hello', '4test1\x1e4test2\x1e4test3', '4hello\x1ebAQIDBA==', '4']) {
          const pushed = await push(server.port, sid, body);
          assert.equal(pushed.status, 200);
          assert.equal(pushed.text, 'ok');
          assert.equal(pushed.headers['content-type'], 'text/html');
          const polled = await poll(server.port, sid);
          assert.equal(polled.status, 200);
          assert.equal(polled.text, body);
        }
      });

    test('a POST that does not decode ends the session', async () => {
      const { sid } = await handshake(server.port);
      const pushed = await push(server.port, sid, 'abc');
      if (target === 'duplex') {
        assert.equal(pushed.status, 400);
        assert.equal(pushed.text, errorBody(3, 'unknown packet type'));
      } else {
        assert.equal(pushed.status, 200, 'the reference says ok, and closes the session');
      }
      const polled = await poll(server.port, sid);
      assert.equal(polled.status, 400);
      assert.equal(polled.text, errorBody(1, 'Session ID unknown'));
    });

    test('a POST over maxPayload gets 413; a WebSocket message over it closes with 1009',
      async () => {
      const { sid } = await handshake(server.port);
      const pushed = await push(server.port, sid, `4${'x'.repeat(1_000_000)}`);
      // The reference writes its 413 and destroys the request, which may cut the answer off.
      if (target === 'duplex' || pushed.status !== 0) assert.equal(pushed.status, 413);
      const { ws, box } = await openWs(server.port);
      await box.next();  // open
      ws.send(`4${'y'.repeat(1_000_000)}`);
      assert.equal(await wsClosed(ws, 5000), 1009);
    });

    test('two polls at once: the first gets a close packet, the second 400, then the session ' +
      'is gone', async () => {
      const { sid } = await handshake(server.port);
      const first = poll(server.port, sid);
      await sleep(50);
      const second = await poll(server.port, sid);
      assert.equal(second.status, 400);
      const firstAnswer = await first;
      assert.equal(firstAnswer.status, 200);
      assert.equal(firstAnswer.text, '1');
      assert.equal((await poll(server.port, sid)).status, 400);
    });

    test('the server pings every pingInterval over polling; pongs keep the session', async () => {
      const { sid } = await handshake(server.port);
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const polled = await poll(server.port, sid);
        const waited = Date.now() - started;
        assert.equal(polled.text, '2');
        assert.ok(waited >= PING_INTERVAL - 100, `ping after ${waited} ms`);
        assert.equal((await push(server.port, sid, '3')).text, 'ok');
      }
    });

    test('no pong within pingTimeout closes the session', async () => {
      const { sid } = await handshake(server.port);
      await sleep(PING_INTERVAL + PING_TIMEOUT + 150);
      const pushed = await push(server.port, sid, '3');
      assert.equal(pushed.status, 400);
      assert.equal(pushed.text, errorBody(1, 'Session ID unknown'));
    });

    test('a close packet over polling releases the held poll with a noop and ends the session',
      async () => {
        const { sid } = await handshake(server.port);
        const held = poll(server.port, sid);
        await sleep(50);
        assert.equal((await push(server.port, sid, '1')).text, 'ok');
        assert.equal((await held).text, '6');
        assert.equal((await poll(server.port, sid)).status, 400);
      });

    test('a WebSocket opened directly: the open packet with no upgrades, text and binary echo',
      async () => {
        const { ws, box } = await openWs(server.port);
        const open = text(await box.next());
        const sid = JSON.parse(open.slice(1)).sid;
        assert.equal(open, `0{"sid":"${sid}","upgrades":[],"pingInterval":${PING_INTERVAL},` +
          `"pingTimeout":${PING_TIMEOUT},"maxPayload":1000000}`);
        ws.send('4hello');
        assert.equal(text(await box.next()), '4hello');
        ws.send(Buffer.from([1, 2, 3, 4]));
        const echoed = await box.next();
        assert.equal(echoed.isBinary, true);
        assert.deepEqual([...echoed.data], [1, 2, 3, 4]);
        // The session answers pings and is known to polling requests as a WebSocket session.
        const mismatch = await poll(server.port, sid);
        assert.equal(mismatch.status, 400);
        assert.equal(mismatch.text, errorBody(3, 'Bad request'));
        ws.close();
        await wsClosed(ws);
      });

    test('a WebSocket: pings every pingInterval, closed without pongs, closed on garbage',
      async () => {
        const { ws, box } = await openWs(server.port);
        await box.next();  // open
        const started = Date.now();
        assert.equal(text(await box.next()), '2');
        assert.ok(Date.now() - started >= PING_INTERVAL - 100);
        ws.send('3');
        assert.equal(text(await box.next()), '2');
        const code = await wsClosed(ws, PING_TIMEOUT + 1000);  // no pong this time
        assert.ok(code !== null);

        const second = await openWs(server.port);
        await second.box.next();
        second.ws.send('abc');
        await wsClosed(second.ws, 2000);
      });

    test('bad WebSocket handshakes are refused: 400 (the reference upgrades, then drops)',
      async () => {
        for (const query of ['EIO=3&transport=websocket', 'EIO=4&transport=websocket&sid=nosuch']) {
          const answer = await rawExchange(server.port, `GET /engine.io/?${query} HTTP/1.1\r\n` +
            'Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
          const status = answer.split('\r\n')[0];
          if (target === 'duplex' || query.includes('sid=')) {
            assert.match(status, /^HTTP\/1\.1 400 /, query);
          } else {
            assert.match(status, /^HTTP\/1\.1 101 /, query);
          }
        }
      });

    test('upgrade: 2probe/3probe, the held poll released with a noop, 5, then the WebSocket ' +
      'carries the session and polls are refused', async () => {
      const { sid } = await handshake(server.port);
      const held = poll(server.port, sid);
      await sleep(30);
      const { ws, box } = await openWs(server.port, `sid=${sid}`);
      ws.send('2probe');
      assert.equal(text(await box.next()), '3probe');
      const released = await held;
      assert.equal(released.status, 200);
      assert.equal(released.text, '6');
      // A message posted during the upgrade comes back on the WebSocket once it is switched.
      assert.equal((await push(server.port, sid, '4during')).text, 'ok');
      ws.send('5');
      assert.equal(text(await box.next()), '4during');
      ws.send('4hello');
      assert.equal(text(await box.next()), '4hello');
      const refused = await poll(server.port, sid);
      assert.equal(refused.status, 400);
      assert.equal(refused.text, errorBody(3, 'Bad request'));
      // A second WebSocket for the upgraded session is closed.
      const again = await openWs(server.port, `sid=${sid}`);
      await wsClosed(again.ws, 2000);
      ws.send('4still');
      assert.equal(text(await box.next()), '4still');
      ws.close();
      await wsClosed(ws);
    });

    test('a probe that sends anything but 2probe is closed, and polling goes on', async () => {
      const { sid } = await handshake(server.port);
      const { ws } = await openWs(server.port, `sid=${sid}`);
      ws.send('4nope');
      await wsClosed(ws, 2000);
      assert.equal((await push(server.port, sid, '4after')).text, 'ok');
      assert.equal((await poll(server.port, sid)).text, '4after');
    });

    test('a client that vanishes during a held poll ends the session', async () => {
      const { sid } = await handshake(server.port);
      await withTimeout(new Promise((resolve) => {
        const raw = net.connect(server.port, '127.0.0.1', () => {
          raw.write(`GET ${eio(`sid=${sid}`)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
          setTimeout(() => { raw.destroy(); resolve(); }, 50);
        });
      }), 2000, 'raw poll');
      await sleep(100);
      const after = await poll(server.port, sid);
      assert.equal(after.status, 400);
      assert.equal(after.text, errorBody(1, 'Session ID unknown'));
    });
  });
}
