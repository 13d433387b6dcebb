#include "duplex/io/output_buffer.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace duplex::io {

namespace {
// Written pieces kept before their slots are reclaimed from a queue that does not empty.
constexpr size_t kCompactPieces = 64;
}  // namespace

OutputBuffer::~OutputBuffer() { std::free(data_); }

void OutputBuffer::make_room(size_t n) {
  const size_t pending = end_ - begin_;
  if (begin_ > 0 && capacity_ - pending >= n && begin_ >= pending) {
    // Enough room once the written bytes are dropped, and cheap to move what is left.
    std::memmove(data_, data_ + begin_, pending);
    begin_ = 0;
    end_ = pending;
    return;
  }
  size_t capacity = capacity_ ? capacity_ : 1024;
  while (capacity - pending < n) capacity *= 2;
  char* data = static_cast<char*>(std::malloc(capacity));
  if (!data) throw std::bad_alloc();
  if (pending > 0) std::memcpy(data, data_ + begin_, pending);
  std::free(data_);
  data_ = data;
  capacity_ = capacity;
  begin_ = 0;
  end_ = pending;
}

void OutputBuffer::append_slice(const SharedBytes& bytes, size_t begin, size_t end) {
  if (begin == end) return;
  shared_bytes_ += end - begin;
  const uint64_t at = stream_begin_ + (end_ - begin_);
  if (shared_head_ < shared_.size()) {
    SharedPiece& last = shared_.back();
    if (last.bytes == bytes && last.end == begin && last.at == at) {
      last.end = end;
      return;
    }
  }
  shared_.push_back({bytes, at, begin, end});
}

int OutputBuffer::gather(iovec* iov, int max) const {
  int count = 0;
  uint64_t position = stream_begin_;  // of the next own byte to place
  const auto own_until = [&](uint64_t end) {
    if (end > position && count < max) {
      iov[count++] = {data_ + begin_ + (position - stream_begin_), end - position};
      position = end;
    }
  };
  for (size_t i = shared_head_; i < shared_.size() && count < max; ++i) {
    const SharedPiece& piece = shared_[i];
    own_until(piece.at);
    if (count == max) break;
    iov[count++] = {const_cast<char*>(piece.bytes->data()) + piece.offset,
                    piece.end - piece.offset};
  }
  own_until(stream_begin_ + (end_ - begin_));
  return count;
}

void OutputBuffer::consume_mixed(size_t n) {
  while (n > 0) {
    const uint64_t own_end = stream_begin_ + (end_ - begin_);
    const bool pieces_left = shared_head_ < shared_.size();
    if (!pieces_left && stream_begin_ == own_end) break;  // more than was queued
    const uint64_t next_piece = pieces_left ? shared_[shared_head_].at : own_end;
    if (stream_begin_ < next_piece) {
      const size_t take = std::min<uint64_t>(n, next_piece - stream_begin_);
      begin_ += take;
      stream_begin_ += take;
      n -= take;
      continue;
    }
    SharedPiece& piece = shared_[shared_head_];
    const size_t take = std::min(n, piece.end - piece.offset);
    piece.offset += take;
    shared_bytes_ -= take;
    n -= take;
    if (piece.offset == piece.end) {
      piece.bytes.reset();
      if (++shared_head_ == shared_.size()) {
        shared_.clear();
        shared_head_ = 0;
      } else if (shared_head_ >= kCompactPieces && 2 * shared_head_ >= shared_.size()) {
        // A queue that never empties (a reader always a little behind) would keep a slot per
        // frame ever written: drop the written ones once they are half (moves stay amortized).
        shared_.erase(shared_.begin(), shared_.begin() + static_cast<ptrdiff_t>(shared_head_));
        shared_head_ = 0;
      }
    }
  }
  if (begin_ == end_) begin_ = end_ = 0;
}

void OutputBuffer::drop_shared() {
  shared_.clear();
  shared_head_ = 0;
  shared_bytes_ = 0;
}

OutputPool::~OutputPool() {
  while (free_) {
    OutputBuffer* next = free_->next_free_;
    delete free_;
    free_ = next;
  }
}

}  // namespace duplex::io
