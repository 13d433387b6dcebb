// The chat rooms of `duplex serve --threads 2` (docs/chat-protocol.md) with Node `ws` clients:
// welcome, history, join and leave notices, messages, refused upgrades (400, 409), refused
// messages, and many members joining and leaving at once across threads.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, closed, withTimeout, WebSocket } from '../node/helpers.mjs';
import { chatUrl, join, stopServer } from './support.mjs';

/** The HTTP answer to an upgrade the server refuses: status and body. */
function refusal(url) {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => { ws.terminate(); reject(new Error(`upgrade accepted: ${url}`)); });
    ws.on('error', reject);
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { req.destroy(); resolve({ status: res.statusCode, body }); });
    });
  }), undefined, `refusal of ${url}`);
}

const welcomeOf = (seq, room, nick, members, history) =>
  `{"type":"welcome","seq":${seq},"room":${JSON.stringify(room)},"nick":${JSON.stringify(nick)},` +
  `"members":${JSON.stringify(members)},"history":[${history.join(',')}]}`;
const messageOf = (seq, nick, text) => JSON.stringify({ type: 'message', seq, nick, text });
const say = (text) => JSON.stringify({ type: 'say', text });

describe('chat rooms on 2 threads', () => {
  let server;
  before(async () => { server = await startServer(['--threads', '2']); });
  after(() => stopServer(server));

  test('welcome, messages, join and leave notices, in exact bytes', async () => {
    const room = 'salon ✓ <b>';
    const ann = await join(server, room, 'ann');
    const s0 = ann.welcome.seq;
    assert.equal(ann.welcomeText, welcomeOf(s0, room, 'ann', ['ann'], []));

    ann.ws.send(say('hello, "world" <i>✓</i>\nline two'));
    const hello = await ann.nextText();
    assert.equal(hello, messageOf(s0 + 1, 'ann', 'hello, "world" <i>✓</i>\nline two'));

    const bob = await join(server, room, 'bob');
    assert.equal(bob.welcomeText, welcomeOf(s0 + 2, room, 'bob', ['ann', 'bob'], [hello]));
    assert.equal(await ann.nextText(),
      JSON.stringify({ type: 'join', seq: s0 + 2, nick: 'bob', members: ['ann', 'bob'] }));

    bob.ws.send(say('hi ann'));
    assert.equal(await bob.nextText(), messageOf(s0 + 3, 'bob', 'hi ann'));
    assert.equal(await ann.nextText(), messageOf(s0 + 3, 'bob', 'hi ann'));

    await bob.leave();
    assert.equal(await ann.nextText(),
      JSON.stringify({ type: 'leave', seq: s0 + 4, nick: 'bob', members: ['ann'] }));
    await ann.leave();
  });

  test('a newcomer gets the last 50 messages, oldest first', async () => {
    const ann = await join(server, 'history', 'ann');
    const sent = [];
    for (let i = 0; i < 60; i++) {
      ann.ws.send(say(`message ${i}`));
      sent.push(await ann.nextText());
    }
    assert.equal(sent[59], messageOf(ann.welcome.seq + 60, 'ann', 'message 59'));
    const cid = await join(server, 'history', 'cid');
    assert.equal(cid.welcomeText,
      welcomeOf(ann.welcome.seq + 61, 'history', 'cid', ['ann', 'cid'], sent.slice(10)));
    await cid.leave();
    await ann.leave();

    // The room emptied: its history went with it.
    const dan = await join(server, 'history', 'dan');
    assert.equal(dan.welcomeText, welcomeOf(dan.welcome.seq, 'history', 'dan', ['dan'], []));
    await dan.leave();
  });

  test('a nick taken in the room is refused with 409 until its holder leaves', async () => {
    const ann = await join(server, 'r409', 'ann');
    assert.deepEqual(await refusal(chatUrl(server, 'r409', 'ann')),
      { status: 409, body: '409 Conflict: nick is already taken in this room\n' });
    // Another room, or another nick, is fine.
    const annElsewhere = await join(server, 'r409 bis', 'ann');
    const ann2 = await join(server, 'r409', 'ann2');
    assert.deepEqual(ann2.welcome.members, ['ann', 'ann2']);
    // The refusal disturbed nobody: ann's next event is ann2's join.
    assert.equal((await ann.next()).nick, 'ann2');
    await ann.leave();
    const again = await join(server, 'r409', 'ann');
    assert.deepEqual(again.welcome.members, ['ann', 'ann2']);
    await Promise.all([again.leave(), ann2.leave(), annElsewhere.leave()]);
  });

  test('bad nicks and rooms are refused with 400 and the reason', async () => {
    const base = `${server.url}chat/ws`;
    const cases = [
      ['', 'missing room'],
      ['?nick=ann', 'missing room'],
      ['?room=&nick=ann', 'room is empty'],
      [`?room=${'r'.repeat(65)}&nick=ann`, 'room is longer than 64 bytes'],
      ['?room=%FF&nick=ann', 'room is not valid UTF-8'],
      ['?room=a%0Ab&nick=ann', 'room contains control characters'],
      ['?room=+lobby&nick=ann', 'room begins or ends with a space'],
      ['?room=lobby', 'missing nick'],
      ['?room=lobby&nick=', 'nick is empty'],
      ['?room=lobby&nick', 'nick is empty'],
      [`?room=lobby&nick=${'n'.repeat(33)}`, 'nick is longer than 32 bytes'],
      [`?room=lobby&nick=${encodeURIComponent('é'.repeat(16))}x`, 'nick is longer than 32 bytes'],
      ['?room=lobby&nick=%C3', 'nick is not valid UTF-8'],
      ['?room=lobby&nick=a%00', 'nick contains control characters'],
      ['?room=lobby&nick=a%7F', 'nick contains control characters'],
      ['?room=lobby&nick=ann%20', 'nick begins or ends with a space'],
      ['?room=&nick=', 'room is empty'],
    ];
    for (const [query, reason] of cases) {
      assert.deepEqual(await refusal(base + query),
        { status: 400, body: `400 Bad Request: ${reason}\n` }, query);
    }
    // The longest names pass, counted in bytes.
    const longest = await join(server, 'r'.repeat(64), 'é'.repeat(16));
    assert.deepEqual(longest.welcome.members, ['é'.repeat(16)]);
    await longest.leave();
  });

  test('refused messages are answered with an error and disturb nobody', async () => {
    const ann = await join(server, 'errors', 'ann');
    const bob = await join(server, 'errors', 'bob');
    assert.equal((await ann.next()).type, 'join');
    const error = (reason) => `{"type":"error","reason":"${reason}"}`;
    const cases = [
      ['hello', error('message is not valid JSON')],
      ['{"type":"say","text":"x"', error('message is not valid JSON')],
      ['["say"]', error('message is not a JSON object')],
      ['{"text":"x"}', error('unknown type')],
      ['{"type":"shout","text":"x"}', error('unknown type')],
      ['{"type":"say"}', error('text is not a string')],
      ['{"type":"say","text":{"a":[[[["x"]]]]}}', error('text is not a string')],
      ['{"type":"say","text":""}', error('text is empty')],
      [say('x'.repeat(1001)), error('text is longer than 1000 bytes')],
      [say('é'.repeat(500) + 'x'), error('text is longer than 1000 bytes')],
      [`{"type":"say","text":"x","deep":${'['.repeat(20000)}${']'.repeat(20000)}}`, null],
    ];
    for (const [sent, answer] of cases) {
      ann.ws.send(sent);
      if (answer !== null) {
        assert.equal(await ann.nextText(), answer, sent.slice(0, 60));
      } else {
        const event = await ann.next();
        assert.deepEqual([event.type, event.nick, event.text], ['message', 'ann', 'x']);
        assert.equal((await bob.next()).seq, event.seq);
      }
    }
    ann.ws.send(Buffer.from(say('bin')), { binary: true });
    assert.equal(await ann.nextText(), error('binary messages are not accepted'));

    // 1000 bytes exactly is fine; bob saw only the accepted messages.
    const longest = 'é'.repeat(500);
    ann.ws.send(say(longest));
    const event = await ann.next();
    assert.equal(JSON.stringify(event), messageOf(event.seq, 'ann', longest));
    assert.equal(await bob.nextText(), messageOf(event.seq, 'ann', longest));
    await Promise.all([ann.leave(), bob.leave()]);
  });

  test('a message over 64 KiB closes that connection with 1009, the room goes on', async () => {
    const ann = await join(server, 'big', 'ann');
    const bob = await join(server, 'big', 'bob');
    assert.equal((await ann.next()).type, 'join');
    const done = closed(bob.ws);
    bob.ws.send(say('x'.repeat(64 * 1024)));
    assert.equal((await done).code, 1009);
    const leave = await ann.next();
    assert.deepEqual([leave.type, leave.nick, leave.members], ['leave', 'bob', ['ann']]);
    ann.ws.send(say('still here'));
    assert.equal((await ann.next()).text, 'still here');
    await ann.leave();
  });

  test('24 members joining, talking and leaving at once all see the same room',
    { timeout: 60_000 }, async () => {
      const N = 24;
      const nicks = Array.from({ length: N }, (_, i) => `m${String(i).padStart(2, '0')}`);
      const members = await withTimeout(
        Promise.all(nicks.map((nick) => join(server, 'crowd', nick))), 30_000, 'joins');
      // Each sees the joins numbered after its welcome, and its member list ends complete:
      // the list of the highest seq it holds.
      await Promise.all(members.map(async (m) => {
        const later = members.filter((o) => o.welcome.seq > m.welcome.seq).map((o) => o.nick);
        let newest = m.welcome;
        const joined = [];
        while (joined.length < later.length) {
          const event = await m.next();
          assert.equal(event.type, 'join');
          joined.push(event.nick);
          if (event.seq > newest.seq) newest = event;  // threads may deliver out of seq order
        }
        assert.deepEqual(joined.sort(), later.sort());
        assert.deepEqual(newest.members, nicks);
      }));

      for (const m of members) m.ws.send(say(`from ${m.nick}`));
      await Promise.all(members.map(async (m) => {
        const heard = [];
        while (heard.length < N) {
          const event = await m.next();
          assert.equal(event.type, 'message');
          assert.equal(event.text, `from ${event.nick}`);
          heard.push(event.nick);
        }
        assert.deepEqual(heard.sort(), nicks);
      }));

      const leaving = members.filter((_, i) => i % 2 === 1);
      const staying = members.filter((_, i) => i % 2 === 0);
      await Promise.all(leaving.map((m) => m.leave()));
      await Promise.all(staying.map(async (m) => {
        let newest = { seq: 0 };
        const left = [];
        while (left.length < leaving.length) {
          const event = await m.next();
          assert.equal(event.type, 'leave');
          left.push(event.nick);
          if (event.seq > newest.seq) newest = event;
        }
        assert.deepEqual(left.sort(), leaving.map((l) => l.nick));
        assert.deepEqual(newest.members, staying.map((s) => s.nick));
      }));
      await Promise.all(staying.map((m) => m.leave()));
    });
});
