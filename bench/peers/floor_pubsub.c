/* Reference peer: the kernel floor of publish/subscribe (the /pubsub protocol of
 * docs/pubsub-protocol.md, as far as a floor needs it). A raw epoll server that parses no JSON:
 * it unmasks only the first bytes of each client frame and recognises three fixed prefixes,
 *   {"type":"subscribe","topic":"NAME"}      answered {"type":"subscribed","topic":"NAME"}
 *   {"type":"unsubscribe","topic":"NAME"}    answered {"type":"unsubscribed","topic":"NAME"}
 *   {"type":"publish","topic":"NAME","data":"...   (data a string of at least 16 bytes)
 * and answers anything else with an error. A publish of D data bytes gets every subscriber of
 * the topic one ready-made frame {"type":"message","topic":"NAME","data":"<D bytes>"}: the
 * frame is kept per topic, and only the first 16 data bytes are patched in from the publish
 * (the generator's id and timing); the rest of the data is 'x', never copied. Deliveries are
 * corked as a server's event loop would: the frames of a topic's publishes in one batch of
 * events are laid end to end once, in the topic's batch, and after the batch each subscriber
 * gets that batch in one write. What a socket does not take is kept and written on EPOLLOUT, in
 * order. So what it costs per delivery is its share of one write per subscriber and batch.
 *
 * Not handled, as a floor: JSON escapes in topic names, members in another order, data that is
 * not a string, exclude_self, fragmented client messages (each frame is taken alone). A ping is
 * answered by a pong of its size (zeros), a close by an empty close. Connections are freed
 * after each batch of events, so a subscriber that fails during a publish is not freed under it. */
#include "floor_common.h"

#define READ_BUFFER (512 * 1024)
#define HEAD_MAX 320 /* bytes of a client message looked at: its type, topic and id */
#define ID_DIGITS 16
#define MAX_TOPIC 256
#define MAX_SUBSCRIPTIONS 1000
#define BUCKETS 4096

enum phase { HANDSHAKE, OPEN, CLOSING };

struct conn;

/* A topic's subscriber, and where the topic sits in that subscriber's list. */
struct member {
  struct conn* c;
  size_t slot;
};

struct topic {
  struct topic* next; /* in its hash bucket */
  char* name;
  size_t name_len;
  struct member* subs;
  size_t n, cap;
  uint8_t* frame; /* the ready-made delivery for data_len bytes of data */
  size_t frame_len, id_at;
  uint64_t data_len;
  uint8_t* batch; /* this batch's deliveries, end to end */
  size_t batch_len, batch_cap;
  struct topic* next_pending; /* in the list of topics with a batch to send */
  int pending;
};

/* A connection's subscription, and where the connection sits in the topic's list. */
struct subscription {
  struct topic* t;
  size_t pos;
};

struct conn {
  int fd;
  enum phase phase;
  int dead; /* freed after this batch of events */
  struct conn* next_dead;
  char* hs; /* the request head while the handshake is under way */
  size_t hs_len;
  uint8_t hdr[14]; /* the current client frame header, possibly split across reads */
  uint8_t hdr_len;
  int in_payload;
  uint64_t frame_len, skip;
  uint8_t head[HEAD_MAX]; /* the first bytes of the frame's payload, unmasked */
  size_t head_len;
  char* out; /* output the socket did not take yet */
  size_t out_len, out_off, out_cap;
  struct subscription* subs;
  size_t nsubs, subs_cap;
};

static char read_buffer[READ_BUFFER];
static const uint8_t zeros[125];
static struct topic* buckets[BUCKETS];
static struct conn* dead_list;
static struct topic* pending_topics;

static void watch(struct conn* c, uint32_t events) { floor_watch(c->fd, c, events, 0); }

static void kill_conn(struct conn* c) {
  if (c->dead) return;
  c->dead = 1;
  c->next_dead = dead_list;
  dead_list = c;
}

static int keep(struct conn* c, const void* data, size_t len) {
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + len) cap *= 2;
    char* out = realloc(c->out, cap);
    if (!out) return -1;
    c->out = out;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
  return 0;
}

