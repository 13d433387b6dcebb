// Headless Chromium's own EventSource on a page `duplex serve --static` serves itself: messages
// published with POST /publish and by a /pubsub WebSocket arrive live; a source the page closes
// and opens again with ?lastEventId= gets exactly what it missed; when the server drops the
// stream (a burst queued past --max-backpressure in one read), the browser reconnects by itself
// with its Last-Event-ID and is told what the --history no longer holds, then gets the rest; and
// when the network breaks the connection (a relay between page and server cuts it), it comes
// back with Last-Event-ID and gets exactly what it missed, then stays open through a quiet spell
// longer than every timeout. Every event the page saw is compared whole: type, id, data,
// readyState, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../interop/node/helpers.mjs';
import {
  delivery, lostData, publish, publishPipelined, startRelay, lastEventIdOf, sleep,
} from '../interop/sse/support.mjs';
import { withPageAndServers, eventsOf, waitForEvents, message } from './sse_support.mjs';

const text = (topic, s) => delivery(topic, JSON.stringify(s));
const OPEN = { type: 'open', id: null, data: null, state: 1 };

test('Chromium\'s EventSource: live, resumed with ?lastEventId, and reconnected by itself after ' +
  'the server drops it', { timeout: 90_000 }, () => withPageAndServers(async ({
  folder, browser, start,
}) => {
  // One thread, so that a burst is delivered in one loop iteration; ids count from 1.
  const server = await start(['--static', folder.dir, '--max-backpressure', '16384',
    '--history', '8']);
  const ws = await connect(`${server.url}pubsub`);
  try {
    // What Chromium reports of what the test does on purpose: the sources the page closes
    // (aborted), and the stream the server drops (cut in the middle of its chunked body).
    const stream = String.raw`http://127\.0\.0\.1:\d+/sse\?topic=live`;
    const page = await browser.newPage({
      expectedErrors: [
        new RegExp(String.raw`^request failed: ${stream}(&lastEventId=3)? \(net::ERR_ABORTED\)$`),
        new RegExp(String.raw`^request failed: ${stream}&lastEventId=3 ` +
          String.raw`\(net::ERR_INCOMPLETE_CHUNKED_ENCODING\)$`),
        new RegExp(String.raw`^console error: Failed to load resource: ` +
          String.raw`net::ERR_INCOMPLETE_CHUNKED_ENCODING \(${stream}&lastEventId=3\)$`),
      ],
    });
    await page.goto(`http://127.0.0.1:${server.port}/sse.html`);
    assert.equal(await page.textContent('#state'), 'loaded');

    // Live, from both kinds of publisher.
    await page.evaluate(() => window.openSource('a', '/sse?topic=live'));
    await waitForEvents(page, 'a', 'open', 1);
    await publish(server.port, 'live', 'hello ✓\nfrom a POST');
    await publish(server.port, 'live', '{ "n": [1, 2.50] }',
      { headers: { 'Content-Type': 'application/json' } });
    ws.send(JSON.stringify({ type: 'publish', topic: 'live', data: { via: 'ws' } }));
    await waitForEvents(page, 'a', 'message', 3);
    assert.deepEqual(await eventsOf(page, 'a'), [
      OPEN,
      message('1', text('live', 'hello ✓\nfrom a POST')),
      message('2', delivery('live', '{"n":[1,2.50]}')),
      message('3', delivery('live', '{"via":"ws"}')),
    ]);

    // The page closes its source; five are published meanwhile; it opens another from where it
    // was: exactly those five, then live ones, nothing twice.
    await page.evaluate(() => window.closeSource('a'));
    const missed = [1, 2, 3, 4, 5].map((n) => `missed ${n}`);
    for (const m of missed) await publish(server.port, 'live', JSON.stringify(m));
    await page.evaluate(() => window.openSource('b', '/sse?topic=live&lastEventId=3'));
    await waitForEvents(page, 'b', 'message', 5);
    await publish(server.port, 'live', '"live again"');
    await waitForEvents(page, 'b', 'message', 6);
    assert.deepEqual(await eventsOf(page, 'b'), [
      OPEN,
      ...missed.map((m, i) => message(String(4 + i), text('live', m))),
      message('9', text('live', 'live again')),
    ]);
    assert.equal((await eventsOf(page, 'a')).length, 4, 'the closed source got nothing more');

    // 160 messages in one write of pipelined POSTs: the stream's queue passes
    // --max-backpressure before the kernel takes any of it, and the server drops the stream.
    // Chromium waits the server's `retry: 3000`, comes back with Last-Event-ID: 9 and is told
    // that the history (8 messages) no longer reaches back, then gets what it holds.
    const burst = Array.from({ length: 160 }, (_, i) => `burst ${i + 1} ${'x'.repeat(400)}`);
    await publishPipelined(server.port, 'live', burst.map((b) => JSON.stringify(b)));
    await waitForEvents(page, 'b', 'error', 1);
    await waitForEvents(page, 'b', 'message', 6 + 8, 15_000);
    await publish(server.port, 'live', '"after the drop"');
    await waitForEvents(page, 'b', 'message', 6 + 8 + 1);
    const after = (await eventsOf(page, 'b')).slice(1 + 6);
    assert.deepEqual(after, [
      { type: 'error', id: null, data: null, state: 0 },  // CONNECTING: it will come back
      OPEN,
      { type: 'lost', id: '9', data: lostData('live'), state: 1 },
      // The burst had ids 10 to 169: the history holds 162 to 169.
      ...burst.slice(-8).map((b, i) => message(String(162 + i), text('live', b))),
      message('170', text('live', 'after the drop')),
    ]);
    await page.evaluate(() => window.closeSource('b'));
    await browser.assertNoPageErrors();
  } finally {
    ws.terminate();
  }
}));

