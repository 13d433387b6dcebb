// Shared by the EventSource pages (sse_page, sse_cors): a page, written into a --static folder
// for `duplex serve` to serve, that opens named EventSources and records every event they fire,
// and the Node side that reads those records.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../interop/node/helpers.mjs';
import { stopServer } from '../interop/pubsub/support.mjs';
import { openStream } from '../interop/sse/support.mjs';
import { launchBrowser } from './support.mjs';

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>EventSource test page</title>
<p id="state">loaded</p>
<script>
  // Every event of every source, in the order the page saw them: the source's name, the type,
  // the event's lastEventId and data (null for open and error) and the source's readyState.
  window.events = [];
  window.sources = {};
  window.openSource = (name, url, init) => {
    const es = new EventSource(url, init);
    window.sources[name] = es;
    const record = (type) => (e) => window.events.push({
      name, type, id: e.lastEventId ?? null, data: e.data ?? null, state: es.readyState,
    });
    for (const type of ['open', 'error', 'message', 'lost']) es.addEventListener(type, record(type));
  };
  window.closeSource = (name) => window.sources[name].close();
</script>
</html>
`;

/** A fresh folder holding the page as sse.html; `remove()` deletes it. */
export function pageFolder() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duplex_sse_page_'));
  writeFileSync(path.join(dir, 'sse.html'), PAGE);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `body({folder, browser, start, read})` with the page's folder and Chromium: start(flags)
 * starts `duplex serve --threads 1 ...flags`, read(server, target) opens a Node reader of an
 * event stream. Everything is closed and stopped after, whatever happens (each server must exit
 * 0).
 */
export async function withPageAndServers(body) {
  const folder = pageFolder();
  const servers = [];
  const readers = [];
  const browser = await launchBrowser();
  try {
    await body({
      folder,
      browser,
      async start(flags) {
        const server = await startServer(['--threads', '1', '--first-sequence', '1', ...flags]);
        servers.push(server);
        return server;
      },
      async read(server, target) {
        const reader = await openStream(server.port, target);
        readers.push(reader);
        return reader;
      },
    });
  } finally {
    for (const reader of readers) reader.close();
    await browser.close();
    for (const server of servers) await stopServer(server);
    folder.remove();
  }
}

/** The events source `name` fired so far, without its name. */
export function eventsOf(page, name) {
  return page.evaluate((n) => window.events.filter((e) => e.name === n)
    .map(({ type, id, data, state }) => ({ type, id, data, state })), name);
}

/** Waits until source `name` has fired `count` events of `type`. */
export async function waitForEvents(page, name, type, count, timeout = 10_000) {
  try {
    await page.waitForFunction(([n, t, c]) =>
      window.events.filter((e) => e.name === n && e.type === t).length >= c,
    [name, type, count], { timeout });
  } catch (err) {
    err.message += `\nevents of ${name}: ${JSON.stringify(await eventsOf(page, name))}`;
    throw err;
  }
}

export const message = (id, data) => ({ type: 'message', id, data, state: 1 });