/* One write, or behind what is already waiting. */
static void send_bytes(struct conn* c, const void* data, size_t len) {
  if (c->dead) return;
  if (c->out_off < c->out_len) {
    if (keep(c, data, len) != 0) kill_conn(c);
    return;
  }
  ssize_t n = write(c->fd, data, len);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) return kill_conn(c);
    n = 0;
  }
  if ((size_t)n == len) return;
  c->out_len = c->out_off = 0;
  if (keep(c, (const char*)data + n, len - (size_t)n) != 0) return kill_conn(c);
  watch(c, EPOLLIN | EPOLLOUT);
}

static void on_writable(struct conn* c) {
  ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) kill_conn(c);
    return;
  }
  c->out_off += (size_t)n;
  if (c->out_off < c->out_len) return;
  c->out_off = c->out_len = 0;
  if (c->phase == CLOSING) return kill_conn(c);
  watch(c, EPOLLIN);
}

/* A small text frame built on the stack and sent. */
static void send_text(struct conn* c, const char* a, const char* name, size_t name_len,
                      const char* b) {
  uint8_t frame[10 + 64 + MAX_TOPIC];
  size_t la = strlen(a), lb = strlen(b);
  size_t h = floor_frame_header(frame, 0x81, la + name_len + lb);
  memcpy(frame + h, a, la);
  memcpy(frame + h + la, name, name_len);
  memcpy(frame + h + la + name_len, b, lb);
  send_bytes(c, frame, h + la + name_len + lb);
}

static void send_error(struct conn* c, const char* reason) {
  send_text(c, "{\"type\":\"error\",\"reason\":\"", reason, strlen(reason), "\"}");
}

static struct topic* find_topic(const char* name, size_t len, int create) {
  uint32_t hash = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; ++i) hash = (hash ^ (uint8_t)name[i]) * 16777619u;
  struct topic** bucket = &buckets[hash % BUCKETS];
  for (struct topic* t = *bucket; t; t = t->next) {
    if (t->name_len == len && memcmp(t->name, name, len) == 0) return t;
  }
  if (!create) return NULL;
  struct topic* t = calloc(1, sizeof *t);
  if (!t || !(t->name = malloc(len))) {
    free(t);
    return NULL;
  }
  memcpy(t->name, name, len);
  t->name_len = len;
  t->next = *bucket;
  *bucket = t;
  return t;
}

static void subscribe(struct conn* c, const char* name, size_t len) {
  struct topic* t = find_topic(name, len, 1);
  if (!t) return kill_conn(c);
  int known = 0;
  for (size_t i = 0; i < c->nsubs && !known; ++i) known = c->subs[i].t == t;
  if (!known) {
    if (c->nsubs == MAX_SUBSCRIPTIONS) return send_error(c, "too many subscriptions");
    if (c->nsubs == c->subs_cap) {
      size_t cap = c->subs_cap ? c->subs_cap * 2 : 4;
      struct subscription* subs = realloc(c->subs, cap * sizeof *subs);
      if (!subs) return kill_conn(c);
      c->subs = subs;
      c->subs_cap = cap;
    }
    if (t->n == t->cap) {
      size_t cap = t->cap ? t->cap * 2 : 16;
      struct member* members = realloc(t->subs, cap * sizeof *members);
      if (!members) return kill_conn(c);
      t->subs = members;
      t->cap = cap;
    }
    t->subs[t->n] = (struct member){c, c->nsubs};
    c->subs[c->nsubs++] = (struct subscription){t, t->n++};
  }
  send_text(c, "{\"type\":\"subscribed\",\"topic\":\"", name, len, "\"}");
}

/* Takes the connection's subscription `i` out of both lists (the last one moves into each
 * hole, and the entry pointing at it is told its new place). */
static void drop_subscription(struct conn* c, size_t i) {
  struct topic* t = c->subs[i].t;
  size_t pos = c->subs[i].pos;
  t->subs[pos] = t->subs[--t->n];
  if (pos < t->n) t->subs[pos].c->subs[t->subs[pos].slot].pos = pos;
  c->subs[i] = c->subs[--c->nsubs];
  if (i < c->nsubs) c->subs[i].t->subs[c->subs[i].pos].slot = i;
}

static void unsubscribe(struct conn* c, const char* name, size_t len) {
  struct topic* t = find_topic(name, len, 0);
  for (size_t i = 0; t && i < c->nsubs; ++i) {
    if (c->subs[i].t == t) {
      drop_subscription(c, i);
      break;
    }
  }
  send_text(c, "{\"type\":\"unsubscribed\",\"topic\":\"", name, len, "\"}");
}

