// What a node writes for Redis and reads back: the channel envelope (channel_envelope.hpp) byte
// for byte, with the Socket.IO and STOMP parts, every truncation of it refused, forged counts and
// flags refused, and the RESP commands (resp_command.hpp) read by
// hiredis's own reply reader, whole, split at every byte and a byte at a time.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "duplex/cluster/channel_envelope.hpp"
#include "duplex/cluster/resp_command.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::cluster::detail {
namespace {

using namespace std::string_literals;

constexpr uint64_t kNode = 0x0102030405060708;

std::string header_text(uint64_t node, core::MessageType type) {
  std::string head;
  append_envelope_head(head, node, type, {});
  return head;
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
  EXPECT_EQ(header_text(kNode, core::MessageType::text),
            "\x02t\x01\x02\x03\x04\x05\x06\x07\x08\x00"s);
  EXPECT_EQ(header_text(kNode, core::MessageType::binary),
            "\x02"
            "b\x01\x02\x03\x04\x05\x06\x07\x08\x00"s);
  EXPECT_EQ(header_text(0xfedcba9876543210, core::MessageType::text),
            "\x02t\xfe\xdc\xba\x98\x76\x54\x32\x10\x00"s);
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
  for (char version : {'\x01', '\x03', '\0'}) {
    std::string other_version = good;
    other_version[0] = version;
    EXPECT_FALSE(read_envelope(other_version).has_value()) << int(version);
  }
  for (char parts : {'\x04', '\x80', '\xff'}) {
    std::string unknown_parts = good;
    unknown_parts[10] = parts;
    EXPECT_FALSE(read_envelope(unknown_parts).has_value()) << int(parts);
  }
  for (char type : {'T', 'B', 'x', '\0'}) {
    std::string other_type = good;
    other_type[1] = type;
    EXPECT_FALSE(read_envelope(other_type).has_value()) << int(type);
  }
  // What another program might publish on the channel: plain text, JSON.
  EXPECT_FALSE(read_envelope("hello world").has_value());
  EXPECT_FALSE(read_envelope("{\"type\":\"message\"}").has_value());
}

// A Socket.IO emit's packet as a node makes it: to rooms, with attachments and except topics.
::duplex::detail::SocketIoPacket emit_packet() {
  ::duplex::detail::SocketIoPacket p;
  p.id = 0x1112131415161718;
  p.text = "51-[\"chat\",{\"_placeholder\":true,\"num\":0}]";
  p.attachments = {"\0\xff"s, ""};
  p.except = {"sio:/#muted"};
  p.is_volatile = true;
  p.socketio_only = true;
  return p;
}

void expect_same(const ::duplex::detail::SocketIoPacket& a,
                 const ::duplex::detail::SocketIoPacket& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.attachments, b.attachments);
  EXPECT_EQ(a.except, b.except);
  EXPECT_EQ(a.is_volatile, b.is_volatile);
  EXPECT_EQ(a.socketio_only, b.socketio_only);
  EXPECT_EQ(a.payload_is_engine_message, b.payload_is_engine_message);
}

std::string with_parts(std::string_view payload, const ::duplex::detail::SocketIoPacket* socketio,
                       const ::duplex::detail::StompSend* stomp,
                       core::MessageType type = core::MessageType::text) {
  std::string message;
  append_envelope_head(message, kNode, type, payload, socketio, stomp);
  message += payload;
  return message;
}

TEST(ChannelEnvelope, SocketIoPartBytes) {
  const auto packet = emit_packet();
  const std::string text = packet.text;
  EXPECT_EQ(with_parts("", &packet, nullptr),
            "\x02t\x01\x02\x03\x04\x05\x06\x07\x08\x01"  // header, parts: Socket.IO
            "\x03"                                       // volatile, Socket.IO only
            "\x11\x12\x13\x14\x15\x16\x17\x18"           // the emit's id
            "\x00\x00\x00\x29"s +
                text +                                                     // the packet text
                "\x00\x00\x00\x02\x00\x00\x00\x02\0\xff\x00\x00\x00\x00"s  // attachments
                "\x00\x00\x00\x01\x00\x00\x00\x0bsio:/#muted"s);           // except topics
}

TEST(ChannelEnvelope, SocketIoPartReadsBack) {
  auto packet = emit_packet();
  const std::string message = with_parts("", &packet, nullptr);
  auto envelope = read_envelope(message);
  ASSERT_TRUE(envelope.has_value());
  ASSERT_NE(envelope->socketio, nullptr);
  EXPECT_EQ(envelope->stomp, nullptr);
  expect_same(*envelope->socketio, packet);
  EXPECT_EQ(envelope->payload, "");

  // An emit whose payload is the Engine.IO message carries its text once, in the payload.
  packet.attachments.clear();
  packet.is_volatile = false;
  packet.payload_is_engine_message = true;
  packet.text = "2[\"chat\",\"hi\"]";
  const std::string engine = "4" + packet.text;
  const std::string shared = with_parts(engine, &packet, nullptr);
  EXPECT_EQ(shared.size(), kEnvelopeHeaderSize + 1 + 8 + 4 + 4 + 4 + 11 + engine.size());
  envelope = read_envelope(shared);
  ASSERT_TRUE(envelope.has_value());
  expect_same(*envelope->socketio, packet);
  EXPECT_EQ(envelope->payload, engine);
  // ... so a payload that is no Engine.IO message is refused.
  std::string not_engine = shared;
  not_engine.back() = 'x';
  not_engine[not_engine.size() - engine.size()] = '2';
  EXPECT_FALSE(read_envelope(not_engine).has_value());

  // An emit that others take too ("message" to rooms) carries their payload after the part.
  packet = emit_packet();
  packet.socketio_only = false;
  const std::string with_others = with_parts("{\"to\":\"pubsub\"}", &packet, nullptr);
  envelope = read_envelope(with_others);  // its payload is a view into the message
  ASSERT_TRUE(envelope.has_value());
  expect_same(*envelope->socketio, packet);
  EXPECT_EQ(envelope->payload, "{\"to\":\"pubsub\"}");
}

