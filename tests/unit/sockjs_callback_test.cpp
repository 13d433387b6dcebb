// The jsonp and htmlfile callback (core/sockjs/callback.hpp). "reference:" notes give what Node's
// sockjs 0.3.24 answers to the same query.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "duplex/core/sockjs/callback.hpp"

namespace duplex::core::sockjs {
namespace {

TEST(SockJsCallback, Names) {
  for (const Transport t : {Transport::jsonp, Transport::htmlfile}) {
    EXPECT_TRUE(is_valid_callback("", t));
    EXPECT_TRUE(is_valid_callback("callback", t));
    EXPECT_TRUE(is_valid_callback("azAZ09-_.", t));
    EXPECT_TRUE(is_valid_callback("_jp.a1b2c3.x", t));
    for (const char* bad : {"a,b", "a b", "a/b", "$", "~", ":", "[", "^", "\\", "`", "a(b)", "a;",
                            "\xC3\xA9", "a\n"}) {
      EXPECT_FALSE(is_valid_callback(bad, t)) << bad;
    }
  }
  EXPECT_FALSE(is_valid_callback(std::string_view("a\0", 2), Transport::jsonp));
  // jsonp takes at most 32 characters; htmlfile has no limit.
  EXPECT_TRUE(is_valid_callback(std::string(32, 'a'), Transport::jsonp));
  EXPECT_FALSE(is_valid_callback(std::string(33, 'a'), Transport::jsonp));
  EXPECT_TRUE(is_valid_callback(std::string(1000, 'a'), Transport::htmlfile));
}

TEST(SockJsCallback, FromTheQuery) {
  const auto name = [](std::string_view query, Transport t = Transport::jsonp) {
    const Callback callback = read_callback(query, t);
    EXPECT_TRUE(callback.ok()) << query << ": " << callback.error;
    return callback.name;
  };
  const auto error = [](std::string_view query, Transport t = Transport::jsonp) {
    const Callback callback = read_callback(query, t);
    EXPECT_FALSE(callback.ok()) << query;
    EXPECT_EQ(callback.name, "");
    return callback.error;
  };
  // sockjs-protocol: jsonp?c=%63allback answers /**/callback("o");
  EXPECT_EQ(name("c=%63allback"), "callback");
  EXPECT_EQ(name("c=x"), "x");
  EXPECT_EQ(name("callback=cb"), "cb");
  EXPECT_EQ(name("t=1&c=cb"), "cb");
  EXPECT_EQ(name("callback=a&c=b"), "b");  // "c" first
  EXPECT_EQ(name("c"), "");                // the reference takes the empty name
  EXPECT_EQ(name("c="), "");
  EXPECT_EQ(name("%63=cb"), "cb");
  // sockjs-protocol: GET .../jsonp (and htmlfile) without it is a 500 with this text.
  EXPECT_EQ(error(""), callback_error::kRequired);
  EXPECT_EQ(error("t=1"), callback_error::kRequired);
  EXPECT_EQ(error("cc=x&callbac=x&C=x"), callback_error::kRequired);
  EXPECT_EQ(error("", Transport::htmlfile), callback_error::kRequired);
  EXPECT_EQ(error("c=a,b"), callback_error::kInvalid);
  EXPECT_EQ(error("c=a%2Cb"), callback_error::kInvalid);
  EXPECT_EQ(error("c=a+b"), callback_error::kInvalid);  // a space
  EXPECT_EQ(error("c=alert(1)"), callback_error::kInvalid);
  EXPECT_EQ(error("c=%zz"), callback_error::kInvalid);
  // reference: a field given twice is an array, which its check reads as "a,b".
  EXPECT_EQ(error("c=a&c=b"), callback_error::kInvalid);
  EXPECT_EQ(error("c=&c="), callback_error::kInvalid);
  EXPECT_EQ(error("callback=a&callback=b"), callback_error::kInvalid);
  EXPECT_EQ(error("c=" + std::string(33, 'a')), callback_error::kInvalid);
  EXPECT_EQ(name("c=" + std::string(33, 'a'), Transport::htmlfile), std::string(33, 'a'));
  // Bytes above 0x7F (which the reference's parser refuses in a request target) stay
  // themselves: "\xC5\xA1" never becomes an 'a' as U+0161 would.
  EXPECT_EQ(error("c=\xC5\xA1%zz"), callback_error::kInvalid);
  EXPECT_EQ(error("c=%C5%A1"), callback_error::kInvalid);
}

}  // namespace
}  // namespace duplex::core::sockjs
