// STOMP version and heart-beat negotiation (core/stomp/version.hpp, heart_beat.hpp), with the
// specification's examples.
#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "duplex/core/stomp/heart_beat.hpp"
#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {
namespace {

using namespace std::literals;

TEST(StompVersion, NamesAndParses) {
  EXPECT_EQ(version_name(Version::v1_0), "1.0");
  EXPECT_EQ(version_name(Version::v1_1), "1.1");
  EXPECT_EQ(version_name(Version::v1_2), "1.2");
  for (const Version v : {Version::v1_0, Version::v1_1, Version::v1_2}) {
    EXPECT_EQ(parse_version(version_name(v)), v);
  }
  for (const std::string_view bad : {""sv, "1"sv, "1.3"sv, "2.1"sv, " 1.2"sv, "1.2 "sv, "v1.2"sv}) {
    EXPECT_EQ(parse_version(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(kSupportedVersions, "1.0,1.1,1.2");
}

TEST(StompVersion, NegotiatesTheHighestCommonVersion) {
  EXPECT_EQ(negotiate_version("1.0,1.1,1.2"sv), Version::v1_2);
  EXPECT_EQ(negotiate_version("1.2,1.1,1.0"sv), Version::v1_2);  // @stomp/stompjs
  EXPECT_EQ(negotiate_version("1.1,1.0"sv), Version::v1_1);
  EXPECT_EQ(negotiate_version("1.0"sv), Version::v1_0);
  EXPECT_EQ(negotiate_version("1.2"sv), Version::v1_2);
  EXPECT_EQ(negotiate_version("1.1,2.1"sv), Version::v1_1);  // the specification's example
  EXPECT_EQ(negotiate_version("2.1,1.0,,"sv), Version::v1_0);
  // No header: a 1.0 client.
  EXPECT_EQ(negotiate_version(std::nullopt), Version::v1_0);
  // Nothing in common: the server refuses with an ERROR frame.
  EXPECT_EQ(negotiate_version(""sv), std::nullopt);
  EXPECT_EQ(negotiate_version("2.0,2.1"sv), std::nullopt);
  EXPECT_EQ(negotiate_version(" 1.1, 1.2"sv), std::nullopt);
}

TEST(StompVersion, ConnectAndConnectedAreEscapedAsOneZero) {
  EXPECT_EQ(escaping_of(Command::connect, Version::v1_2), Version::v1_0);
  EXPECT_EQ(escaping_of(Command::connected, Version::v1_1), Version::v1_0);
  EXPECT_EQ(escaping_of(Command::stomp, Version::v1_2), Version::v1_2);
  EXPECT_EQ(escaping_of(Command::send, Version::v1_1), Version::v1_1);
  EXPECT_EQ(escaping_of(Command::message, Version::v1_0), Version::v1_0);
}

TEST(StompHeartBeat, ParsesTwoNumbers) {
  EXPECT_EQ(parse_heart_beat("10000,10000"), (HeartBeat{10000, 10000}));
  EXPECT_EQ(parse_heart_beat("0,0"), (HeartBeat{0, 0}));
  EXPECT_EQ(parse_heart_beat("0,1000"), (HeartBeat{0, 1000}));
  EXPECT_EQ(parse_heart_beat("007,4294967295"), (HeartBeat{7, 4294967295u}));
  for (const std::string_view bad :
       {""sv, ","sv, "1"sv, "1,"sv, ",1"sv, " 1,2"sv, "1, 2"sv, "1 ,2"sv, "1,2 "sv, "-1,0"sv,
        "+1,0"sv, "1,2,3"sv, "1.5,2"sv, "4294967296,0"sv, "0,99999999999999999999"sv, "a,b"sv}) {
    EXPECT_EQ(parse_heart_beat(bad), std::nullopt) << bad;
  }
}

TEST(StompHeartBeat, NegotiatesEachDirection) {
  // The server wishes to send every 5 s and hear every 10 s.
  const HeartBeat server{5000, 10000};
  // A client that sends every 10 s and wants to hear every 10 s (@stomp/stompjs's defaults).
  EXPECT_EQ(negotiate_heart_beat("10000,10000"sv, server), (HeartBeat{10000, 10000}));
  // MAX of the two wishes in each direction.
  EXPECT_EQ(negotiate_heart_beat("20000,1000"sv, server), (HeartBeat{5000, 20000}));
  EXPECT_EQ(negotiate_heart_beat("1,1"sv, server), (HeartBeat{5000, 10000}));
  // A 0 on either side of a direction turns it off.
  EXPECT_EQ(negotiate_heart_beat("0,1000"sv, server), (HeartBeat{5000, 0}));
  EXPECT_EQ(negotiate_heart_beat("1000,0"sv, server), (HeartBeat{0, 10000}));
  EXPECT_EQ(negotiate_heart_beat("1000,1000"sv, HeartBeat{0, 0}), (HeartBeat{0, 0}));
  EXPECT_EQ(negotiate_heart_beat("1000,1000"sv, HeartBeat{0, 3000}), (HeartBeat{0, 3000}));
  // No header is "0,0".
  EXPECT_EQ(negotiate_heart_beat(std::nullopt, server), (HeartBeat{0, 0}));
  // Malformed.
  EXPECT_EQ(negotiate_heart_beat("10000"sv, server), std::nullopt);
  EXPECT_EQ(negotiate_heart_beat(""sv, server), std::nullopt);
  // A client reads CONNECTED's header the same way: it sends every 10 s to a server that wants
  // 20 s, and hears the server's 5 s beats every 10 s.
  EXPECT_EQ(negotiate_heart_beat("5000,20000"sv, HeartBeat{10000, 10000}),
            (HeartBeat{20000, 10000}));
}

}  // namespace
}  // namespace duplex::core::stomp
