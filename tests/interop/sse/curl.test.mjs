// curl against `duplex serve`'s /sse and /publish, as a person tries them from a shell: `curl -N`
// reads the stream (head, retry line, then an event once `curl -X POST --data-binary` has
// published and got its 204), and every bad request gets its status and reason byte for byte.
// Every curl is bounded by -m and killed at the end of its test if still running.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';
import { watch, withTimeout } from './support.mjs';

const running = new Set();

/**
 * Runs curl with `args` (after -s -S -m 10): resolves with {code, stdout, stderr} when it exits;
 * `seen(predicate)` resolves once its stdout so far passes `predicate`.
 */
function curl(args) {
  let stdout = '';
  let stderr = '';
  const changes = watch(() => stdout);
  const child = execFile('curl', ['-s', '-S', '-m', '10', ...args], { encoding: 'latin1' });
  running.add(child);
  const done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    stdout += d;
    changes.changed();
  });
  return {
    child,
    done: withTimeout(done, 12_000, `curl ${args.join(' ')}`),
    seen: (predicate, label) => changes.until(predicate, `curl's output: ${label}`),
  };
}

const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n' +
  'Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n';

/** A whole response as `curl -i` prints it, for a plain-text answer. */
const textAnswer = (statusLine, body, extra = '') => `HTTP/1.1 ${statusLine}\r\n` +
  `Content-Type: text/plain; charset=utf-8\r\n${extra}` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('curl against duplex serve', { timeout: 60_000 }, () => {
  let server;
  let base;
  let tmp;
  before(async () => {
    server = await startServer(['--threads', '1', '--first-sequence', '1']);
    base = `http://127.0.0.1:${server.port}`;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'duplex_sse_curl_'));
  });
  after(async () => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
    await stopServer(server);
  });

  test('curl -N reads the retry line, then the event a curl POST publishes', async () => {
    const stream = curl(['-N', '-i', `${base}/sse?topic=x`]);
    try {
      await stream.seen((out) => out.includes('\n\n'), 'the retry line');
      const post = await curl(['-X', 'POST', '--data-binary', 'hello from curl ✓', '-i',
        `${base}/publish?topic=x`]).done;
      assert.equal(post.code, 0, post.stderr);
      assert.equal(post.stdout, 'HTTP/1.1 204 No Content\r\n\r\n');
      const json = await curl(['-X', 'POST', '-H', 'Content-Type: application/json',
        '--data-binary', '{ "n" : [1, 2.50], "s": "caf\\u00e9" }', '-w', '%{http_code}',
        `${base}/publish?topic=x`]).done;
      assert.equal(json.stdout, '204');
      const event = (id, data) => `id: ${id}\ndata: {"type":"message","topic":"x","data":${data}}\n\n`;
      // curl's output is read as latin1: the UTF-8 bytes one char each.
      const expected = Buffer.from(`${STREAM_HEAD}retry: 3000\n\n` +
        `${event(1, '"hello from curl ✓"')}${event(2, '{"n":[1,2.50],"s":"café"}')}`)
        .toString('latin1');
      await stream.seen((out) => out.length >= expected.length, 'two events');
      stream.child.kill('SIGTERM');
      const { stdout } = await stream.done;
      assert.equal(stdout, expected);
    } finally {
      stream.child.kill('SIGKILL');
    }
  });

  test('-m ends a quiet stream: curl exits 28 having read only the head and the retry line',
    async () => {
      const r = await curl(['-N', '-m', '1', '-i', `${base}/sse?topic=quiet`]).done;
      assert.equal(r.code, 28, r.stderr);
      assert.equal(r.stdout, `${STREAM_HEAD}retry: 3000\n\n`);
    });

  test('bad requests get their status and the reason', async () => {
    const notUtf8 = path.join(tmp, 'not-utf8');
    writeFileSync(notUtf8, Buffer.from([0x68, 0xff, 0x69]));
    const deep = '['.repeat(64) + ']'.repeat(64);
    const manyTopics = Array.from({ length: 17 }, (_, i) => `topic=t${i}`).join('&');
    const cases = [
      [[`${base}/sse`], textAnswer('400 Bad Request', 'name at least one topic: ?topic=news\n')],
      [[`${base}/sse?topic=`], textAnswer('400 Bad Request', 'topic is empty\n')],
      [[`${base}/sse?topic=a&topic=`], textAnswer('400 Bad Request', 'topic is empty\n')],
      [[`${base}/sse?topic=${'x'.repeat(257)}`],
        textAnswer('400 Bad Request', 'topic is longer than 256 bytes\n')],
      [[`${base}/sse?${manyTopics}`], textAnswer('400 Bad Request', 'too many topics (at most 16)\n')],
      [['-X', 'POST', '--data-binary', 'x', `${base}/sse?topic=a`],
        textAnswer('405 Method Not Allowed', 'an event stream is read with GET\n', 'Allow: GET\r\n')],
      [['-X', 'POST', '--data-binary', 'x', `${base}/publish`],
        textAnswer('400 Bad Request', 'missing topic\n')],
      [['-X', 'POST', '--data-binary', 'x', `${base}/publish?topic=`],
        textAnswer('400 Bad Request', 'topic is empty\n')],
      [['-X', 'POST', '--data-binary', 'x', `${base}/publish?topic=%FF`],
        textAnswer('400 Bad Request', 'topic is not UTF-8\n')],
      [['-X', 'POST', '--data-binary', `@${notUtf8}`, `${base}/publish?topic=a`],
        textAnswer('400 Bad Request', 'body is not UTF-8\n')],
      [['-X', 'POST', '--data-binary', deep, `${base}/publish?topic=a`],
        textAnswer('400 Bad Request', 'message is nested deeper than 64 levels\n')],
      [[`${base}/publish?topic=a`],
        textAnswer('405 Method Not Allowed', 'publish with POST\n', 'Allow: POST\r\n')],
    ];
    for (const [args, expected] of cases) {
      const r = await curl(['-i', ...args]).done;
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, expected, args.join(' '));
    }
    // One level less is accepted, and nothing refused above was published: a stream that
    // resumes from the start of topic a's history gets the accepted message alone (a stream
    // follows the topic first, so that its messages are kept).
    const follow = await curl(['-N', '-m', '0.5', `${base}/sse?topic=a`]).done;
    assert.equal(follow.code, 28, follow.stderr);
    const nested = '['.repeat(63) + ']'.repeat(63);
    const ok = await curl(['-X', 'POST', '--data-binary', nested, '-w', '%{http_code}',
      `${base}/publish?topic=a`]).done;
    assert.equal(ok.stdout, '204');
    const replay = await curl(['-N', '-m', '1', `${base}/sse?topic=a&lastEventId=0`]).done;
    assert.equal(replay.code, 28, replay.stderr);
    assert.match(replay.stdout,
      /^retry: 3000\n\nid: \d+\ndata: \{"type":"message","topic":"a","data":\[{63}\]{63}\}\n\n$/);
  });
});
