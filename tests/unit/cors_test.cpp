// core/http/cors: preflight answers and the headers of actual responses, exactly, for listed,
// wildcard and refused origins, with and without credentials.
#include "duplex/core/http/cors.hpp"

#include <gtest/gtest.h>

#include <string>

#include "duplex/core/http/http1_parser.hpp"

namespace duplex::core {
namespace {

// Parses `head` (kept alive by the caller) into a request.
HttpRequest parse(const std::string& head) {
  Http1RequestParser parser;
  HttpRequest request;
  EXPECT_EQ(parser.parse(head, request).status, HttpParseStatus::complete) << head;
  return request;
}

CorsPolicy listed(bool credentials = false) {
  CorsPolicy policy;
  policy.allowed_origins = {"https://app.test"};
  policy.allow_credentials = credentials;
  policy.allowed_methods = {"GET", "POST", "PUT"};
  policy.allowed_headers = {"Content-Type"};
  policy.exposed_headers = {"X-Count"};
  policy.max_age = std::chrono::seconds(60);
  return policy;
}

TEST(Cors, APreflightIsOnlyAnOptionsRequestWithOriginAndRequestMethod) {
  const std::string yes =
      "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: https://app.test\r\n"
      "Access-Control-Request-Method: PUT\r\n\r\n";
  const std::string no_method = "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: https://app.test\r\n\r\n";
  const std::string get =
      "GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://app.test\r\n"
      "Access-Control-Request-Method: PUT\r\n\r\n";
  EXPECT_TRUE(is_preflight(parse(yes)));
  EXPECT_FALSE(is_preflight(parse(no_method)));
  EXPECT_FALSE(is_preflight(parse(get)));
}

TEST(Cors, AGrantedPreflightListsWhatThePolicyAllows) {
  const std::string head =
      "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: https://app.test\r\n"
      "Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: content-type\r\n\r\n";
  const PreflightAnswer answer = answer_preflight(listed(true), parse(head));
  EXPECT_EQ(answer.status, 204);
  EXPECT_EQ(answer.reason, "");
  const HeaderList expected = {{"Access-Control-Allow-Origin", "https://app.test"},
                               {"Vary", "Origin"},
                               {"Access-Control-Allow-Credentials", "true"},
                               {"Access-Control-Allow-Methods", "GET, POST, PUT"},
                               {"Access-Control-Allow-Headers", "Content-Type"},
                               {"Access-Control-Max-Age", "60"}};
  EXPECT_EQ(answer.headers, expected);
}

TEST(Cors, RefusedPreflightsSayWhy) {
  const auto answer = [](const CorsPolicy& policy, const std::string& origin,
                         const std::string& method, const std::string& headers = "") {
    const std::string head =
        "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: " + origin +
        "\r\nAccess-Control-Request-Method: " + method + "\r\n" +
        (headers.empty() ? "" : "Access-Control-Request-Headers: " + headers + "\r\n") + "\r\n";
    const PreflightAnswer a = answer_preflight(policy, parse(head));
    EXPECT_EQ(a.headers.empty(), a.status == 403);
    return std::to_string(a.status) + " " + a.reason;
  };
  EXPECT_EQ(answer(listed(), "https://evil.test", "PUT"), "403 origin not allowed");
  EXPECT_EQ(answer(listed(), "https://app.test.evil", "PUT"), "403 origin not allowed");
  EXPECT_EQ(answer(listed(), "https://app.test", "DELETE"), "403 method not allowed");
  EXPECT_EQ(answer(listed(), "https://app.test", "put"), "403 method not allowed");  // case
  EXPECT_EQ(answer(listed(), "https://app.test", "GET", "content-type, X-Secret"),
            "403 header not allowed: X-Secret");
  EXPECT_EQ(answer(CorsPolicy{}, "https://app.test", "GET"), "403 origin not allowed");
  // Simple methods need not be listed.
  CorsPolicy no_methods = listed();
  no_methods.allowed_methods.clear();
  EXPECT_EQ(answer(no_methods, "https://app.test", "POST"), "204 ");
}

TEST(Cors, ActualResponsesCarryTheGrantOnlyForAllowedOrigins) {
  const auto headers = [](const CorsPolicy& policy, const std::string& origin) {
    const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n" +
                             (origin.empty() ? "" : "Origin: " + origin + "\r\n") + "\r\n";
    HeaderList out;
    append_cors_headers(policy, parse(head), out);
    return out;
  };
  EXPECT_EQ(headers(listed(), "https://app.test"),
            (HeaderList{{"Access-Control-Allow-Origin", "https://app.test"},
                        {"Vary", "Origin"},
                        {"Access-Control-Expose-Headers", "X-Count"}}));
  EXPECT_EQ(headers(listed(true), "https://app.test"),
            (HeaderList{{"Access-Control-Allow-Origin", "https://app.test"},
                        {"Vary", "Origin"},
                        {"Access-Control-Allow-Credentials", "true"},
                        {"Access-Control-Expose-Headers", "X-Count"}}));
  EXPECT_EQ(headers(listed(), "https://evil.test"), (HeaderList{{"Vary", "Origin"}}));
  EXPECT_EQ(headers(listed(), ""), (HeaderList{{"Vary", "Origin"}}));
  EXPECT_EQ(headers(CorsPolicy{}, "https://app.test"), HeaderList{});
  CorsPolicy any;
  any.allowed_origins = {"*"};
  EXPECT_EQ(headers(any, "https://a.test"), (HeaderList{{"Access-Control-Allow-Origin", "*"}}));
  EXPECT_EQ(headers(any, ""), HeaderList{});
  any.allow_credentials = true;  // browsers refuse "*" with credentials: the origin is echoed
  EXPECT_EQ(headers(any, "https://a.test"),
            (HeaderList{{"Access-Control-Allow-Origin", "https://a.test"},
                        {"Vary", "Origin"},
                        {"Access-Control-Allow-Credentials", "true"}}));
}

TEST(Cors, OnlyTheServersOwnOriginAndGrantedOnesMayAct) {
  const auto may_act = [](const CorsPolicy& policy, const std::string& headers, bool secure) {
    return origin_may_act(policy, parse("POST / HTTP/1.1\r\n" + headers + "\r\n"), secure);
  };
  const CorsPolicy none;
  EXPECT_TRUE(may_act(none, "Host: a.test:8080\r\n", false));  // no Origin: not from a page
  EXPECT_TRUE(may_act(none, "Host: a.test:8080\r\nOrigin: http://a.test:8080\r\n", false));
  EXPECT_TRUE(may_act(none, "Host: A.test\r\nOrigin: http://a.test\r\n", false));
  EXPECT_TRUE(may_act(none, "Host: a.test:80\r\nOrigin: http://a.test\r\n", false));
  EXPECT_TRUE(may_act(none, "Host: a.test\r\nOrigin: https://a.test:443\r\n", true));
  EXPECT_FALSE(may_act(none, "Host: a.test:8080\r\nOrigin: http://a.test:9090\r\n", false));
  EXPECT_FALSE(may_act(none, "Host: a.test\r\nOrigin: https://a.test\r\n", false));  // scheme
  EXPECT_FALSE(may_act(none, "Host: a.test\r\nOrigin: http://evil.test\r\n", false));
  EXPECT_FALSE(may_act(none, "Host: a.test\r\nOrigin: null\r\n", false));
  EXPECT_TRUE(may_act(listed(), "Host: a.test\r\nOrigin: https://app.test\r\n", false));
}

}  // namespace
}  // namespace duplex::core
