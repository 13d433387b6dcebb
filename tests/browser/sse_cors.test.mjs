// Cross-origin Server-Sent Events and publishing in headless Chromium: a page served by one
// `duplex serve` (its --static folder, origin http://127.0.0.1:<page port>) opens EventSources
// to, and fetch()es POST /publish on, other `duplex serve`s: one that lists the page's origin in
// --cors-origin, one that also gives --cors-credentials, one that lists another origin only, and
// one with the default (no --cors-origin: same origin only). What the browser lets the page see
// is checked against what a Node reader of the same topic sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delivery, publish } from '../interop/sse/support.mjs';
import { withPageAndServers, eventsOf, waitForEvents, message } from './sse_support.mjs';

const OPEN = { type: 'open', id: null, data: null, state: 1 };
const FAILED = { type: 'error', id: null, data: null, state: 2 };  // CLOSED: it gives up

/** fetch() from the page: {status} or {error} (the exception's name and message). */
function fetchFrom(page, url, init) {
  return page.evaluate(async ([u, i]) => {
    try {
      const res = await fetch(u, i);
      return { status: res.status, type: res.type };
    } catch (e) {
      return { error: `${e.name}: ${e.message}` };
    }
  }, [url, init]);
}

const JSON_POST = (body) => ({
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
});

test('EventSource and fetch(POST /publish) across origins, as --cors-origin allows',
  { timeout: 90_000 }, () => withPageAndServers(async ({ folder, browser, start, read }) => {
    const pages = await start(['--static', folder.dir]);
    const origin = `http://127.0.0.1:${pages.port}`;
    const allowing = await start(['--cors-origin', origin]);
    const crediting = await start(['--cors-origin', origin, '--cors-credentials']);
    const other = await start(['--cors-origin', 'http://127.0.0.1:1']);
    const sse = (s, topic = 'x') => `http://127.0.0.1:${s.port}/sse?topic=${topic}`;
    const publishUrl = (s, topic = 'x') => `http://127.0.0.1:${s.port}/publish?topic=${topic}`;
    // Chromium reports each refusal three times: the reason, the failed request, the failed
    // load; each of these is expected exactly where the test provokes it.
    const at = (server, route) => String.raw`http://127\.0\.0\.1:${server.port}/${route}\?topic=x`;
    const quotedOrigin = `'${origin.replace(/\./g, '\\.')}'`;
    const refusal = (server, route, what, why) => [
      new RegExp(String.raw`^console error: Access to ${what} at '${at(server, route)}' from ` +
        String.raw`origin ${quotedOrigin} has been blocked by CORS policy: ${why}`),
      new RegExp(String.raw`^request failed: ${at(server, route)} \(net::ERR_FAILED\)$`),
      new RegExp(String.raw`^console error: Failed to load resource: net::ERR_FAILED ` +
        String.raw`\(${at(server, route)}\)$`),
    ];
    const page = await browser.newPage({
      expectedErrors: [
        ...refusal(allowing, 'sse', 'resource',
          String.raw`The value of the 'Access-Control-Allow-Credentials' header in the ` +
          String.raw`response is '' which must be 'true'`),
        ...refusal(other, 'sse', 'resource',
          String.raw`No 'Access-Control-Allow-Origin' header is present`),
        ...refusal(other, 'publish', 'fetch',
          String.raw`Response to preflight request doesn't pass access control check`),
      ],
    });
    await page.goto(`${origin}/sse.html`);

    // Allowed: the stream opens and carries what is published, from Node and from the page
    // (a JSON POST, which needs a preflight, granted).
    await page.evaluate((url) => window.openSource('allowed', url), sse(allowing));
    await waitForEvents(page, 'allowed', 'open', 1);
    await publish(allowing.port, 'x', '"from node"');
    assert.deepEqual(await fetchFrom(page, publishUrl(allowing), JSON_POST('{"from":"page"}')),
      { status: 204, type: 'cors' });
    await waitForEvents(page, 'allowed', 'message', 2);
    assert.deepEqual(await eventsOf(page, 'allowed'), [
      OPEN,
      message('1', delivery('x', '"from node"')),
      message('2', delivery('x', '{"from":"page"}')),
    ]);

    // With credentials: refused by the browser unless the server allows credentials.
    await page.evaluate((url) => window.openSource('no credentials', url, { withCredentials: true }),
      sse(allowing));
    await page.evaluate((url) => window.openSource('credentials', url, { withCredentials: true }),
      sse(crediting));
    await waitForEvents(page, 'no credentials', 'error', 1);
    await waitForEvents(page, 'credentials', 'open', 1);
    await publish(allowing.port, 'x', '"after the refusal"');
    await publish(crediting.port, 'x', '"with credentials"');
    await waitForEvents(page, 'allowed', 'message', 3);
    await waitForEvents(page, 'credentials', 'message', 1);
    assert.deepEqual(await eventsOf(page, 'no credentials'), [FAILED]);
    assert.deepEqual(await eventsOf(page, 'credentials'),
      [OPEN, message('1', delivery('x', '"with credentials"'))]);

    // An origin outside the list: the stream fails and the JSON POST's preflight is refused,
    // so nothing is published: a Node reader of the topic gets the next message alone.
    const reader = await read(other, '/sse?topic=x');
    await page.evaluate((url) => window.openSource('outsider', url), sse(other));
    await waitForEvents(page, 'outsider', 'error', 1);
    const blocked = await fetchFrom(page, publishUrl(other), JSON_POST('{"from":"outside"}'));
    assert.deepEqual(blocked, { error: 'TypeError: Failed to fetch' });
    await publish(other.port, 'x', '"from node"');
    await reader.messagesAtLeast(1);
    assert.deepEqual(reader.messages.map((e) => e.data), [delivery('x', '"from node"')]);
    assert.deepEqual(await eventsOf(page, 'outsider'), [FAILED]);

    await browser.assertNoPageErrors();
  }));

test('a page of an origin not allowed cannot publish with a simple POST either', {
  timeout: 60_000,
}, () => withPageAndServers(async ({ folder, browser, start, read }) => {
  const pages = await start(['--static', folder.dir]);
  // The refused publish is seen by the page as a console error and an HTTP 403.
  const page = await browser.newPage({
    expectedErrors: [/status of 403 \(Forbidden\).*\/publish\?topic=x/, /^HTTP 403: .*\/publish\?topic=x$/],
  });
  await page.goto(`http://127.0.0.1:${pages.port}/sse.html`);
  for (const flags of [[], ['--cors-origin', 'http://127.0.0.1:1']]) {
    const target = await start(flags);
    const reader = await read(target, '/sse?topic=x');
    // What a form or a no-cors fetch sends: POST with text/plain and the page's Origin.
    const sent = await fetchFrom(page, `http://127.0.0.1:${target.port}/publish?topic=x`,
      { method: 'POST', mode: 'no-cors', body: 'sneaky' });
    assert.deepEqual(sent, { status: 0, type: 'opaque' });
    await publish(target.port, 'x', '"from node"');
    await reader.messagesAtLeast(1);
    assert.deepEqual(reader.messages.map((e) => e.data), [delivery('x', '"from node"')],
      `duplex serve ${flags.join(' ')}`);
  }
  await browser.assertNoPageErrors();
}));
