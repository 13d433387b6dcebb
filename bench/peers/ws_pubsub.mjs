// Reference peer: the /pubsub protocol (docs/pubsub-protocol.md) on Node `ws`, written the way
// a Node application would: a Map from topic to a Set of sockets, and the classic broadcast
// loop `for (const c of set) c.send(str)` with the message string built once. Any path.
//   node bench/peers/ws_pubsub.mjs PORT
// The error reasons are the documented ones. As JSON.parse and JSON.stringify go, numbers in data
// come back in JavaScript's form (1.0 as 1), and a message nested deeper than 64 levels is found
// only once it parsed (invalid JSON deeper than that is reported as invalid).
//
// The same port serves Server-Sent Events on the same topics with Node's `http`, as duplex serve
// does (src/duplex/server/sse_endpoint.hpp): `GET /sse?topic=a[&topic=b]` answers a chunked
// text/event-stream that opens with `retry: 3000` and carries every message published to those
// topics as `id: <n>\ndata: {"type":"message","topic":...,"data":...}\n\n`, where n counts the
// topic's publishes (for several topics the id is "a=1&b=2", each topic's count), one
// `res.write` per stream and message, the event string built once per publish for one-topic
// streams; a heartbeat comment every 15 s; `POST /publish?topic=t` publishes its body (JSON, or
// other text as a string) and answers 204. The bad requests duplex serve refuses are refused
// with its reasons.
//
// And long polling as duplex serve does it (src/duplex/server/long_poll_endpoint.hpp): `GET
// /poll?topic=a[&topic=b][&cursor=C]` answers `{"cursor":"...","messages":[...],"lost":[...]}`
// with every message published to those topics after the cursor (the deliveries, as /pubsub
// subscribers get them), at once when there are any, else held until the next publish or 25 s
// (then with no messages). The cursor counts each topic's publishes, as the SSE ids do ("a=3&b=1"
// for several topics); a poll without one waits for the next message. Each topic keeps its newest
// 100 messages for at most 300 s (duplex serve's --history and --history-age defaults), so a
// client that polls again with the answer's cursor misses nothing; `lost` names the topics whose
// history no longer reaches back to the cursor (or whose cursor is ahead of the count). Held polls
// wait in an array per topic; a publish takes the whole array and answers each with a body built
// once (for one-topic polls, which all wait at the same place). Not here: resuming SSE with
// Last-Event-ID, CORS.
import http from 'node:http';
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
const kMaxStreamTopics = 16;
const kHeartbeatMs = 15_000;
const kMaxBody = 64 * 1024 * 1024;
const kHistory = 100;  // messages kept per topic
const kHistoryAgeMs = 300_000;
const kPollTimeoutMs = 25_000;

const topics = new Map();  // topic -> Set of sockets
const subscriptions = new Map();  // socket -> Set of its topics
const streams = new Map();  // topic -> Set of event streams
const published = new Map();  // topic -> messages published to it so far (the events' ids)
const history = new Map();  // topic -> its newest messages, oldest first: { seq, order, at, str }
const waiting = new Map();  // topic -> array of the polls held for its next message
let publishes = 0;  // across topics: the order a poll of several topics answers in

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
  const streamSet = streams.get(topic);
  const seq = (published.get(topic) ?? 0) + 1;
  published.set(topic, seq);
  const str = JSON.stringify({ type: 'message', topic, data });
  keep(topic, seq, str);
  const polls = waiting.get(topic);
  if (polls) {
    // Every one-topic poll held here waits at seq - 1: they all get the same answer.
    waiting.delete(topic);
    const body = `{"cursor":"${seq}","messages":[${str}],"lost":[]}`;
    for (const poll of polls) {
      if (poll.topics.length === 1) {
        answer(poll, body);
      } else {
        poll.places.set(topic, seq);
        answer(poll, pollBody(poll, [str], []));
      }
    }
  }
  if (set) {
    for (const c of set) {
      if (excludeSelf && c === ws) continue;
      c.send(str);
      if (c.bufferedAmount > kMaxBackpressure) c.close(1008, 'send queue over max_backpressure');
    }
  }
  if (streamSet) {
    const event = `id: ${seq}\ndata: ${str}\n\n`;
    for (const s of streamSet) {
      s.res.write(s.topics.length === 1 ? event : `id: ${cursor(s, topic, seq)}\ndata: ${str}\n\n`);
      if (s.res.writableLength > kMaxBackpressure) s.res.destroy();
    }
  }
}

