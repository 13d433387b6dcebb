// A connection's queued output and the pool that lends it. Bytes are appended at the tail (a
// frame's header and payload written straight in) and written from the head; a buffer is lent
// only while it holds something, so an idle connection holds no output memory. Frames shared by
// many connections (a published message) are queued by reference, not copied.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::io {

/// Immutable bytes several output queues point to (one framed message for many recipients).
using SharedBytes = std::shared_ptr<const std::string>;

class OutputBuffer {
 public:
  OutputBuffer() = default;
  ~OutputBuffer();
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  /// Room for `n` more bytes at the tail: write into it, then commit() what was written.
  char* prepare(size_t n) {
    if (capacity_ - end_ < n) make_room(n);
    return data_ + end_;
  }
  void commit(size_t n) { end_ += n; }
  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
  }

  /// Queues `bytes` by reference after what is queued: written from the shared buffer.
  void append_shared(const SharedBytes& bytes) { append_slice(bytes, 0, bytes->size()); }
  /// Queues bytes [begin, end) of `bytes` by reference. A slice that continues the last one
  /// queued (same buffer, nothing queued in between) extends it: messages laid end to end in
  /// one buffer go out as one piece.
  void append_slice(const SharedBytes& bytes, size_t begin, size_t end);

  /// True when everything queued is in the buffer itself (nothing by reference): data() and
  /// size() then cover all of it, for a single send().
  bool contiguous() const { return shared_.empty(); }
  /// The buffer's own bytes not yet written, from the head.
  const char* data() const { return data_ + begin_; }
  /// Every byte queued, by copy or by reference.
  size_t size() const { return end_ - begin_ + shared_bytes_; }
  bool empty() const { return size() == 0; }
  /// Fills `iov` with the queued bytes in order, at most `max` pieces; returns how many.
  int gather(iovec* iov, int max) const;
  /// Drops `n` written bytes from the head.
  void consume(size_t n) {
    if (shared_.empty()) {
      begin_ += n;
      if (begin_ == end_) begin_ = end_ = 0;
      stream_begin_ += n;
    } else {
      consume_mixed(n);
    }
  }
  void clear() {
    stream_begin_ += end_ - begin_;
    begin_ = end_ = 0;
    if (!shared_.empty()) drop_shared();
  }
  size_t capacity() const { return capacity_; }

 private:
  friend class OutputPool;
  void make_room(size_t n);  // moves the unwritten bytes to the front, or grows
  void consume_mixed(size_t n);
  void drop_shared();

  // Bytes [offset, end) of a shared buffer, queued by reference; they go out once the buffer's
  // own bytes before `at` have gone.
  struct SharedPiece {
    SharedBytes bytes;
    uint64_t at;    // position in the buffer's own byte stream (see stream_begin_)
    size_t offset;  // next byte to write (the slice's start until some is written)
    size_t end;
  };

  char* data_ = nullptr;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t capacity_ = 0;
  // The buffer's own bytes, numbered from the first ever queued: data_[begin_] is number
  // stream_begin_. Shared pieces are placed by these numbers, which moving bytes never changes.
  uint64_t stream_begin_ = 0;
  std::vector<SharedPiece> shared_;  // in order; consumed from shared_head_
  size_t shared_head_ = 0;
  size_t shared_bytes_ = 0;            // unwritten bytes of the shared pieces
  OutputBuffer* next_free_ = nullptr;  // in the pool's free list
};

/// Lends output buffers and takes them back for reuse (a free list: no allocation once warm).
/// Buffers that grew large are freed on return, so one burst does not pin memory.
class OutputPool {
 public:
  OutputPool() = default;
  ~OutputPool();
  OutputPool(const OutputPool&) = delete;
  OutputPool& operator=(const OutputPool&) = delete;

  OutputBuffer* acquire() {
    if (!free_) return new OutputBuffer;
    OutputBuffer* buffer = free_;
    free_ = buffer->next_free_;
    --free_count_;
    return buffer;
  }
  void release(OutputBuffer* buffer) {
    if (buffer->capacity() > kKeepCapacity || free_count_ >= kMaxFree) {
      delete buffer;
      return;
    }
    buffer->clear();
    buffer->next_free_ = free_;
    free_ = buffer;
    ++free_count_;
  }

  static constexpr size_t kKeepCapacity = 256 * 1024;
  static constexpr size_t kMaxFree = 1024;

 private:
  OutputBuffer* free_ = nullptr;
  size_t free_count_ = 0;
};

}  // namespace duplex::io
