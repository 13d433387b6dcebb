// The files `duplex serve` embeds at build time from web/ come back byte for byte over HTTP with
// their content types: the echo page at /, the chat page at /chat and the icon at /favicon.ico
// (binary: NULs and bytes above 0x7f included). A --static folder's own favicon.ico wins.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServer, httpRequest } from './helpers.mjs';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web');

const EMBEDDED = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/chat', 'chat.html', 'text/html; charset=utf-8'],
  ['/favicon.ico', 'favicon.ico', 'image/x-icon'],
];

describe('embedded pages', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  for (const [where, file, type] of EMBEDDED) {
    test(`GET ${where} serves web/${file} exactly, as ${type}`, async () => {
      const expected = readFileSync(path.join(WEB, file));
      const res = await httpRequest(server.port, where);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], type);
      assert.equal(Number(res.headers['content-length']), expected.length);
      assert.ok(res.body.equals(expected), `the bytes of ${where} differ from web/${file}`);
    });
  }

  test('the icon is a real .ico that exercises binary embedding', () => {
    const icon = readFileSync(path.join(WEB, 'favicon.ico'));
    assert.deepEqual([...icon.subarray(0, 4)], [0, 0, 1, 0], 'ICONDIR: reserved 0, type 1 (icon)');
    assert.ok(icon.includes(0) && icon.some((b) => b >= 0x80), 'NULs and high bytes');
  });

  test('HEAD /favicon.ico: the headers without the body', async () => {
    const res = await httpRequest(server.port, '/favicon.ico', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/x-icon');
    assert.equal(Number(res.headers['content-length']),
      readFileSync(path.join(WEB, 'favicon.ico')).length);
    assert.equal(res.body.length, 0);
  });
});

describe('a --static folder with its own favicon.ico', () => {
  let server;
  let dir;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'duplex_static_'));
    writeFileSync(path.join(dir, 'favicon.ico'), Buffer.from([0, 0, 1, 0, 0xff, 0x7f]));
    server = await startServer(['--static', dir]);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is served instead of the built-in icon', async () => {
    const res = await httpRequest(server.port, '/favicon.ico');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/x-icon');
    assert.deepEqual([...res.body], [0, 0, 1, 0, 0xff, 0x7f]);
  });
});
