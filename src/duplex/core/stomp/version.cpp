#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {

std::string_view version_name(Version version) {
  switch (version) {
    case Version::v1_0:
      return "1.0";
    case Version::v1_1:
      return "1.1";
    case Version::v1_2:
      return "1.2";
  }
  return "1.2";
}

std::optional<Version> parse_version(std::string_view name) {
  if (name == "1.0") return Version::v1_0;
  if (name == "1.1") return Version::v1_1;
  if (name == "1.2") return Version::v1_2;
  return std::nullopt;
}

std::optional<Version> negotiate_version(std::optional<std::string_view> accept_version) {
  if (!accept_version) return Version::v1_0;
  std::optional<Version> best;
  std::string_view rest = *accept_version;
  while (true) {
    const size_t comma = rest.find(',');
    const std::optional<Version> v = parse_version(rest.substr(0, comma));
    if (v && (!best || *v > *best)) best = v;
    if (comma == std::string_view::npos) return best;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace duplex::core::stomp
