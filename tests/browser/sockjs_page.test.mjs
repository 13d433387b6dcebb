// sockjs-client 1.6 in headless Chromium, on a page the server under test serves itself (the
// client from its /sockjs/sockjs.min.js): every transport forced in turn, same origin and from a
// page of another origin (page on server A, SockJS on server B), each echoing characters the
// protocol escapes, lone surrogates and a 1 MiB message, closing with 1000, and /sockjs/close's
// 3000 "Go away!"; "</script>" through every transport; and sessions on every transport left
// quiet for longer than every timeout, with a short heartbeat.
//
// The servers: 'reference' is Node's sockjs 0.3 (tests/interop/sockjs/client_reference_server.mjs
// with --prefix /sockjs --static DIR); 'duplex' is `duplex serve --static DIR`.
//
// Found of the reference: the htmlfile transports (htmlfile, iframe-htmlfile) lose a message
// holding "</script>" (any case): Node's sockjs writes each frame into a <script> block of the
// htmlfile page with JSON.stringify, which leaves "</" as it is, so the block ends there and the
// rest is a syntax error in the page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, withTimeout, textOfBytes } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import {
  startSockjs, sleep, ESCAPED, CLIENT_ESCAPED, PAIRS, PERCENT, EVERY_BMP, LONE_SURROGATES,
} from '../interop/sockjs/client_support.mjs';
import { launchBrowser } from './support.mjs';

// What Chromium has: every transport of sockjs-client 1.6 but xdr-streaming and xdr-polling
// (XDomainRequest was Internet Explorer's). htmlfile is same-origin only (the client refuses it
// for another origin); its iframe- form carries it across.
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource',
  'iframe-eventsource', 'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling', 'htmlfile'];
const HTMLFILE = ['htmlfile', 'iframe-htmlfile'];
// What closing a session may make Chromium report, by races the test does not control. A
// request the client holds open (the stream, the event source, the htmlfile iframe's page, or
// the poll the server holds) is aborted, and reported as failed, unless its response ended
// first: these are the ends of such requests' URLs, after the session's path. And the htmlfile
// receiver forgets its callback as it closes but removes its iframe a moment later: a page the
// iframe was loading then fails to find the callback.
const HELD = {
  eventsource: 'eventsource',
  'iframe-eventsource': 'eventsource',
  'xhr-streaming': String.raw`xhr_streaming\?t=\d+`,
  'xhr-polling': String.raw`xhr\?t=\d+`,
  'iframe-xhr-polling': String.raw`xhr\?t=\d+`,
  htmlfile: String.raw`htmlfile\?c=_jp\.[a-z0-9]+`,
  'iframe-htmlfile': String.raw`htmlfile\?c=_jp\.[a-z0-9]+`,
};
const LOST_CALLBACK = /^uncaught exception: Cannot read properties of undefined \(reading 'start'\)$/;
/** What closing sessions of `transports` on `services` may make Chromium report (allowedErrors). */
function closingRaces(services, transports) {
  const ends = [...new Set(transports.map((t) => HELD[t]).filter(Boolean))];
  // A send whose answer is still on its way when the session closes (its echo may come back on
  // the receiving request first): the page aborts it.
  if (transports.some((t) => t !== 'websocket' && !t.startsWith('jsonp'))) {
    ends.push(String.raw`xhr_send\?t=\d+`);
  }
  const races = transports.some((t) => HTMLFILE.includes(t)) ? [LOST_CALLBACK] : [];
  if (ends.length === 0) return races;
  return [...races, new RegExp(String.raw`^request failed: ${services.base.replace(/\./g, '\\.')}` +
    String.raw`/sockjs/(echo|close)/\d+/[a-z0-9]+/(${ends.join('|')}) \(net::ERR_ABORTED\)$`)];
}
const STEP_MS = 20_000;
const QUIET_MS = 2000;
// A heartbeat every 0.5 s and sessions kept 1.5 s without a request: a Chromium renderer on a
// loaded 2-core machine can stall for longer than 0.3 s, which must not end a session.
const QUICK = { heartbeatDelay: 0.5, disconnectDelay: 1.5 };