// The topic's newest messages, within the history's count and age.
function keep(topic, seq, str) {
  let kept = history.get(topic);
  if (!kept) history.set(topic, (kept = []));
  const now = Date.now();
  kept.push({ seq, order: ++publishes, at: now, str });
  if (kept.length > kHistory) kept.shift();
  while (now - kept[0].at > kHistoryAgeMs) kept.shift();
}

// A stream of several topics: every topic's place, form-encoded ("a=3&b=1").
function cursor(stream, topic, seq) {
  stream.last.set(topic, seq);
  return new URLSearchParams(stream.topics.map((t) => [t, String(stream.last.get(t))])).toString();
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

function refuse(res, status, reason, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${reason}\n`);
}

// The topics a GET of /sse or /poll names, without repeats; or null once it was refused.
function requestedTopics(req, res, url, wrongMethod) {
  if (req.method !== 'GET') {
    refuse(res, 405, wrongMethod, { Allow: 'GET' });
    return null;
  }
  const names = url.searchParams.getAll('topic');
  let reason = null;
  if (names.length === 0) reason = 'name at least one topic: ?topic=news';
  if (names.length > kMaxStreamTopics) reason = `too many topics (at most ${kMaxStreamTopics})`;
  for (const topic of names) {
    if (reason) break;
    if (topic.length === 0) reason = 'topic is empty';
    if (Buffer.byteLength(topic) > kMaxTopicBytes) reason = 'topic is longer than 256 bytes';
  }
  if (reason) {
    refuse(res, 400, reason);
    return null;
  }
  return [...new Set(names)];
}

function openStream(req, res, url) {
  const names = requestedTopics(req, res, url, 'an event stream is read with GET');
  if (!names) return;
  const stream = { res, topics: names, last: new Map() };
  for (const topic of stream.topics) {
    stream.last.set(topic, published.get(topic) ?? 0);
    let set = streams.get(topic);
    if (!set) streams.set(topic, (set = new Set()));
    set.add(stream);
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 3000\n\n');
  res.on('close', () => {
    for (const topic of stream.topics) {
      const set = streams.get(topic);
      set.delete(stream);
      if (set.size === 0) streams.delete(topic);
    }
  });
}

// Each topic's place in a cursor: a Map of those it names. One that cannot be read (not a
// decimal for one topic; for several, a pair without '=' or with a value that is not a decimal)
// reads from the start.
function readCursor(value, names) {
  const places = new Map();
  if (!value) return places;
  const decimal = /^[0-9]+$/;
  let pairs = [[names[0], value]];
  if (names.length > 1) {
    pairs = value.split('&').some((p) => !p.includes('=')) ? null : [...new URLSearchParams(value)];
  }
  if (!pairs || pairs.some(([, v]) => !decimal.test(v))) {
    for (const topic of names) places.set(topic, 0);
    return places;
  }
  for (const [topic, v] of pairs) {
    if (names.includes(topic) && !places.has(topic)) places.set(topic, Number(v));
  }
  return places;
}

function pollBody(poll, messages, lost) {
  const cursor = poll.topics.length === 1 ? String(poll.places.get(poll.topics[0]))
    : new URLSearchParams(poll.topics.map((t) => [t, String(poll.places.get(t))])).toString();
  return `{"cursor":"${cursor}","messages":[${messages.join(',')}],"lost":${JSON.stringify(lost)}}`;
}

// Answers a poll, held or not, and forgets it.
function answer(poll, body) {
  if (poll.done) return;
  poll.done = true;
  if (poll.timer) {
    clearTimeout(poll.timer);
    // A poll answered by one topic's publish, or not by a publish, leaves the others' arrays.
    for (const topic of poll.topics) {
      const polls = waiting.get(topic);
      const at = polls ? polls.indexOf(poll) : -1;
      if (at < 0) continue;
      polls.splice(at, 1);
      if (polls.length === 0) waiting.delete(topic);
    }
  }
  if (body === null) return;  // the client left
  poll.res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
  });
  poll.res.end(body);
}

function openPoll(req, res, url) {
  const names = requestedTopics(req, res, url, 'poll with GET');
  if (!names) return;
  const poll = { res, topics: names, places: readCursor(url.searchParams.get('cursor'), names),
    timer: null, done: false };
  const found = [];
  const lost = [];
  for (const topic of names) {
    const count = published.get(topic) ?? 0;
    const from = poll.places.get(topic);
    poll.places.set(topic, count);
    if (from === undefined) continue;  // no cursor: the next message
    if (from > count) {  // ahead of the count: another server's cursor
      lost.push(topic);
      continue;
    }
    const kept = history.get(topic) ?? [];
    const oldest = kept.length > 0 ? kept[0].seq : count + 1;
    if (from + 1 < oldest) lost.push(topic);
    for (let i = Math.max(0, from + 1 - oldest); i < kept.length; ++i) found.push(kept[i]);
  }
  if (found.length > 0 || lost.length > 0) {
    found.sort((a, b) => a.order - b.order);
    return answer(poll, pollBody(poll, found.map((m) => m.str), lost));
  }
  for (const topic of names) {
    let polls = waiting.get(topic);
    if (!polls) waiting.set(topic, (polls = []));
    polls.push(poll);
  }
  poll.timer = setTimeout(() => answer(poll, pollBody(poll, [], [])), kPollTimeoutMs);
  res.on('close', () => answer(poll, null));
}

function publishOverHttp(req, res, url) {
  if (req.method !== 'POST') return refuse(res, 405, 'publish with POST', { Allow: 'POST' });
  const topic = url.searchParams.get('topic');
  if (topic === null) return refuse(res, 400, 'missing topic');
  const fault = topicFault({ topic });
  if (fault) return refuse(res, 400, fault);
  const parts = [];
  let size = 0;
  req.on('data', (part) => {
    size += part.length;
    if (size > kMaxBody) return req.destroy();
    parts.push(part);
  });
  req.on('end', () => {
    // A JSON body is the data; other text is a string, as duplex serve takes it.
    const text = Buffer.concat(parts).toString();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {}
    if (depth(data) >= kMaxDepth) return refuse(res, 400, 'message is nested deeper than 64 levels');
    publish(null, topic, data, false);
    res.writeHead(204);
    res.end();
  });
}

const httpServer = http.createServer({ noDelay: true, requestTimeout: 0 }, (req, res) => {
  const url = new URL(req.url, 'http://peer');
  if (url.pathname === '/sse') return openStream(req, res, url);
  if (url.pathname === '/poll') return openPoll(req, res, url);
  if (url.pathname === '/publish') return publishOverHttp(req, res, url);
  refuse(res, 404, 'not found');
});
setInterval(() => {
  for (const set of streams.values()) {
    for (const s of set) s.res.write(': heartbeat\n\n');
  }
}, kHeartbeatMs).unref();

const server = new WebSocketServer({
  server: httpServer,
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
httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stdout.write(`ready ${port}\n`);
});
httpServer.on('error', (err) => {
  console.error(`ws_pubsub: ${err.message}`);
  process.exit(1);
});
// Node itself raises the open-file limit to the hard limit at start.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