/* The topic's ready-made delivery for `data_len` bytes of data, built when the size changes. */
static int make_delivery(struct topic* t, uint64_t data_len) {
  static const char kA[] = "{\"type\":\"message\",\"topic\":\"";
  static const char kB[] = "\",\"data\":\"";
  uint64_t payload = sizeof kA - 1 + t->name_len + sizeof kB - 1 + data_len + 2;
  uint8_t* frame = realloc(t->frame, 10 + payload);
  if (!frame) return -1;
  size_t h = floor_frame_header(frame, 0x81, payload);
  uint8_t* p = frame + h;
  memcpy(p, kA, sizeof kA - 1);
  p += sizeof kA - 1;
  memcpy(p, t->name, t->name_len);
  p += t->name_len;
  memcpy(p, kB, sizeof kB - 1);
  p += sizeof kB - 1;
  memset(p, 'x', data_len);
  memcpy(p + data_len, "\"}", 2);
  t->frame = frame;
  t->frame_len = h + payload;
  t->id_at = (size_t)(p - frame);
  t->data_len = data_len;
  return 0;
}

static void publish(struct conn* c, const char* name, size_t len, const uint8_t* id,
                    uint64_t data_len) {
  struct topic* t = find_topic(name, len, 0);
  if (!t || t->n == 0) return;
  if ((!t->frame || t->data_len != data_len) && make_delivery(t, data_len) != 0) {
    return kill_conn(c);
  }
  memcpy(t->frame + t->id_at, id, ID_DIGITS);
  if (t->batch_len + t->frame_len > t->batch_cap) {
    size_t cap = t->batch_cap ? t->batch_cap : 4096;
    while (cap < t->batch_len + t->frame_len) cap *= 2;
    uint8_t* batch = realloc(t->batch, cap);
    if (!batch) return kill_conn(c);
    t->batch = batch;
    t->batch_cap = cap;
  }
  memcpy(t->batch + t->batch_len, t->frame, t->frame_len);
  t->batch_len += t->frame_len;
  if (!t->pending) {
    t->pending = 1;
    t->next_pending = pending_topics;
    pending_topics = t;
  }
}

/* After a batch of events: each topic's deliveries to each of its subscribers in one write. */
static void send_batches(void) {
  while (pending_topics) {
    struct topic* t = pending_topics;
    pending_topics = t->next_pending;
    for (size_t i = 0; i < t->n; ++i) send_bytes(t->subs[i].c, t->batch, t->batch_len);
    t->batch_len = 0;
    t->pending = 0;
  }
}

/* The topic name after `prefix` in the head, up to its closing quote; its length, or -1. */
static long topic_after(const struct conn* c, size_t prefix) {
  const uint8_t* quote = memchr(c->head + prefix, '"', c->head_len - prefix);
  long len = quote ? (long)(quote - c->head) - (long)prefix : -1;
  return len > 0 && len <= MAX_TOPIC ? len : -1;
}

static int starts_with(const struct conn* c, const char* prefix, size_t len) {
  return c->head_len > len && memcmp(c->head, prefix, len) == 0;
}

/* A whole client data frame: what its first bytes say. */
static void on_message(struct conn* c) {
  static const char kSubscribe[] = "{\"type\":\"subscribe\",\"topic\":\"";
  static const char kUnsubscribe[] = "{\"type\":\"unsubscribe\",\"topic\":\"";
  static const char kPublish[] = "{\"type\":\"publish\",\"topic\":\"";
  static const char kData[] = "\",\"data\":\"";
  const char* head = (const char*)c->head;
  long len;
  if (starts_with(c, kSubscribe, sizeof kSubscribe - 1) &&
      (len = topic_after(c, sizeof kSubscribe - 1)) > 0) {
    return subscribe(c, head + sizeof kSubscribe - 1, (size_t)len);
  }
  if (starts_with(c, kUnsubscribe, sizeof kUnsubscribe - 1) &&
      (len = topic_after(c, sizeof kUnsubscribe - 1)) > 0) {
    return unsubscribe(c, head + sizeof kUnsubscribe - 1, (size_t)len);
  }
  if (starts_with(c, kPublish, sizeof kPublish - 1) &&
      (len = topic_after(c, sizeof kPublish - 1)) > 0) {
    size_t data_at = sizeof kPublish - 1 + (size_t)len + sizeof kData - 1;
    if (data_at + ID_DIGITS <= c->head_len && c->frame_len >= data_at + ID_DIGITS + 2 &&
        memcmp(head + data_at - (sizeof kData - 1), kData, sizeof kData - 1) == 0) {
      return publish(c, head + sizeof kPublish - 1, (size_t)len, c->head + data_at,
                     c->frame_len - data_at - 2);
    }
  }
  send_error(c, "the floor server does not know this message");
}