TEST(ChannelEnvelope, StompPartBytesAndReadsBack) {
  const ::duplex::detail::StompSend send{
      "body\0"s, "text/plain", {{"x-a", "1"}, {"x-a", "2"}, {"", ""}}};
  // The body is the payload: it travels once.
  const std::string once = with_parts(send.body, nullptr, &send, core::MessageType::binary);
  EXPECT_EQ(once,
            "\x02"
            "b\x01\x02\x03\x04\x05\x06\x07\x08\x02"  // header, parts: STOMP
            "\x01"                                   // the body is the payload
            "\x00\x00\x00\x0atext/plain"
            "\x00\x00\x00\x03"
            "\x00\x00\x00\x03x-a\x00\x00\x00\x01"
            "1"
            "\x00\x00\x00\x03x-a\x00\x00\x00\x01"
            "2"
            "\x00\x00\x00\x00\x00\x00\x00\x00"
            "body\0"s);
  auto envelope = read_envelope(once);
  ASSERT_TRUE(envelope.has_value());
  ASSERT_NE(envelope->stomp, nullptr);
  EXPECT_EQ(envelope->socketio, nullptr);
  EXPECT_EQ(envelope->type, core::MessageType::binary);
  EXPECT_EQ(envelope->stomp->body, send.body);
  EXPECT_EQ(envelope->stomp->content_type, send.content_type);
  EXPECT_EQ(envelope->stomp->headers, send.headers);
  EXPECT_EQ(envelope->payload, send.body);

  // A SEND published as a /pubsub delivery: the body and the payload differ, both travel.
  const std::string delivery = "{\"type\":\"message\",\"topic\":\"t\",\"data\":\"body\"}";
  const ::duplex::detail::StompSend plain{"body", "", {}};
  const std::string as_delivery = with_parts(delivery, nullptr, &plain);
  envelope = read_envelope(as_delivery);  // its payload is a view into the message
  ASSERT_TRUE(envelope.has_value());
  EXPECT_EQ(envelope->stomp->body, "body");
  EXPECT_EQ(envelope->stomp->content_type, "");
  EXPECT_TRUE(envelope->stomp->headers.empty());
  EXPECT_EQ(envelope->payload, delivery);
}

TEST(ChannelEnvelope, EveryCutOfThePartsIsRefusedOrReadAsAShorterPayload) {
  const auto packet = emit_packet();
  const ::duplex::detail::StompSend send{"b", "text/plain", {{"k", "v"}}};
  const std::string message = with_parts("", &packet, &send);
  const size_t parts_end = message.size();  // the payload is empty: the parts end the message
  for (size_t n = 0; n < parts_end; ++n) {
    EXPECT_FALSE(read_envelope(message.substr(0, n)).has_value()) << n << " bytes";
  }
  const auto whole = read_envelope(message);
  ASSERT_TRUE(whole.has_value());
  expect_same(*whole->socketio, packet);
  EXPECT_EQ(whole->stomp->headers, send.headers);
  EXPECT_EQ(whole->stomp->body, "b");
}

TEST(ChannelEnvelope, ForgedCountsAndFlagsAreRefused) {
  const std::string head = "\x02t\x01\x02\x03\x04\x05\x06\x07\x08"s;
  // A list that claims more items than bytes are left.
  EXPECT_FALSE(read_envelope(head + "\x01\x02" + std::string(8, '\x01') +
                             "\x00\x00\x00\x00\xff\xff\xff\xff"s + std::string(64, 'x'))
                   .has_value());
  // Unknown Socket.IO and STOMP flags.
  EXPECT_FALSE(read_envelope(head + "\x01\x08" + std::string(8, '\x01') + std::string(12, '\0'))
                   .has_value());
  EXPECT_FALSE(read_envelope(head + "\x02\x02" + std::string(12, '\0')).has_value());
  // The same with known flags reads.
  EXPECT_TRUE(read_envelope(head + "\x01\x02"s + std::string(8, '\x01') + std::string(12, '\0'))
                  .has_value());
  EXPECT_TRUE(read_envelope(head + "\x02\x01"s + std::string(8, '\0')).has_value());
}

TEST(RespCommand, PublishBytes) {
  EXPECT_EQ(publish_command("duplex:topic:news", kNode, core::MessageType::text, "hello"),
            "*3\r\n$7\r\nPUBLISH\r\n$17\r\nduplex:topic:news\r\n$16\r\n"
            "\x02t\x01\x02\x03\x04\x05\x06\x07\x08\x00hello\r\n"s);
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
