#include "duplex/core/socketio/json_writer.hpp"

#include <algorithm>
#include <utility>

#include "duplex/core/json/js_number.hpp"
#include "duplex/core/text/json_string.hpp"

namespace duplex::core::socketio {

using json::append_decimal;
using json::append_js_number;
using json::Json;

namespace {

// The array index a key names in JavaScript ("0" to "4294967294", no leading zeros), if any.
bool array_index(const std::string& key, uint32_t& index) {
  if (key.empty() || key.size() > 10 || (key[0] == '0' && key.size() > 1)) return false;
  uint64_t value = 0;
  for (const char c : key) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > 4294967294u) return false;
  index = static_cast<uint32_t>(value);
  return true;
}

class Writer {
 public:
  Writer(std::string& out, std::vector<std::string_view>* buffers)
      : out_(out), buffers_(buffers), next_(buffers ? buffers->size() : 0) {}

  void write(const Json& value) {
    switch (value.type()) {
      case Json::value_t::null:
      case Json::value_t::discarded:
        out_ += "null";
        return;
      case Json::value_t::boolean:
        out_ += value.get<bool>() ? "true" : "false";
        return;
      case Json::value_t::number_integer:
        append_decimal(out_, value.get<Json::number_integer_t>());
        return;
      case Json::value_t::number_unsigned:
        append_decimal(out_, value.get<Json::number_unsigned_t>());
        return;
      case Json::value_t::number_float:
        append_js_number(out_, value.get<Json::number_float_t>());
        return;
      case Json::value_t::string:
        append_json_string(out_, value.get_ref<const Json::string_t&>());
        return;
      case Json::value_t::binary: {
        const auto& bytes = value.get_binary();
        if (buffers_) {
          buffers_->emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        }
        out_ += R"({"_placeholder":true,"num":)";
        append_decimal(out_, next_++);
        out_ += '}';
        return;
      }
      case Json::value_t::array: {
        out_ += '[';
        bool first = true;
        for (const auto& element : value) {
          if (!first) out_ += ',';
          first = false;
          write(element);
        }
        out_ += ']';
        return;
      }
      case Json::value_t::object:
        write_object(value.get_ref<const Json::object_t&>());
        return;
    }
  }

 private:
  void member(bool& first, const std::string& key, const Json& value) {
    if (!first) out_ += ',';
    first = false;
    append_json_string(out_, key);
    out_ += ':';
    write(value);
  }

  void write_object(const Json::object_t& object) {
    out_ += '{';
    bool first = true;
    uint32_t index;
    const bool has_index = std::any_of(object.begin(), object.end(), [&index](const auto& m) {
      return array_index(m.first, index);
    });
    if (!has_index) {
      for (const auto& [key, value] : object) member(first, key, value);
    } else {
      std::vector<std::pair<uint32_t, const Json::object_t::value_type*>> indices;
      for (const auto& m : object) {
        if (array_index(m.first, index)) indices.emplace_back(index, &m);
      }
      std::sort(indices.begin(), indices.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [unused, m] : indices) member(first, m->first, m->second);
      for (const auto& [key, value] : object) {
        if (!array_index(key, index)) member(first, key, value);
      }
    }
    out_ += '}';
  }

  std::string& out_;
  std::vector<std::string_view>* buffers_;
  size_t next_;
};

}  // namespace

void write_json(std::string& out, const Json& value, std::vector<std::string_view>* buffers) {
  Writer(out, buffers).write(value);
}

size_t count_binary(const Json& value) {
  if (value.is_binary()) return 1;
  if (!value.is_array() && !value.is_object()) return 0;
  size_t count = 0;
  for (const auto& element : value) count += count_binary(element);
  return count;
}

}  // namespace duplex::core::socketio
