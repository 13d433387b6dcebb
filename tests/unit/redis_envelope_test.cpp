// What a node writes for Redis and reads back: the channel envelope (channel_envelope.hpp) byte
// for byte, every truncation of it refused, and the RESP commands (resp_command.hpp) read by
// hiredis's own reply reader, whole, split at every byte and a byte at a time.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "duplex/cluster/channel_envelope.hpp"
#include "duplex/cluster/resp_command.hpp"

namespace duplex::cluster::detail {
namespace {

using namespace std::string_literals;

constexpr uint64_t kNode = 0x0102030405060708;

std::string header_text(uint64_t node, core::MessageType type) {
  const auto header = envelope_header(node, type);
  return std::string(header.data(), header.size());
}

std::string publish_command(std::string_view channel, uint64_t node, core::MessageType type,
                            std::string_view payload) {
  const std::string header = header_text(node, type);
  std::string out;
  append_command_header(out, 3);
  append_argument(out, "PUBLISH");
  append_argument(out, channel);
  append_argument(out, {header, payload});
  return out;
}

TEST(ChannelEnvelope, HeaderBytes) {
  EXPECT_EQ(header_text(kNode, core::MessageType::text), "\x01t\x01\x02\x03\x04\x05\x06\x07\x08"s);
  EXPECT_EQ(header_text(kNode, core::MessageType::binary),
            "\x01"
            "b\x01\x02\x03\x04\x05\x06\x07\x08"s);
  EXPECT_EQ(header_text(0xfedcba9876543210, core::MessageType::text),
            "\x01t\xfe\xdc\xba\x98\x76\x54\x32\x10"s);
}

TEST(ChannelEnvelope, ReadsBackWhatWasWritten) {
  const std::vector<std::string> payloads = {"", "hello",
                                             "{\"type\":\"message\",\"topic\":\"news\",\"data\":1}",
                                             "\0\r\n\x01t"s, std::string(70000, '\xff')};
  for (const core::MessageType type : {core::MessageType::text, core::MessageType::binary}) {
    for (const std::string& payload : payloads) {
      const std::string message = header_text(kNode, type) + payload;
      const auto envelope = read_envelope(message);
      ASSERT_TRUE(envelope.has_value());
      EXPECT_EQ(envelope->node, kNode);
      EXPECT_EQ(envelope->type, type);
      EXPECT_EQ(envelope->payload, payload);
      EXPECT_EQ(envelope->payload.data(), message.data() + kEnvelopeHeaderSize) << "a view";
    }
  }
}

TEST(ChannelEnvelope, EveryTruncatedHeaderIsRefused) {
  const std::string header = header_text(kNode, core::MessageType::text);
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_FALSE(read_envelope(header.substr(0, n)).has_value()) << n << " bytes";
  }
  EXPECT_TRUE(read_envelope(header).has_value());
}

TEST(ChannelEnvelope, OtherFormatsAreRefused) {
  const std::string good = header_text(kNode, core::MessageType::text) + "x";
  std::string other_version = good;
  other_version[0] = 0x02;
  EXPECT_FALSE(read_envelope(other_version).has_value());
  for (char type : {'T', 'B', 'x', '\0'}) {
    std::string other_type = good;
    other_type[1] = type;
    EXPECT_FALSE(read_envelope(other_type).has_value()) << int(type);
  }
  // What another program might publish on the channel: plain text, JSON.
  EXPECT_FALSE(read_envelope("hello world").has_value());
  EXPECT_FALSE(read_envelope("{\"type\":\"message\"}").has_value());
}

TEST(RespCommand, PublishBytes) {
  EXPECT_EQ(publish_command("duplex:topic:news", kNode, core::MessageType::text, "hello"),
            "*3\r\n$7\r\nPUBLISH\r\n$17\r\nduplex:topic:news\r\n$15\r\n"
            "\x01t\x01\x02\x03\x04\x05\x06\x07\x08hello\r\n"s);
  std::string out;
  append_command_header(out, 1);
  append_argument(out, "PING");
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n");
  out.clear();
  append_command_header(out, 12);
  append_argument(out, "");
  append_argument(out, {"", "", ""});
  append_argument(out, {"ab", "", "c"});
  EXPECT_EQ(out, "*12\r\n$0\r\n\r\n$0\r\n\r\n$3\r\nabc\r\n");
}

// The command as Redis would read it: hiredis's reader takes the same protocol.
struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};

// Feeds `bytes` in the pieces cut at `cuts` and returns the one array read, as strings.
std::vector<std::string> read_command(const std::string& bytes, const std::vector<size_t>& cuts) {
  std::unique_ptr<redisReader, ReaderDeleter> reader(redisReaderCreate());
  size_t at = 0;
  void* reply = nullptr;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    EXPECT_EQ(redisReaderFeed(reader.get(), bytes.data() + at, end - at), REDIS_OK);
    at = end;
    EXPECT_EQ(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
    if (reply) {
      EXPECT_EQ(end, bytes.size()) << "a whole command before its last byte";
      break;
    }
  }
  std::vector<std::string> arguments;
  if (!reply) {
    ADD_FAILURE() << "no command read";
    return arguments;
  }
  auto* r = static_cast<redisReply*>(reply);
  EXPECT_EQ(r->type, REDIS_REPLY_ARRAY);
  for (size_t i = 0; i < r->elements; ++i) {
    EXPECT_EQ(r->element[i]->type, REDIS_REPLY_STRING);
    arguments.emplace_back(r->element[i]->str, r->element[i]->len);
  }
  freeReplyObject(reply);
  void* more = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader.get(), &more), REDIS_OK);
  EXPECT_EQ(more, nullptr) << "bytes after the command";
  return arguments;
}

TEST(RespCommand, PublishReadsBackAtEverySplit) {
  const std::string payload = "\r\n$3\r\n*1\0\xff"s + std::string(300, 'p');
  const std::string bytes =
      publish_command("duplex:user:al\r\nice", kNode, core::MessageType::binary, payload);
  const std::vector<std::string> expected = {
      "PUBLISH", "duplex:user:al\r\nice", header_text(kNode, core::MessageType::binary) + payload};
  EXPECT_EQ(read_command(bytes, {}), expected);
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    ASSERT_EQ(read_command(bytes, {cut}), expected) << "split at " << cut;
  }
  std::vector<size_t> every_byte;
  for (size_t cut = 1; cut < bytes.size(); ++cut) every_byte.push_back(cut);
  EXPECT_EQ(read_command(bytes, every_byte), expected);
  // What the subscriber gets back is the third argument: the envelope reads back from it.
  const auto envelope = read_envelope(expected[2]);
  ASSERT_TRUE(envelope.has_value());
  EXPECT_EQ(envelope->payload, payload);
  EXPECT_EQ(envelope->type, core::MessageType::binary);
}

}  // namespace
}  // namespace duplex::cluster::detail