test('Chromium reconnects by itself with Last-Event-ID when its connection breaks, gets exactly ' +
  'what it missed, and its stream outlives a quiet spell longer than every timeout',
{ timeout: 90_000 }, () => withPageAndServers(async ({ folder, browser, start }) => {
  const server = await start(['--static', folder.dir, '--sse-heartbeat', '0.3',
    '--handshake-timeout', '0.5', '--idle-timeout', '0.5', '--close-timeout', '0.5']);
  // The page and its stream go through a relay, which breaks them as a network would.
  const relay = await startRelay(server.port);
  try {
    const stream = String.raw`http://127\.0\.0\.1:${relay.port}/sse\?topic=net`;
    const page = await browser.newPage({
      expectedErrors: [
        new RegExp(String.raw`^request failed: ${stream} \(net::ERR_INCOMPLETE_CHUNKED_ENCODING\)$`),
        new RegExp(String.raw`^console error: Failed to load resource: ` +
          String.raw`net::ERR_INCOMPLETE_CHUNKED_ENCODING \(${stream}\)$`),
      ],
    });
    await page.goto(`http://127.0.0.1:${relay.port}/sse.html`);
    await page.evaluate(() => window.openSource('c', '/sse?topic=net'));
    await waitForEvents(page, 'c', 'open', 1);
    await publish(server.port, 'net', '"before 1"');
    await publish(server.port, 'net', '"before 2"');
    await waitForEvents(page, 'c', 'message', 2);

    relay.cut();
    await waitForEvents(page, 'c', 'error', 1);
    for (const n of [1, 2, 3]) await publish(server.port, 'net', `"missed ${n}"`);
    await waitForEvents(page, 'c', 'message', 5, 15_000);
    // --sse-heartbeat 0.3 against timeouts of 0.5: 2 s of silence is four times each.
    await sleep(2000);
    await publish(server.port, 'net', '"after the quiet"');
    await waitForEvents(page, 'c', 'message', 6);

    assert.deepEqual(await eventsOf(page, 'c'), [
      OPEN,
      message('1', text('net', 'before 1')),
      message('2', text('net', 'before 2')),
      { type: 'error', id: null, data: null, state: 0 },
      OPEN,
      message('3', text('net', 'missed 1')),
      message('4', text('net', 'missed 2')),
      message('5', text('net', 'missed 3')),
      message('6', text('net', 'after the quiet')),
    ]);
    const asked = relay.heads.filter((h) => h.startsWith('GET /sse?topic=net '));
    assert.deepEqual(asked.map(lastEventIdOf), [null, '2'], asked.join('\n'));
    await browser.assertNoPageErrors();
  } finally {
    await relay.close();
  }
}));
