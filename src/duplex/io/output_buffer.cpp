#include "duplex/io/output_buffer.hpp"

#include <cstdlib>
#include <new>

namespace duplex::io {

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

OutputPool::~OutputPool() {
  while (free_) {
    OutputBuffer* next = free_->next_free_;
    delete free_;
    free_ = next;
  }
}

}  // namespace duplex::io
