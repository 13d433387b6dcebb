#include "duplex/core/http/query_string.hpp"

namespace duplex::core {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string form_decode(std::string_view component) {
  std::string out;
  out.reserve(component.size());
  for (size_t i = 0; i < component.size(); ++i) {
    const char c = component[i];
    if (c == '+') {
      out += ' ';
      continue;
    }
    if (c == '%' && i + 2 < component.size()) {
      const int high = hex_digit(component[i + 1]);
      const int low = hex_digit(component[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

template <class Fn>
void for_each_parameter(std::string_view query, Fn&& fn) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string value =
        eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    if (!fn(form_decode(pair.substr(0, eq)), value)) return;
  }
}

std::optional<std::string> query_parameter(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  for_each_parameter(query, [&](const std::string& key, const std::string& value) {
    if (key != name) return true;
    found = value;
    return false;
  });
  return found;
}

std::vector<std::string> query_parameters(std::string_view query, std::string_view name) {
  std::vector<std::string> found;
  for_each_parameter(query, [&](const std::string& key, const std::string& value) {
    if (key == name) found.push_back(value);
    return true;
  });
  return found;
}

std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for_each_parameter(query, [&](const std::string& key, const std::string& value) {
    pairs.emplace_back(key, value);
    return true;
  });
  return pairs;
}

void form_encode(std::string& out, std::string_view component) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : component) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '*') {
      out += c;
    } else if (u == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
}

}  // namespace duplex::core
