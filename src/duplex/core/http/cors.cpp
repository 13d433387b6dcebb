#include "duplex/core/http/cors.hpp"

#include <algorithm>

#include "duplex/core/http/header_values.hpp"

namespace duplex::core {

namespace {

bool wildcard(const CorsPolicy& policy) {
  return std::find(policy.allowed_origins.begin(), policy.allowed_origins.end(), "*") !=
         policy.allowed_origins.end();
}

bool origin_allowed(const CorsPolicy& policy, std::string_view origin) {
  if (policy.allowed_origins.empty() || origin.empty()) return false;
  return wildcard(policy) || std::find(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                                       origin) != policy.allowed_origins.end();
}

bool contains_ignoring_case(const std::vector<std::string>& list, std::string_view item) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return iequals(s, item); });
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// Allow-Origin (and Vary, Allow-Credentials) for an allowed origin.
void append_origin(const CorsPolicy& policy, std::string_view origin, HeaderList& out) {
  if (wildcard(policy) && !policy.allow_credentials) {
    out.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    out.emplace_back("Vary", "Origin");
  }
  if (policy.allow_credentials) out.emplace_back("Access-Control-Allow-Credentials", "true");
}

}  // namespace

bool is_preflight(const HttpRequest& request) {
  return request.method == "OPTIONS" && request.header("Origin") &&
         request.header("Access-Control-Request-Method");
}

PreflightAnswer answer_preflight(const CorsPolicy& policy, const HttpRequest& request) {
  const std::string_view origin = request.header("Origin").value_or("");
  if (!origin_allowed(policy, origin)) return {403, "origin not allowed", {}};
  const std::string_view method =
      trim_ows(request.header("Access-Control-Request-Method").value_or(""));
  // Methods are case-sensitive (RFC 9110 9.1); GET, HEAD and POST are always allowed.
  const bool simple = method == "GET" || method == "HEAD" || method == "POST";
  if (!simple && std::find(policy.allowed_methods.begin(), policy.allowed_methods.end(), method) ==
                     policy.allowed_methods.end()) {
    return {403, "method not allowed", {}};
  }
  std::string refused;
  for_each_list_element(request.header("Access-Control-Request-Headers").value_or(""),
                        [&](std::string_view name) {
                          if (contains_ignoring_case(policy.allowed_headers, name)) return true;
                          refused = "header not allowed: " + std::string(name);
                          return false;
                        });
  if (!refused.empty()) return {403, refused, {}};
  PreflightAnswer answer{204, "", {}};
  append_origin(policy, origin, answer.headers);
  answer.headers.emplace_back("Access-Control-Allow-Methods", joined(policy.allowed_methods));
  if (!policy.allowed_headers.empty()) {
    answer.headers.emplace_back("Access-Control-Allow-Headers", joined(policy.allowed_headers));
  }
  answer.headers.emplace_back("Access-Control-Max-Age", std::to_string(policy.max_age.count()));
  return answer;
}

void append_cors_headers(const CorsPolicy& policy, const HttpRequest& request, HeaderList& out) {
  if (policy.allowed_origins.empty()) return;
  const std::string_view origin = request.header("Origin").value_or("");
  if (!origin_allowed(policy, origin)) {
    // The answer (no grant) still depends on the origin unless every origin gets "*".
    if (!(wildcard(policy) && !policy.allow_credentials)) out.emplace_back("Vary", "Origin");
    return;
  }
  append_origin(policy, origin, out);
  if (!policy.exposed_headers.empty()) {
    out.emplace_back("Access-Control-Expose-Headers", joined(policy.exposed_headers));
  }
}

namespace {
// "host:port" without the port when it is the scheme's default.
std::string_view without_default_port(std::string_view host, bool secure) {
  const std::string_view port = secure ? ":443" : ":80";
  if (host.size() > port.size() && host.substr(host.size() - port.size()) == port) {
    host.remove_suffix(port.size());
  }
  return host;
}
}  // namespace

bool origin_may_act(const CorsPolicy& policy, const HttpRequest& request, bool secure) {
  const auto origin = request.header("Origin");
  if (!origin) return true;
  if (origin_allowed(policy, *origin)) return true;
  const std::string_view scheme = secure ? "https://" : "http://";
  const auto host = request.header("Host");
  if (!host || origin->substr(0, scheme.size()) != scheme) return false;
  return iequals(without_default_port(origin->substr(scheme.size()), secure),
                 without_default_port(trim_ows(*host), secure));
}

}  // namespace duplex::core
