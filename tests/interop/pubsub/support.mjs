// Shared by the /pubsub and chat suites: a clean stop of the server, and a chat member
// (docs/chat-protocol.md) that joins /chat/ws, reads the welcome, and hands out the events the
// welcome does not hold already (seq above its own), as the page does.
import assert from 'node:assert/strict';
import { inbox, closed, withTimeout, STEP_TIMEOUT_MS, WebSocket } from '../node/helpers.mjs';

/** Stops the server and checks it exited cleanly (under ASan: without leaks or errors). */
export async function stopServer(server) {
  if (!server) return;
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.output());
}

export function chatUrl(server, room, nick) {
  return `${server.url}chat/ws?room=${encodeURIComponent(room)}&nick=${encodeURIComponent(nick)}`;
}

export async function nextText(box) {
  const msg = await box.next();
  assert.equal(msg.isBinary, false, 'a text message');
  return msg.data.toString('utf8');
}

export async function join(server, room, nick) {
  const ws = new WebSocket(chatUrl(server, room, nick), { perMessageDeflate: false });
  // The welcome comes right behind the 101: the inbox must listen before 'open'.
  const box = inbox(ws);
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), STEP_TIMEOUT_MS, `join ${room} as ${nick}`);
  const welcomeText = await nextText(box);
  const welcome = JSON.parse(welcomeText);
  assert.equal(welcome.type, 'welcome');
  const member = {
    ws,
    box,
    nick,
    welcome,
    welcomeText,
    async nextText() {
      for (;;) {
        const text = await nextText(box);
        const { seq } = JSON.parse(text);
        if (seq === undefined || seq > welcome.seq) return text;
      }
    },
    async next() { return JSON.parse(await member.nextText()); },
    async leave() {
      const done = closed(ws);
      ws.close(1000);
      assert.equal((await done).code, 1000);
    },
  };
  return member;
}
