#include "duplex/core/socketio/placeholders.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace duplex::core::socketio {

using json::Json;

namespace {

// The attachment index of a placeholder's num, or -1 when it names none.
int64_t attachment_index(const Json& placeholder, size_t count) {
  const auto num = placeholder.find("num");
  if (num == placeholder.end() || !num->is_number()) return -1;
  double index = -1;
  if (num->is_number_unsigned()) {
    index = static_cast<double>(std::min<uint64_t>(num->get<uint64_t>(), count));
  } else if (num->is_number_integer()) {
    index = static_cast<double>(num->get<int64_t>());
  } else {
    index = num->get<double>();
  }
  if (!(index >= 0) || index >= static_cast<double>(count) || std::floor(index) != index) {
    return -1;
  }
  return static_cast<int64_t>(index);
}

bool is_placeholder(const Json& value) {
  if (!value.is_object()) return false;
  const auto flag = value.find("_placeholder");
  return flag != value.end() && flag->is_boolean() && flag->get<bool>();
}

std::string_view fill(Json& value, std::span<const std::string_view> attachments,
                      std::vector<bool>& used) {
  if (is_placeholder(value)) {
    const int64_t index = attachment_index(value, attachments.size());
    if (index < 0) return reason::kBadPlaceholder;
    const std::string_view bytes = attachments[static_cast<size_t>(index)];
    value = Json::binary(Json::binary_t::container_type(bytes.begin(), bytes.end()));
    used[static_cast<size_t>(index)] = true;
    return {};
  }
  if (value.is_array() || value.is_object()) {
    for (auto& element : value) {
      if (const auto why = fill(element, attachments, used); !why.empty()) return why;
    }
  }
  return {};
}

}  // namespace

std::string_view fill_placeholders(Json& value, std::span<const std::string_view> attachments) {
  std::vector<bool> used(attachments.size());
  if (const auto why = fill(value, attachments, used); !why.empty()) return why;
  for (const bool u : used) {
    if (!u) return reason::kUnusedAttachment;
  }
  return {};
}

Reconstructed reconstruct(std::string_view data, std::span<const std::string_view> attachments) {
  Reconstructed out;
  auto parsed = json::parse_json(data);
  if (!parsed) {
    out.error = reason::kAttachmentDataNotJson;
    return out;
  }
  out.value = std::move(*parsed);
  out.error = fill_placeholders(out.value, attachments);
  return out;
}

}  // namespace duplex::core::socketio
