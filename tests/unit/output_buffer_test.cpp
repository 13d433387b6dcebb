// io::OutputBuffer with frames queued by reference among copied bytes: what gather() hands to
// sendmsg and what consume() leaves must always be the queued stream, in order, however the
// kernel splits the writes; and the pool lends cleared buffers again.
#include "duplex/io/output_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace duplex::io {
namespace {

io::SharedBytes shared(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

// Distinct bytes per piece, so a piece out of place or a byte read twice shows.
std::string pattern(char tag, size_t n) {
  std::string s(n, tag);
  for (size_t i = 0; i < n; i += 7) s[i] = static_cast<char>('0' + i % 10);
  return s;
}

std::string gathered(const OutputBuffer& out, int max = 64) {
  std::vector<iovec> iov(static_cast<size_t>(max));
  const int n = out.gather(iov.data(), max);
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    EXPECT_GT(iov[i].iov_len, 0u) << "piece " << i;
    bytes.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  return bytes;
}

// One queue: copies and references interleaved, adjacent references, an empty reference
// (ignored), bytes written through prepare/commit. Appends to `out`, returns the stream.
std::string fill_mixed(OutputBuffer& out, std::vector<SharedBytes>& keep) {
  std::string expected;
  const auto copy = [&](const std::string& bytes) {
    out.append(bytes);
    expected += bytes;
  };
  const auto reference = [&](std::string bytes) {
    keep.push_back(shared(std::move(bytes)));
    out.append_shared(keep.back());
    expected += *keep.back();
  };
  copy("ab");
  reference(pattern('A', 600));
  reference(pattern('B', 10));
  copy(pattern('c', 300));
  const std::string direct = pattern('d', 5);
  std::memcpy(out.prepare(64), direct.data(), direct.size());  // room for more than is written
  out.commit(direct.size());
  expected += direct;
  reference("");
  reference(pattern('E', 2048));
  reference(pattern('F', 1));
  copy("g");
  reference(pattern('H', 513));
  return expected;
}

TEST(OutputBuffer, GatherListsCopiesAndReferencesInQueueOrder) {
  OutputBuffer out;
  std::vector<SharedBytes> keep;
  const std::string expected = fill_mixed(out, keep);
  EXPECT_FALSE(out.contiguous());
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_EQ(gathered(out), expected);
  // Pieces: "ab", A, B, c+d, E, F, "g", H; the empty reference adds none.
  std::vector<iovec> iov(16);
  EXPECT_EQ(out.gather(iov.data(), 16), 8);
  // Fewer slots than pieces: a prefix of the stream.
  for (int max = 1; max <= 8; ++max) {
    const std::string prefix = gathered(out, max);
    EXPECT_EQ(prefix, expected.substr(0, prefix.size())) << max;
    EXPECT_EQ(out.gather(iov.data(), max), max);
  }
}

TEST(OutputBuffer, ConsumeAtEveryByteLeavesTheRestOfTheStream) {
  std::vector<SharedBytes> keep;
  OutputBuffer reference_queue;
  const std::string expected = fill_mixed(reference_queue, keep);
  for (size_t split = 0; split <= expected.size(); ++split) {
    OutputBuffer out;
    std::vector<SharedBytes> pieces;
    fill_mixed(out, pieces);
    out.consume(split);
    ASSERT_EQ(out.size(), expected.size() - split) << split;
    ASSERT_EQ(gathered(out), expected.substr(split)) << split;
    // Then queue more behind the split and take the rest in one more cut.
    out.append("tail");
    auto more = shared(pattern('T', 700));
    out.append_shared(more);
    const std::string rest = expected.substr(split) + "tail" + *more;
    ASSERT_EQ(gathered(out), rest) << split;
    const size_t second = (split * 7) % (rest.size() + 1);
    out.consume(second);
    ASSERT_EQ(gathered(out), rest.substr(second)) << split << "+" << second;
    out.consume(rest.size() - second);
    ASSERT_TRUE(out.empty()) << split;
    ASSERT_TRUE(out.contiguous()) << split;
    ASSERT_EQ(more.use_count(), 1) << "a written reference is let go";
  }
}

TEST(OutputBuffer, WritesOfEverySizeCarryTheWholeStream) {
  // A writer that takes `step` bytes at a time (a kernel that keeps pushing back), with new
  // output queued between writes, as a connection does.
  for (size_t step = 1; step <= 700; step += step < 16 ? 1 : 97) {
    OutputBuffer out;
    std::vector<SharedBytes> keep;
    std::string expected = fill_mixed(out, keep);
    std::string written;
    int round = 0;
    while (!out.empty()) {
      const std::string available = gathered(out);
      ASSERT_EQ(available, expected.substr(written.size())) << step;
      const size_t n = std::min(step, available.size());
      written.append(available, 0, n);
      out.consume(n);
      if (++round % 5 == 0 && round < 60) {
        const std::string copy = pattern('x', static_cast<size_t>(round));
        out.append(copy);
        expected += copy;
        keep.push_back(shared(pattern('R', 512 + static_cast<size_t>(round))));
        out.append_shared(keep.back());
        expected += *keep.back();
      }
    }
    EXPECT_EQ(written, expected) << step;
  }
}

TEST(OutputBuffer, AQueueThatNeverEmptiesKeepsItsOrder) {
  // Hundreds of references pass through while some are always queued: the written ones'
  // bookkeeping is reclaimed on the way, mid-piece and between pieces.
  OutputBuffer out;
  std::vector<SharedBytes> keep;
  std::string expected;  // what is queued, from the head
  for (int i = 0; i < 600; ++i) {
    keep.push_back(shared(pattern(static_cast<char>('A' + i % 26), 512 + i % 37)));
    out.append_shared(keep.back());
    expected += *keep.back();
    if (i % 3 == 0) {
      const std::string copy = pattern('c', static_cast<size_t>(i % 11));
      out.append(copy);
      expected += copy;
    }
    if (i >= 4) {
      const size_t n = 400 + static_cast<size_t>(i * 13 % 101);  // a little less than queued
      out.consume(n);
      expected.erase(0, n);
    }
    ASSERT_TRUE(gathered(out, 1024) == expected) << i;  // more pieces than one sendmsg takes
    ASSERT_EQ(out.size(), expected.size()) << i;
  }
  ASSERT_FALSE(out.empty());
  out.consume(out.size());
  EXPECT_TRUE(out.empty());
  for (const SharedBytes& piece : keep) EXPECT_EQ(piece.use_count(), 1);
}

TEST(OutputBuffer, CopiesAppendedAfterAPartialWriteMayMoveWithoutLosingTheirPlace) {
  OutputBuffer out;
  const std::string first = pattern('a', 1000);
  auto piece = shared(pattern('P', 4096));
  out.append(first);
  out.append_shared(piece);
  out.consume(900);  // most of the copy is written: the next append moves the rest forward
  const std::string second = pattern('b', 5000);  // and this one makes the buffer grow
  out.append(second);
  EXPECT_EQ(gathered(out), first.substr(900) + *piece + second);
  out.consume(100 + 10);  // into the reference
  out.append("z");
  EXPECT_EQ(gathered(out), piece->substr(10) + second + "z");
}

TEST(OutputBuffer, ConsumingMoreThanQueuedEmptiesIt) {
  OutputBuffer out;
  std::vector<SharedBytes> keep;
  const std::string expected = fill_mixed(out, keep);
  out.consume(expected.size() + 10);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.size(), 0u);
  out.append("next");
  EXPECT_EQ(gathered(out), "next");
}

TEST(OutputBuffer, ClearDropsCopiesAndReferences) {
  OutputBuffer out;
  std::vector<SharedBytes> keep;
  fill_mixed(out, keep);
  out.consume(3);
  out.clear();
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(out.contiguous());
  EXPECT_EQ(gathered(out), "");
  for (const SharedBytes& piece : keep) EXPECT_EQ(piece.use_count(), 1);
  // Usable again, references placed among the new copies.
  auto piece = shared(pattern('N', 600));
  out.append("12");
  out.append_shared(piece);
  out.append("34");
  EXPECT_EQ(out.size(), 604u);
  EXPECT_EQ(gathered(out), "12" + *piece + "34");
  out.consume(1);
  EXPECT_EQ(gathered(out), "2" + *piece + "34");
}

TEST(OutputBuffer, ContiguousWhileOnlyCopiesAreQueued) {
  OutputBuffer out;
  out.append("hello");
  EXPECT_TRUE(out.contiguous());
  EXPECT_EQ(std::string(out.data(), out.size()), "hello");
  out.consume(2);
  EXPECT_EQ(std::string(out.data(), out.size()), "llo");
  auto piece = shared("world");
  out.append_shared(piece);
  EXPECT_FALSE(out.contiguous());
  EXPECT_EQ(out.size(), 8u);
  out.consume(3 + 5);
  EXPECT_TRUE(out.contiguous());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(piece.use_count(), 1);
}

TEST(OutputBuffer, SlicesThatContinueEachOtherGoOutAsOnePiece) {
  // A topic's batch buffer: three frames laid end to end, another buffer beside it.
  auto batch =
      std::make_shared<std::string>(pattern('a', 300) + pattern('b', 200) + pattern('c', 100));
  const SharedBytes bytes = batch;
  const SharedBytes other = shared(pattern('x', 50));
  OutputBuffer out;
  out.append_slice(bytes, 0, 300);
  out.append_slice(bytes, 300, 500);  // continues the last slice: one piece
  iovec iov[8];
  ASSERT_EQ(out.gather(iov, 8), 1);
  EXPECT_EQ(iov[0].iov_len, 500u);
  out.append("own");  // something in between: the next slice is a new piece
  out.append_slice(bytes, 500, 600);
  out.append_slice(other, 0, 50);     // another buffer: a new piece
  out.append_slice(bytes, 600, 600);  // empty: ignored
  ASSERT_EQ(out.gather(iov, 8), 4);
  EXPECT_EQ(out.size(), 500u + 3 + 100 + 50);
  EXPECT_EQ(gathered(out), batch->substr(0, 500) + "own" + batch->substr(500, 100) + *other);
  // A partial write inside the merged piece, then more appended to the batch buffer itself
  // (it grows while queued: slices are offsets, not pointers).
  out.consume(250);
  batch->append(pattern('d', 4000));
  out.append_slice(bytes, 600, 4600);
  EXPECT_EQ(gathered(out), batch->substr(250, 250) + "own" + batch->substr(500, 100) + *other +
                               batch->substr(600, 4000));
  out.consume(out.size());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(out.contiguous());
}

TEST(OutputPool, LendsReleasedBuffersAgainClearedAndWorking) {
  OutputPool pool;
  OutputBuffer* first = pool.acquire();
  auto piece = shared(pattern('S', 2000));
  first->append("head");
  first->append_shared(piece);
  first->consume(1000);  // released with output left (a connection that closed)
  pool.release(first);
  EXPECT_EQ(piece.use_count(), 1);
  OutputBuffer* again = pool.acquire();
  EXPECT_EQ(again, first);  // from the free list, not a new allocation
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(again->contiguous());
  again->append("x");
  again->append_shared(piece);
  again->append("y");
  EXPECT_EQ(gathered(*again), "x" + *piece + "y");
  OutputBuffer* other = pool.acquire();  // the free list is empty: a new one
  EXPECT_NE(other, again);
  EXPECT_TRUE(other->empty());
  pool.release(again);
  pool.release(other);
  EXPECT_EQ(piece.use_count(), 1);
}

}  // namespace
}  // namespace duplex::io
