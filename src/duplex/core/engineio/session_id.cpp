#include "duplex/core/engineio/session_id.hpp"

#include <algorithm>

namespace duplex::core::engineio {

bool valid_sid(std::string_view sid) {
  return !sid.empty() && sid.size() <= kMaxSidBytes &&
         std::all_of(sid.begin(), sid.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

}  // namespace duplex::core::engineio