static void frame_done(struct conn* c) {
  c->in_payload = 0;
  uint8_t opcode = c->hdr[0] & 0x0F;
  if (opcode == 0x8) { /* close: an empty close, then the end once it is written */
    static const uint8_t kClose[2] = {0x88, 0};
    send_bytes(c, kClose, 2);
    c->phase = CLOSING;
    if (c->out_off == c->out_len) kill_conn(c);
  } else if (opcode == 0x9) { /* ping: a pong of its size */
    uint8_t pong[2 + sizeof zeros];
    size_t n = c->frame_len <= sizeof zeros ? c->frame_len : sizeof zeros;
    size_t h = floor_frame_header(pong, 0x8A, n);
    memcpy(pong + h, zeros, n);
    send_bytes(c, pong, h + n);
  } else if (opcode < 0x8) {
    on_message(c);
  }
  c->hdr_len = 0;
}

/* Walks frame boundaries; of each payload only the first HEAD_MAX bytes are unmasked. */
static void consume_frames(struct conn* c, const uint8_t* data, size_t len) {
  while (len > 0 && c->phase == OPEN && !c->dead) {
    if (c->in_payload) {
      uint64_t take = c->skip < len ? c->skip : len;
      size_t at = (size_t)(c->frame_len - c->skip);
      const uint8_t* mask = c->hdr + floor_header_size(c->hdr) - 4;
      for (size_t i = 0; at + i < HEAD_MAX && i < take; ++i) {
        c->head[at + i] = data[i] ^ ((c->hdr[1] & 0x80) ? mask[(at + i) & 3] : 0);
        c->head_len = at + i + 1;
      }
      c->skip -= take;
      data += take;
      len -= take;
      if (c->skip == 0) frame_done(c);
      continue;
    }
    c->hdr[c->hdr_len++] = *data++;
    --len;
    if (c->hdr_len < 2 || c->hdr_len < floor_header_size(c->hdr)) continue;
    c->frame_len = c->skip = floor_payload_length(c->hdr);
    c->head_len = 0;
    c->in_payload = 1;
    if (c->skip == 0) frame_done(c);
  }
}

static void on_readable(struct conn* c) {
  ssize_t n = read(c->fd, read_buffer, sizeof read_buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return kill_conn(c);
  if (c->phase != HANDSHAKE) return consume_frames(c, (const uint8_t*)read_buffer, (size_t)n);
  long head = floor_handshake(c->fd, &c->hs, &c->hs_len, read_buffer, (size_t)n);
  if (head < 0) return kill_conn(c);
  if (head == 0) return;
  c->phase = OPEN;
  consume_frames(c, (const uint8_t*)c->hs + head, c->hs_len - (size_t)head);
  free(c->hs);
  c->hs = NULL;
}

static void free_dead(void) {
  while (dead_list) {
    struct conn* c = dead_list;
    dead_list = c->next_dead;
    while (c->nsubs > 0) drop_subscription(c, c->nsubs - 1);
    close(c->fd); /* also leaves the epoll set */
    free(c->hs);
    free(c->out);
    free(c->subs);
    free(c);
  }
}

static void after_batch(void) {
  send_batches();
  free_dead();
}

static void accepted(int fd) {
  struct conn* c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->fd = fd;
  if (floor_watch(fd, c, EPOLLIN, 1) != 0) kill_conn(c);
}

static void on_event(void* p, uint32_t events) {
  struct conn* c = p;
  if (c->dead) return;
  if (events & EPOLLOUT) on_writable(c);
  if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(c);
}

int main(int argc, char** argv) {
  return floor_main(peer_init(argc, argv, NULL, NULL), "floor_pubsub: listen", accepted, on_event,
                    after_batch);
}
