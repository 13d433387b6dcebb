#include "duplex/core/ws/deflate_codec.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace duplex::core {

namespace {

constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
// zlib counts in uInt: inputs are handed over in pieces of at most this.
constexpr size_t kMaxStep = size_t{1} << 30;
// Smallest output step of the inflater.
constexpr size_t kInflateStep = 16 * 1024;

std::atomic<size_t> g_zlib_bytes{0};

// zlib's allocations go through here so that each stream knows what it holds (the per-connection
// figures in DEVELOPERS.md come from these counters). The size is kept before the block.
constexpr size_t kHeader = alignof(std::max_align_t);

voidpf counted_alloc(voidpf opaque, uInt items, uInt size) {
  const size_t bytes = size_t{items} * size;
  auto* block = static_cast<char*>(std::malloc(bytes + kHeader));
  if (!block) return Z_NULL;
  std::memcpy(block, &bytes, sizeof bytes);
  *static_cast<size_t*>(opaque) += bytes;
  g_zlib_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return block + kHeader;
}

void counted_free(voidpf opaque, voidpf address) {
  if (!address) return;
  char* block = static_cast<char*>(address) - kHeader;
  size_t bytes;
  std::memcpy(&bytes, block, sizeof bytes);
  *static_cast<size_t*>(opaque) -= bytes;
  g_zlib_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  std::free(block);
}

void use_counted_allocator(z_stream& stream, size_t& counter) {
  stream.zalloc = counted_alloc;
  stream.zfree = counted_free;
  stream.opaque = &counter;
}

// Grows `s` to hold `needed` bytes with an allocation of exactly the new capacity (at most
// `limit`): std::string's own growth may double past the limit.
void reserve_bounded(std::string& s, size_t needed, size_t limit) {
  if (needed <= s.capacity()) return;
  const size_t capacity = std::min(limit, std::max(needed, 2 * s.capacity()));
  std::string bigger;
  bigger.reserve(capacity);
  bigger.append(s);
  s.swap(bigger);
}

}  // namespace

size_t zlib_bytes_in_use() { return g_zlib_bytes.load(std::memory_order_relaxed); }

// --- Deflater -------------------------------------------------------------------------------

Deflater::Deflater(int window_bits, bool no_context_takeover, int level, int mem_level)
    : window_bits_(window_bits),
      level_(level),
      mem_level_(mem_level),
      no_context_takeover_(no_context_takeover) {}

Deflater::~Deflater() {
  if (ready_) deflateEnd(&stream_);
}

bool Deflater::init() {
  use_counted_allocator(stream_, memory_);
  ready_ = deflateInit2(&stream_, level_, Z_DEFLATED, -window_bits_, mem_level_,
                        Z_DEFAULT_STRATEGY) == Z_OK;
  return ready_;
}

bool Deflater::compress(std::string_view message, std::string& out) {
  if (!ready_ && !init()) return false;
  const size_t start = out.size();
  size_t used = start;
  size_t consumed = 0;
  // Room for the worst case of one step; the loop goes on if zlib needs more.
  const size_t bound = deflateBound(&stream_, std::min(message.size(), kMaxStep)) + 16;
  for (;;) {
    const size_t step = std::min(message.size() - consumed, kMaxStep);
    const bool last = consumed + step == message.size();
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data() + consumed));
    stream_.avail_in = static_cast<uInt>(step);
    do {
      out.resize(used + bound);
      stream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      stream_.avail_out = static_cast<uInt>(bound);
      const int ret = deflate(&stream_, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      used += bound - stream_.avail_out;
      if (ret != Z_OK && ret != Z_BUF_ERROR) {
        out.resize(start);
        deflateReset(&stream_);
        return false;
      }
    } while (stream_.avail_out == 0 || stream_.avail_in > 0);
    consumed += step;
    if (last) break;
  }
  // A sync flush ends with an empty stored block, 00 00 ff ff, which RFC 7692 7.2.1 removes.
  out.resize(used >= start + 4 ? used - 4 : used);
  if (no_context_takeover_) deflateReset(&stream_);
  return true;
}

// --- Inflater -------------------------------------------------------------------------------

Inflater::Inflater(int window_bits, bool no_context_takeover)
    : window_bits_(window_bits), no_context_takeover_(no_context_takeover) {}

Inflater::~Inflater() {
  if (ready_) inflateEnd(&stream_);
}

