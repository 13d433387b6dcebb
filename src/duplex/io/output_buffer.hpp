// A connection's queued output and the pool that lends it. Bytes are appended at the tail (a
// frame's header and payload written straight in) and written from the head; a buffer is lent
// only while it holds something, so an idle connection holds no output memory.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace duplex::io {

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

  /// Bytes not yet written, from the head.
  const char* data() const { return data_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  /// Drops `n` written bytes from the head.
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }
  size_t capacity() const { return capacity_; }

 private:
  friend class OutputPool;
  void make_room(size_t n);  // moves the unwritten bytes to the front, or grows

  char* data_ = nullptr;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t capacity_ = 0;
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
