// permessage-deflate interop with the `ws` client (perMessageDeflate on, its default offer):
// the negotiated header in each `duplex serve --deflate` mode, round trips of 0 B to 8 MiB text
// and binary, bytes on the wire showing that both directions compress, and `--deflate off`.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, inbox, withTimeout, textOfBytes, binaryOfBytes, WebSocket,
} from './helpers.mjs';

const SIZES = [0, 1, 127, 128, 1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024];
const MODES = {
  shared: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  dedicated: 'permessage-deflate',
};

/** Compressible text of `bytes` UTF-8 bytes: JSON-like records with multi-byte characters. */
function jsonLike(bytes) {
  const parts = [];
  for (let i = 0, length = 0; length < bytes; ++i) {
    parts.push(`{"id":${i},"name":"user-${i % 97}","tags":["héllo","wörld"],"ok":${i % 3 === 0}},`);
    length += Buffer.byteLength(parts[parts.length - 1]);
  }
  return trimToBytes(parts.join(''), bytes);
}

function trimToBytes(text, bytes) {
  let buf = Buffer.from(text).subarray(0, bytes);
  // Do not cut a character in half: drop continuation bytes at the cut and pad with 'x'.
  let end = buf.length;
  while (end > 0 && (buf[end - 1] & 0xc0) === 0x80) --end;
  if (end > 0 && buf[end - 1] >= 0xc0) --end;
  return buf.subarray(0, end).toString('utf8') + 'x'.repeat(bytes - end);
}

/** Opens a `ws` client offering permessage-deflate; resolves with it and the 101's headers. */
async function openDeflate(url, perMessageDeflate = true) {
  const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 64 * 1024 * 1024 });
  ws.on('error', () => {});
  let headers;
  ws.once('upgrade', (res) => { headers = res.headers; });
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), undefined, 'open');
  return { ws, headers };
}

for (const [mode, answer] of Object.entries(MODES)) {
  describe(`ws client with perMessageDeflate: duplex serve --deflate ${mode}`, () => {
    let server;
    before(async () => { server = await startServer(['--deflate', mode, '--max-payload', String(16 << 20)]); });
    after(async () => { await server?.stop(); });

    test('the offer is accepted with the expected parameters', async () => {
      const { ws, headers } = await openDeflate(server.url);
      assert.equal(headers['sec-websocket-extensions'], answer);
      assert.equal(ws.extensions, 'permessage-deflate');
      ws.close(1000);
    });

    for (const size of SIZES) {
      test(`text of ${size} B and binary of ${size} B round trip`, async () => {
        const { ws } = await openDeflate(server.url);
        const box = inbox(ws);
        const text = trimToBytes(jsonLike(size), size);
        assert.equal(Buffer.byteLength(text), size);
        ws.send(text);
        const echoed = await box.next(60_000);
        assert.equal(echoed.isBinary, false);
        assert.equal(echoed.data.toString('utf8'), text);

        const bytes = binaryOfBytes(size);
        ws.send(bytes, { binary: true });
        const got = await box.next(60_000);
        assert.equal(got.isBinary, true);
        assert.ok(got.data.equals(bytes), `binary echo of ${size} B differs`);
        ws.close(1000);
      });
    }

    test('compressible messages are compressed both ways on the wire', async () => {
      const { ws } = await openDeflate(server.url);
      const box = inbox(ws);
      const text = trimToBytes(jsonLike(1 << 20), 1 << 20);
      const readBefore = ws._socket.bytesRead;
      const writtenBefore = ws._socket.bytesWritten;
      ws.send(text);
      assert.equal((await box.next(60_000)).data.toString('utf8'), text);
      assert.ok(ws._socket.bytesWritten - writtenBefore < text.length / 4, 'client did not compress');
      assert.ok(ws._socket.bytesRead - readBefore < text.length / 4, 'server did not compress');
      ws.close(1000);
    });

    test('many messages on one connection keep the contexts in step', async () => {
      const { ws } = await openDeflate(server.url);
      const box = inbox(ws);
      for (let i = 0; i < 200; ++i) {
        const text = trimToBytes(jsonLike(200 + (i * 37) % 3000), 200 + (i * 37) % 3000);
        ws.send(text);
        assert.equal((await box.next()).data.toString('utf8'), text);
      }
      ws.close(1000);
    });
  });
}

describe('ws client with perMessageDeflate: duplex serve --deflate off', () => {
  let server;
  before(async () => { server = await startServer(['--deflate', 'off']); });
  after(async () => { await server?.stop(); });

  test('the offer is declined and messages flow uncompressed', async () => {
    const { ws, headers } = await openDeflate(server.url);
    assert.equal(headers['sec-websocket-extensions'], undefined);
    assert.equal(ws.extensions, '');
    const box = inbox(ws);
    const text = textOfBytes(4096);
    ws.send(text);
    assert.equal((await withTimeout(box.next())).data.toString('utf8'), text);
    ws.close(1000);
  });
});
