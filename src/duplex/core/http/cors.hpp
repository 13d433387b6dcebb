// Cross-origin resource sharing (the Fetch standard's CORS protocol), sans-IO: given a route's
// policy and a request's Origin and Access-Control-Request-* headers, which response headers to
// send, and whether a preflight is granted. Nothing here reads a socket or keeps state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/http/http1_parser.hpp"

namespace duplex::core {

struct CorsPolicy {
  /// Origins granted access, exactly as browsers send them ("https://app.example:8443"); "*"
  /// grants every origin (answered with the origin itself when credentials are allowed, since
  /// browsers refuse "*" with credentials). Empty: no CORS headers, so only same-origin pages
  /// can read the responses. A request from an origin outside the list is still answered, but
  /// without the headers that would let a browser hand the response to the page; a preflight
  /// from one is refused with 403.
  std::vector<std::string> allowed_origins;
  /// Access-Control-Allow-Credentials: cookies and HTTP authentication go with the requests.
  bool allow_credentials = false;
  /// Methods a preflight may ask for (GET, HEAD and POST never need one for simple requests).
  std::vector<std::string> allowed_methods = {"GET", "POST"};
  /// Request headers a preflight may ask for (case-insensitive).
  std::vector<std::string> allowed_headers = {"Content-Type", "Last-Event-ID"};
  /// Response headers the page may read beyond the safelisted ones.
  std::vector<std::string> exposed_headers;
  /// How long a browser may cache a preflight's answer.
  std::chrono::seconds max_age{600};
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// A request is a preflight: OPTIONS with Origin and Access-Control-Request-Method.
bool is_preflight(const HttpRequest& request);

struct PreflightAnswer {
  int status;          // 204 granted, 403 refused
  std::string reason;  // why it was refused (the body), empty when granted
  HeaderList headers;  // Access-Control-Allow-* (and Vary) when granted
};

/// Answers a preflight: granted (204) when the origin, the requested method and every requested
/// header are allowed; else 403 with the first reason ("origin not allowed", "method not
/// allowed", "header not allowed: X-Foo"). With an empty policy every preflight is refused.
PreflightAnswer answer_preflight(const CorsPolicy& policy, const HttpRequest& request);

/// Appends the headers an actual (not preflight) response carries for `request`'s Origin:
/// Access-Control-Allow-Origin (the origin, or "*" for a wildcard policy without credentials),
/// Access-Control-Allow-Credentials, Access-Control-Expose-Headers, and Vary: Origin whenever the
/// answer depends on the origin. Nothing for a request without Origin, an origin not allowed, or
/// an empty policy.
void append_cors_headers(const CorsPolicy& policy, const HttpRequest& request, HeaderList& out);

/// Whether `request` may act on the server's state (a publish, say): true without an Origin
/// header (not a browser page's request), from the server's own origin (the Origin's scheme and
/// host are `secure` and the Host header, default ports ignored), or from an origin `policy`
/// grants. CORS only keeps answers from pages; a simple cross-origin request (a form's POST,
/// say) is sent without asking, so a route that changes anything checks this too.
bool origin_may_act(const CorsPolicy& policy, const HttpRequest& request, bool secure);

}  // namespace duplex::core
