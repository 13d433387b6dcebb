// server/pubsub/outgoing_message: a published message's STOMP MESSAGE frames. The WebSocket
// frame for subscribers that need no acknowledgement is made once per (subscription id,
// destination, version) and shared, so a publish to many STOMP subscribers encodes once per
// subscription id (stompjs names its first "sub-0" everywhere), never once per subscriber; a
// frame with an ack header of its own is made per subscriber. Exact bytes.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::detail {
namespace {

using namespace std::string_literals;
using core::stomp::Version;

std::shared_ptr<OutgoingMessage> stomp_send(std::string body) {
  auto message = OutgoingMessage::make(body, core::MessageType::text, "news");
  message->set_sequence({.seq = 7, .prev = 0});
  message->set_stomp(std::make_shared<StompSend>(
      StompSend{.body = std::move(body), .content_type = "text/plain", .headers = {{"x-a", "1"}}}));
  return message;
}

// A server's unmasked WebSocket frame of `payload` (shorter than 126 bytes).
std::string ws_frame(uint8_t first_byte, const std::string& payload) {
  return std::string{static_cast<char>(first_byte), static_cast<char>(payload.size())} + payload;
}

TEST(StompMessageEncodings, OneFramePerSubscriptionIdSharedByEverySubscriber) {
  auto message = stomp_send("hello");
  MessageEncodings encodings(*message);
  const std::string sub0 =
      "MESSAGE\nsubscription:sub-0\ndestination:/topic/news\nmessage-id:m-7\n"
      "content-type:text/plain\nx-a:1\ncontent-length:5\n\nhello\0"s;
  const io::SharedBytes& first = encodings.stomp_ws_frame("sub-0", "/topic/news", Version::v1_2);
  EXPECT_EQ(*first, ws_frame(0x81, sub0));
  // 10,000 subscribers, half named sub-0 and half 1: two frames made, each shared.
  std::set<const std::string*> made;
  for (int i = 0; i < 10000; ++i) {
    made.insert(
        encodings.stomp_ws_frame(i % 2 ? "1" : "sub-0", "/topic/news", Version::v1_2).get());
  }
  EXPECT_EQ(made.size(), 2u);
  EXPECT_TRUE(made.count(first.get()));
  const io::SharedBytes& other = encodings.stomp_ws_frame("1", "/topic/news", Version::v1_2);
  EXPECT_EQ(*other, ws_frame(0x81,
                             "MESSAGE\nsubscription:1\ndestination:/topic/news\n"
                             "message-id:m-7\ncontent-type:text/plain\nx-a:1\n"
                             "content-length:5\n\nhello\0"s));
}

TEST(StompMessageEncodings, DestinationAndVersionMakeTheirOwnFrames) {
  auto message = stomp_send("a:b");
  MessageEncodings encodings(*message);
  const std::string* v12 = encodings.stomp_ws_frame("0", "/topic/news", Version::v1_2).get();
  const std::string* v10 = encodings.stomp_ws_frame("0", "/topic/news", Version::v1_0).get();
  const std::string* wild = encodings.stomp_ws_frame("0", "/topic/n:ws", Version::v1_2).get();
  EXPECT_NE(v12, v10);
  EXPECT_NE(v12, wild);
  // 1.2 escapes a colon in a header value, 1.0 does not.
  EXPECT_NE(wild->find("destination:/topic/n\\cws\n"), std::string::npos);
  EXPECT_EQ(encodings.stomp_ws_frame("0", "/topic/n:ws", Version::v1_0)->find("\\c"),
            std::string::npos);
}

TEST(StompMessageEncodings, ABodyThatIsNotUtf8GoesInABinaryFrame) {
  auto message = stomp_send("\xff\0x"s);
  MessageEncodings encodings(*message);
  EXPECT_EQ(*encodings.stomp_ws_frame("0", "/topic/b", Version::v1_2),
            ws_frame(0x82,
                     "MESSAGE\nsubscription:0\ndestination:/topic/b\nmessage-id:m-7\n"
                     "content-type:text/plain\nx-a:1\ncontent-length:3\n\n\xff\0x\0"s));
}

TEST(StompMessageEncodings, AnAcknowledgedFrameIsEachSubscribersOwn) {
  auto message = stomp_send("hi");
  MessageEncodings encodings(*message);
  std::string out;
  encodings.append_stomp_frame(out, "sub-0", "/topic/news", Version::v1_2, "m-7", "42");
  EXPECT_EQ(out,
            "MESSAGE\nsubscription:sub-0\ndestination:/topic/news\nmessage-id:m-7\nack:42\n"
            "content-type:text/plain\nx-a:1\ncontent-length:2\n\nhi\0"s);
  EXPECT_EQ(encodings.stomp_message_id(), "m-7");
}

TEST(StompMessageEncodings, APubsubPublishReachesStompSubscribersAsItsData) {
  // A /pubsub publish (no StompSend): the body is the delivery's data, without its JSON quotes.
  auto message = OutgoingMessage::make(R"({"type":"message","topic":"news","data":"hey"})",
                                       core::MessageType::text, "news");
  message->set_sequence({.seq = 9, .prev = 0});
  MessageEncodings encodings(*message);
  EXPECT_EQ(*encodings.stomp_ws_frame("0", "/topic/news", Version::v1_2),
            ws_frame(0x81,
                     "MESSAGE\nsubscription:0\ndestination:/topic/news\nmessage-id:m-9\n"
                     "content-length:3\n\nhey\0"s));
}

}  // namespace
}  // namespace duplex::detail
