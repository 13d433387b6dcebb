// Reference peer: the /pubsub protocol (docs/pubsub-protocol.md) on Node `ws`, written the way
// a Node application would: a Map from topic to a Set of sockets, and the classic broadcast
// loop `for (const c of set) c.send(str)` with the message string built once. Any path.
//   node bench/peers/ws_pubsub.mjs PORT
// The error reasons are the documented ones. As JSON.parse and JSON.stringify go, numbers in data
// come back in JavaScript's form (1.0 as 1), and a message nested deeper than 64 levels is found
// only once it parsed (invalid JSON deeper than that is reported as invalid).
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node ws_pubsub.mjs PORT');
  process.exit(2);
}

const kMaxTopicBytes = 256;
const kMaxSubscriptions = 1000;
const kMaxBackpressure = 16 * 1024 * 1024;  // as duplex serve's default max_backpressure
const kMaxDepth = 64;

const topics = new Map();  // topic -> Set of sockets
const subscriptions = new Map();  // socket -> Set of its topics

function error(ws, reason) {
  ws.send(JSON.stringify({ type: 'error', reason }));
}

// Why a topic is not one, or nothing.
function topicFault(msg) {
  if (!('topic' in msg)) return 'missing topic';
  if (typeof msg.topic !== 'string') return 'topic is not a string';
  if (msg.topic.length === 0) return 'topic is empty';
  if (Buffer.byteLength(msg.topic) > kMaxTopicBytes) return 'topic is longer than 256 bytes';
  return null;
}

// Arrays and objects one inside the other, the message object being level 1.
function depth(value) {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === 'object') deepest = Math.max(deepest, depth(v));
  }
  return 1 + deepest;
}

function subscribe(ws, topic) {
  const mine = subscriptions.get(ws);
  if (!mine.has(topic)) {
    if (mine.size >= kMaxSubscriptions) {
      return error(ws, 'too many topics (at most 1000 per connection)');
    }
    mine.add(topic);
    let set = topics.get(topic);
    if (!set) topics.set(topic, (set = new Set()));
    set.add(ws);
  }
  ws.send(JSON.stringify({ type: 'subscribed', topic }));
}

function unsubscribe(ws, topic) {
  if (subscriptions.get(ws).delete(topic)) {
    const set = topics.get(topic);
    set.delete(ws);
    if (set.size === 0) topics.delete(topic);
  }
  ws.send(JSON.stringify({ type: 'unsubscribed', topic }));
}

function publish(ws, topic, data, excludeSelf) {
  const set = topics.get(topic);
  if (!set) return;
  const str = JSON.stringify({ type: 'message', topic, data });
  for (const c of set) {
    if (excludeSelf && c === ws) continue;
    c.send(str);
    if (c.bufferedAmount > kMaxBackpressure) c.close(1008, 'send queue over max_backpressure');
  }
}

function onMessage(ws, raw, isBinary) {
  if (isBinary) return error(ws, 'binary messages are not accepted');
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    return error(ws, 'message is not valid JSON');
  }
  if (depth(msg) > kMaxDepth) return error(ws, 'message is nested deeper than 64 levels');
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return error(ws, 'message is not a JSON object');
  }
  if (!('type' in msg)) return error(ws, 'missing type');
  if (!['subscribe', 'unsubscribe', 'publish'].includes(msg.type)) {
    return error(ws, 'unknown type');
  }
  const fault = topicFault(msg);
  if (fault) return error(ws, fault);
  if (msg.type === 'subscribe') return subscribe(ws, msg.topic);
  if (msg.type === 'unsubscribe') return unsubscribe(ws, msg.topic);
  if (!('data' in msg)) return error(ws, 'publish without data');
  if ('exclude_self' in msg && typeof msg.exclude_self !== 'boolean') {
    return error(ws, 'exclude_self is not a boolean');
  }
  publish(ws, msg.topic, msg.data, msg.exclude_self === true);
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});
server.on('connection', (ws) => {
  subscriptions.set(ws, new Set());
  ws.on('message', (raw, isBinary) => onMessage(ws, raw, isBinary));
  ws.on('close', () => {
    for (const topic of subscriptions.get(ws)) {
      const set = topics.get(topic);
      set.delete(ws);
      if (set.size === 0) topics.delete(topic);
    }
    subscriptions.delete(ws);
  });
  ws.on('error', () => {});  // a peer's protocol error closes the socket; nothing to report
});
server.on('listening', () => process.stdout.write(`ready ${port}\n`));
server.on('error', (err) => {
  console.error(`ws_pubsub: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