bool Inflater::init() {
  use_counted_allocator(stream_, memory_);
  ready_ = inflateInit2(&stream_, -window_bits_) == Z_OK;
  return ready_;
}

void Inflater::reset() {
  if (ready_) inflateReset(&stream_);
  fed_ = 0;
  ended_by_final_block_ = false;
}

Inflater::Result Inflater::fail(Result result) {
  reset();
  return result;
}

bool Inflater::restart_keeping_window() {
  // A block with BFINAL set ended the DEFLATE stream (RFC 7692 7.2.3.3 allows it); the message
  // may go on, and later messages may refer to this one's bytes, so the window is carried over.
  if (no_context_takeover_) return inflateReset(&stream_) == Z_OK;
  std::string window(size_t{1} << window_bits_, '\0');
  uInt length = static_cast<uInt>(window.size());
  if (inflateGetDictionary(&stream_, reinterpret_cast<Bytef*>(window.data()), &length) != Z_OK) {
    return false;
  }
  return inflateReset(&stream_) == Z_OK &&
         inflateSetDictionary(&stream_, reinterpret_cast<Bytef*>(window.data()), length) == Z_OK;
}

Inflater::Result Inflater::feed(std::string_view piece, std::string& out, uint64_t limit) {
  fed_ += piece.size();
  size_t done = 0;
  while (done < piece.size()) {
    const size_t step = std::min(piece.size() - done, kMaxStep);
    const Result r =
        run(reinterpret_cast<const uint8_t*>(piece.data() + done), step, out, limit, false);
    if (r != Result::ok) return r;
    done += step;
  }
  return Result::ok;
}

Inflater::Result Inflater::finish(std::string& out, uint64_t limit) {
  // An empty payload is an empty message (the tail alone is not a complete block), and data that
  // a final block ended needs no tail.
  if (fed_ != 0 && !ended_by_final_block_) {
    const Result r = run(kTail, sizeof kTail, out, limit, true);
    if (r != Result::ok) return r;
    // After the tail the stream must sit between blocks (data_type bit 128), unless a final
    // block ended it; otherwise the message was cut short.
    if (!ended_by_final_block_ && !(stream_.data_type & 128)) return fail(Result::corrupt);
  }
  fed_ = 0;
  ended_by_final_block_ = false;
  if (no_context_takeover_ && ready_) inflateReset(&stream_);
  return Result::ok;
}

Inflater::Result Inflater::run(const uint8_t* in, size_t len, std::string& out, uint64_t limit,
                               bool tail) {
  if (!ready_ && !init()) return fail(Result::no_memory);
  const size_t cap = static_cast<size_t>(std::min<uint64_t>(limit, SIZE_MAX));
  stream_.next_in = const_cast<Bytef*>(in);
  stream_.avail_in = static_cast<uInt>(len);
  if (!tail && len > 0) ended_by_final_block_ = false;
  for (;;) {
    const size_t size = out.size();
    const size_t room = cap > size ? cap - size : 0;
    uint8_t probe;
    size_t offered;
    if (room == 0) {
      // At the limit: one byte more of output, written to the stack, proves the message too big.
      offered = 1;
      stream_.next_out = &probe;
    } else {
      offered = std::min({room, std::max(kInflateStep, out.capacity() - size), kMaxStep});
      reserve_bounded(out, size + offered, cap);
      out.resize(size + offered);
      stream_.next_out = reinterpret_cast<Bytef*>(out.data() + size);
    }
    stream_.avail_out = static_cast<uInt>(offered);
    const int ret = inflate(&stream_, Z_SYNC_FLUSH);
    const size_t produced = offered - stream_.avail_out;
    if (room == 0) {
      if (produced > 0) return fail(Result::too_big);
    } else {
      out.resize(size + produced);
    }
    if (ret == Z_STREAM_END) {
      if (!restart_keeping_window()) return fail(Result::no_memory);
      // A final block ending the data (or inside the tail) ends the message; the rest of the
      // tail is not needed. Data after it starts a new stream.
      if (tail || stream_.avail_in == 0) {
        ended_by_final_block_ = true;
        return Result::ok;
      }
      continue;
    }
    if (ret == Z_BUF_ERROR) break;  // no progress possible: all input used and no output left
    if (ret != Z_OK) return fail(ret == Z_MEM_ERROR ? Result::no_memory : Result::corrupt);
    if (stream_.avail_in == 0 && stream_.avail_out > 0) break;
  }
  return Result::ok;
}

}  // namespace duplex::core
