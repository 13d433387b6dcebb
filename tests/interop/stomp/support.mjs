// Helpers for the STOMP suites: @stomp/stompjs 7 clients (over Node's `ws`) and a raw STOMP
// client over a plain WebSocket for frames stompjs never sends.
import { Client } from '@stomp/stompjs';
import { WebSocket, withTimeout } from '../node/helpers.mjs';

export const PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/** A connected stompjs client; `options` go to the Client (heartbeats, connectHeaders...). */
export async function stompClient(url, options = {}) {
  const errors = [];
  const client = new Client({
    webSocketFactory: () => new WebSocket(url, PROTOCOLS),
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    ...options,
  });
  client.stompErrors = errors;
  const connected = new Promise((resolve, reject) => {
    client.onConnect = (frame) => resolve(frame);
    client.onStompError = (frame) => { errors.push(frame); reject(new Error(`ERROR ${frame.headers.message}`)); };
    client.onWebSocketError = (e) => reject(e);
  });
  client.activate();
  client.connectedFrame = await withTimeout(connected, 10_000, 'stompjs connect');
  client.onStompError = (frame) => errors.push(frame);
  return client;
}

/** Collects the messages of a subscription; `next(n)` waits until n have come. */
export function collect(client, destination, headers = {}) {
  const messages = [];
  const waiters = [];
  const subscription = client.subscribe(destination, (message) => {
    messages.push(message);
    for (const w of [...waiters]) {
      if (messages.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages.slice(0, w.n));
      }
    }
  }, headers);
  return {
    subscription,
    messages,
    next(n, label = destination) {
      if (messages.length >= n) return Promise.resolve(messages.slice(0, n));
      return withTimeout(new Promise((resolve) => waiters.push({ n, resolve })), 10_000,
        `${n} messages on ${label} (have ${messages.length})`);
    },
  };
}

/** A raw WebSocket speaking STOMP frames by hand: send(text), frames() as they come, closed. */
export async function rawStomp(url, protocols = PROTOCOLS) {
  const ws = new WebSocket(url, protocols);
  const received = [];
  const waiters = [];
  let closed;
  const closedPromise = new Promise((resolve) => {
    ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; resolve(closed); });
  });
  ws.on('message', (data, isBinary) => {
    received.push(isBinary ? Buffer.from(data) : data.toString());
    for (const w of [...waiters]) {
      if (received.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(received.slice(0, w.n));
      }
    }
  });
  await withTimeout(new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); }),
    10_000, 'raw STOMP open');
  return {
    ws,
    received,
    send: (text) => ws.send(text),
    next(n) {
      if (received.length >= n) return Promise.resolve(received.slice(0, n));
      return withTimeout(new Promise((resolve) => waiters.push({ n, resolve })), 10_000,
        `${n} raw frames (have ${received.length}: ${JSON.stringify(received)})`);
    },
    closed: () => withTimeout(closedPromise, 10_000, 'raw STOMP close'),
    get closeInfo() { return closed; },
  };
}

export async function deactivate(...clients) {
  await Promise.all(clients.map((c) => c.deactivate()));
}
