// duplex serve's STOMP broker over SockJS (/stomp-sockjs, stompjs with a sockjs-client factory,
// on the websocket and the xhr-polling transports) beside the WebSocket broker (/stomp): one
// broker, one topic space; and --stomp-login: the right credentials are let in and bound as the
// user (/user/ destinations reach that user's subscriptions), a wrong passcode gets ERROR
// "Authentication failed", then the close.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer } from '../node/helpers.mjs';
import { stopServer } from '../pubsub/support.mjs';
import { stompClient, collect, rawStomp, deactivate } from './support.mjs';

const require = createRequire(import.meta.url);
const SockJS = require('sockjs-client');

async function settled(client) {
  const receipt = `settle-${Math.random()}`;
  const done = new Promise((resolve) => client.watchForReceipt(receipt, resolve));
  client.publish({ destination: '/topic/settle', body: '', headers: { receipt } });
  await done;
}

describe('STOMP over SockJS and with logins', { timeout: 120_000 }, () => {
  let server;
  before(async () => {
    server = await startServer(['--stomp-login', 'alice:secret', '--stomp-login', 'bob:pw:with:colons']);
  });
  after(() => stopServer(server));
  const login = (user, pass) => ({ connectHeaders: { login: user, passcode: pass } });

  for (const transport of ['websocket', 'xhr-polling']) {
    test(`over SockJS (${transport}): topics and queues meet the WebSocket broker's clients`,
      async () => {
        const overSockjs = await stompClient('', {
          webSocketFactory: () => new SockJS(`http://127.0.0.1:${server.port}/stomp-sockjs`, null,
            { transports: [transport] }),
          ...login('alice', 'secret'),
        });
        const overWs = await stompClient(`ws://127.0.0.1:${server.port}/stomp`, login('bob', 'pw:with:colons'));
        try {
          assert.match(overSockjs.connectedFrame.headers.session, /^session-\d+$/);
          const toSockjs = collect(overSockjs, '/topic/carriers');
          const toWs = collect(overWs, '/topic/carriers');
          const work = collect(overSockjs, '/queue/carriers', { ack: 'client-individual' });
          await settled(overSockjs);
          await settled(overWs);
          overWs.publish({ destination: '/topic/carriers', body: 'from ws ✓' });
          overSockjs.publish({ destination: '/topic/carriers', body: 'from sockjs "quoted"\n' });
          overWs.publish({ destination: '/queue/carriers', body: 'a job' });
          for (const box of [toSockjs, toWs]) {
            const bodies = (await box.next(2)).map((m) => m.body).sort();
            assert.deepEqual(bodies, ['from sockjs "quoted"\n', 'from ws ✓']);
          }
          const [job] = await work.next(1);
          assert.equal(job.body, 'a job');
          assert.equal(job.headers.destination, '/queue/carriers');
          job.ack();
        } finally {
          await deactivate(overSockjs, overWs);
        }
      });
  }

  test('/user/ destinations: a SEND to /user/alice/queue/notes reaches alice\'s subscribers of ' +
    '/user/queue/notes only', async () => {
    const alice = await stompClient(`ws://127.0.0.1:${server.port}/stomp`, login('alice', 'secret'));
    const bob = await stompClient(`ws://127.0.0.1:${server.port}/stomp`, login('bob', 'pw:with:colons'));
    try {
      const toAlice = collect(alice, '/user/queue/notes');
      const toBob = collect(bob, '/user/queue/notes');
      await settled(alice);
      await settled(bob);
      bob.publish({ destination: '/user/alice/queue/notes', body: 'for alice',
        headers: { 'x-from': 'bob' } });
      const [note] = await toAlice.next(1);
      assert.equal(note.body, 'for alice');
      assert.equal(note.headers.destination, '/user/queue/notes');
      assert.equal(note.headers['x-from'], 'bob');
      await settled(bob);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(toBob.messages.length, 0);
    } finally {
      await deactivate(alice, bob);
    }
  });

  test('a wrong passcode: ERROR "Authentication failed", then the close', async () => {
    const raw = await rawStomp(`ws://127.0.0.1:${server.port}/stomp`);
    raw.send('CONNECT\naccept-version:1.2\nlogin:alice\npasscode:wrong\n\n\0');
    const [error] = await raw.next(1);
    assert.equal(error, 'ERROR\nmessage:Authentication failed\ncontent-type:text/plain\n' +
      "content-length:45\n\nThe CONNECT frame's credentials were refused.\0");
    assert.deepEqual(await raw.closed(), { code: 1008, reason: '' });
  });

  test('no credentials at all: refused the same way', async () => {
    const raw = await rawStomp(`ws://127.0.0.1:${server.port}/stomp`);
    raw.send('STOMP\naccept-version:1.2\n\n\0');
    const [error] = await raw.next(1);
    assert.equal(error, 'ERROR\nmessage:Authentication failed\ncontent-type:text/plain\n' +
      "content-length:43\n\nThe STOMP frame's credentials were refused.\0");
    assert.deepEqual(await raw.closed(), { code: 1008, reason: '' });
  });
});