const targets = ['reference', 'duplex'];
const SERVED_BY = { reference: "Node's sockjs 0.3 (the reference)", duplex: 'duplex serve' };

/**
 * Starts the server under test with its SockJS services under /sockjs/ and `dir` at /; resolves
 * with {base, stop}.
 */
async function startTarget(target, dir, { heartbeatDelay = 25, disconnectDelay = 5 } = {}) {
  if (target === 'reference') {
    const s = await startSockjs('reference', {
      heartbeatDelay, disconnectDelay, extra: ['--prefix', '/sockjs', '--static', dir],
    });
    return { base: s.base, stop: s.stop };
  }
  const s = await startServer(['--static', dir, '--sockjs-heartbeat-delay', String(heartbeatDelay),
    '--sockjs-disconnect-delay', String(disconnectDelay)]);
  return { base: `http://127.0.0.1:${s.port}`, stop: () => stopServer(s) };
}

// The page: sessions by id, each with the events it saw. Messages go in as a JSON text (so that
// lone surrogates survive the way into the page) and are compared in the page; only the
// mismatches come back, as JSON. Every wait is bounded.
const PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>SockJS transports</title>
<script src="/sockjs/sockjs.min.js"></script>
<script>
  const sessions = new Map();
  let lastId = 0;
  const within = (ms, what, promise) => Promise.race([promise, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out after ' + ms + ' ms: ' + what)), ms))]);
  const noMessages = (events) => events.filter((e) => e !== 'message');
  window.sj = {
    open(url, transport) {
      const id = ++lastId;
      const sock = new SockJS(url, null, { transports: [transport] });
      const s = { sock, events: [], got: [], wake: () => {}, closeEvent: null, transport: null };
      sessions.set(id, s);
      sock.onopen = () => { s.events.push('open'); s.transport = sock.transport; s.wake(); };
      sock.onmessage = (e) => { s.events.push('message'); s.got.push(e.data); s.wake(); };
      sock.addEventListener('heartbeat', () => s.events.push('heartbeat'));
      sock.onclose = (e) => {
        s.events.push('close');
        s.closeEvent = { code: e.code, reason: e.reason, wasClean: e.wasClean };
        s.wake();
      };
      return within(${STEP_MS}, 'open ' + transport, new Promise((resolve) => {
        s.wake = () => {
          if (s.transport || s.closeEvent) {
            resolve({ id, transport: s.transport, events: [...s.events], close: s.closeEvent });
          }
        };
      }));
    },
    echo(id, messagesJson) {
      const s = sessions.get(id);
      const messages = JSON.parse(messagesJson);
      const from = s.got.length;
      for (const m of messages) s.sock.send(m);
      return within(${STEP_MS}, messages.length + ' echoes', new Promise((resolve) => {
        s.wake = () => {
          if (s.got.length - from < messages.length && !s.closeEvent) return;
          const got = s.got.slice(from);
          const show = (m) => (m === undefined ? null : JSON.stringify(m).slice(0, 120));
          const wrong = messages.flatMap((m, i) => (got[i] === m ? [] : [{ i, sent: show(m), got: show(got[i]) }]));
          resolve({ count: got.length, wrong, close: s.closeEvent });
        };
        s.wake();
      }));
    },
    // Sends the messages, then one more, and resolves with what came back once that one did.
    sendThen(id, messagesJson, last) {
      const s = sessions.get(id);
      const from = s.got.length;
      for (const m of JSON.parse(messagesJson)) s.sock.send(m);
      s.sock.send(last);
      return within(${STEP_MS}, 'the echo of ' + last, new Promise((resolve) => {
        s.wake = () => {
          if (s.got.at(-1) === last || s.closeEvent) resolve(JSON.stringify(s.got.slice(from)));
        };
        s.wake();
      }));
    },
    close(id, code, reason) {
      sessions.get(id).sock.close(code, reason);
      return sj.closed(id);
    },
    closed(id) {
      const s = sessions.get(id);
      return within(${STEP_MS}, 'close event', new Promise((resolve) => {
        s.wake = () => { if (s.closeEvent) resolve({ ...s.closeEvent, events: noMessages(s.events) }); };
        s.wake();
      }));
    },
    state(id) {
      const s = sessions.get(id);
      return { readyState: s.sock.readyState, events: noMessages(s.events) };
    },
  };
</script>
</html>`;

/** page.evaluate of `fn(arg)`, bounded on this side too. */
const call = (page, fn, arg) => withTimeout(page.evaluate(fn, arg), STEP_MS + 5000, fn.toString());
const openIn = (page, url, transport) =>
  call(page, ([u, t]) => window.sj.open(u, t), [url, transport]);
const withoutHeartbeats = (events) => events.filter((e) => e !== 'heartbeat');
// The events up to 'open': an xhr-streaming response starts with a line of 2,048 "h" (the
// prelude), which the client reads as a heartbeat frame.
const opening = (transport) => (transport === 'xhr-streaming' ? ['heartbeat', 'open'] : ['open']);

const MESSAGES = JSON.stringify(['héllo ✓ 中文', '', ESCAPED, CLIENT_ESCAPED, PAIRS, PERCENT, EVERY_BMP,
  ...LONE_SURROGATES, textOfBytes(1024 * 1024)]);

for (const target of targets) {
  describe(`sockjs-client in Chromium, pages served by ${SERVED_BY[target]}`, { timeout: 300_000 }, () => {
    let dir;
    const servers = [];
    let a;  // serves the pages, and the same-origin services
    let b;  // the services for pages of A's origin
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'duplex_sockjs_page_'));
      writeFileSync(path.join(dir, 'sockjs.html'), PAGE);
      a = await startTarget(target, dir);
      servers.push(a);
      b = await startTarget(target, dir);
      servers.push(b);
    });
    after(async () => {
      for (const s of servers) await s.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const cross of [false, true]) {
      const origin = cross ? 'a page of another origin' : 'same origin';
      for (const transport of TRANSPORTS) {
        test(`${origin}, ${transport}: echo, close 1000, and /sockjs/close's 3000 "Go away!"`, async () => {
          const services = cross ? b : a;
          const browser = await launchBrowser();
          try {
            const refused = cross && transport === 'htmlfile';
            const page = await browser.newPage({ allowedErrors: refused ? [] : closingRaces(services, [transport]) });
            await page.goto(`${a.base}/sockjs.html`);
            if (refused) {
              const s = await openIn(page, `${services.base}/sockjs/echo`, transport);
              assert.deepEqual(s.close, { code: 2000, reason: 'All transports failed', wasClean: false });
              await browser.assertNoPageErrors();
              return;
            }
            const s = await openIn(page, `${services.base}/sockjs/echo`, transport);
            assert.deepEqual([s.transport, s.events], [transport, opening(transport)]);
            const echoed = await call(page, ([id, m]) => window.sj.echo(id, m), [s.id, MESSAGES]);
            assert.deepEqual(echoed, { count: JSON.parse(MESSAGES).length, wrong: [], close: null });
            const closed = await call(page, (id) => window.sj.close(id, 1000, 'done ✓'), s.id);
            assert.deepEqual({ ...closed, events: withoutHeartbeats(closed.events) },
              { code: 1000, reason: 'done ✓', wasClean: true, events: ['open', 'close'] });

            const c = await openIn(page, `${services.base}/sockjs/close`, transport);
            assert.equal(c.transport, transport);
            const goAway = await call(page, (id) => window.sj.closed(id), c.id);
            assert.deepEqual({ ...goAway, events: withoutHeartbeats(goAway.events) },
              { code: 3000, reason: 'Go away!', wasClean: true, events: ['open', 'close'] });
            await browser.assertNoPageErrors();
          } finally {
            await browser.close();
          }
        });
      }
    }

    test('"</script>" through every transport, same origin', async () => {
      // On the reference, each htmlfile transport's page throws where the block was cut.
      const broken = target === 'reference' ? HTMLFILE : [];
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({
          allowedErrors: closingRaces(a, TRANSPORTS),
          expectedErrors: broken.length ? [/^uncaught exception: Invalid or unexpected token$/] : [],
        });
        await page.goto(`${a.base}/sockjs.html`);
        const tags = ['</script>', 'a</SCRIPT >b', '<script>x</script>'];
        for (const transport of TRANSPORTS) {
          const s = await openIn(page, `${a.base}/sockjs/echo`, transport);
          assert.equal(s.transport, transport);
          const got = JSON.parse(await call(page, ([id, m, last]) => window.sj.sendThen(id, m, last),
            [s.id, JSON.stringify(tags), 'after the tags']));
          assert.deepEqual(got, [...(broken.includes(transport) ? [] : tags), 'after the tags'], transport);
          await call(page, (id) => window.sj.close(id, 1000, 'done'), s.id);
        }
        await browser.assertNoPageErrors();
      } finally {
        await browser.close();
      }
    });

    // A browser keeps at most six HTTP connections to a server: the sessions go in groups that
    // leave room for their sends.
    const GROUPS = [['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'],
      ['iframe-eventsource', 'iframe-htmlfile', 'htmlfile'], ['iframe-xhr-polling', 'jsonp-polling']];
    test(`every transport quiet for ${QUIET_MS} ms with --heartbeat-delay ${QUICK.heartbeatDelay} ` +
      `and --disconnect-delay ${QUICK.disconnectDelay}: still open, heartbeats, messages flow after`,
    async () => {
      const quick = await startTarget(target, dir, QUICK);
      servers.push(quick);
      const browser = await launchBrowser();
      try {
        for (const group of GROUPS) {
          const page = await browser.newPage({ allowedErrors: closingRaces(quick, group) });
          await page.goto(`${quick.base}/sockjs.html`);
          const sessions = [];
          for (const transport of group) {
            const s = await openIn(page, `${quick.base}/sockjs/echo`, transport);
            assert.equal(s.transport, transport);
            sessions.push(s);
          }
          const before = JSON.stringify(['before the quiet']);
          for (const s of sessions) {
            assert.equal((await call(page, ([id, m]) => window.sj.echo(id, m), [s.id, before])).count, 1);
          }
          await sleep(QUIET_MS);
          const after = JSON.stringify(['after the quiet ✓', ESCAPED]);
          for (const [i, s] of sessions.entries()) {
            const state = await call(page, (id) => window.sj.state(id), s.id);
            assert.equal(state.readyState, 1, `${group[i]} is open: ${JSON.stringify(state)}`);
            assert.deepEqual(withoutHeartbeats(state.events), ['open'], group[i]);
            // websocket: a server may ping at the WebSocket level instead of "h" frames (Node's
            // sockjs does).
            const beats = state.events.filter((e) => e === 'heartbeat').length;
            if (group[i] !== 'websocket') assert.ok(beats >= 2, `${group[i]}: ${beats} heartbeats`);
            assert.deepEqual(await call(page, ([id, m]) => window.sj.echo(id, m), [s.id, after]),
              { count: 2, wrong: [], close: null }, group[i]);
          }
          for (const s of sessions) await call(page, (id) => window.sj.close(id, 1000, 'done'), s.id);
          await browser.assertNoPageErrors();
          await page.close();
        }
      } finally {
        await browser.close();
      }
    });
  });
}
