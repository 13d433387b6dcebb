// libFuzzer target for the Socket.IO codec (core/socketio) and the JSON scanner it uses
// (core/json).
//
// Input: one packet text (inputs that are not UTF-8 are skipped: the transport never hands
// those over). Checked:
// - decode() with and without splitting agree; a valid packet written again from its header
//   and raw data (encode_header) decodes to the same header and data;
// - the scanner agrees with nlohmann::json::accept() on the whole input, but where they are
//   known to differ (JSON.parse takes lone surrogate escapes and numbers beyond a double,
//   nlohmann a leading byte order mark and ends the text at a NUL byte; the depth limit); for
//   arrays, the elements it splits are the elements nlohmann reads, one for one;
// - an event's unescaped name is the string nlohmann reads;
// - write_json() of what nlohmann reads reads back to the same value, and writes the same again;
// - binary packets reassemble with as many attachments as they announce, and their
//   placeholders are filled or refused without a crash.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/binary_reassembler.hpp"
#include "duplex/core/socketio/json_writer.hpp"
#include "duplex/core/socketio/packet_decoder.hpp"
#include "duplex/core/socketio/packet_encoder.hpp"
#include "duplex/core/socketio/placeholders.hpp"
#include "duplex/core/text/utf8.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;
using namespace duplex::core::json;
using namespace duplex::core::socketio;
using duplex::fuzz::check;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A \uD800..\uDFFF escape anywhere (over-broad: also after an escaped backslash).
bool has_surrogate_escape(std::string_view text) {
  for (size_t i = 0; i + 5 < text.size(); ++i) {
    if (text[i] == '\\' && text[i + 1] == 'u' && (text[i + 2] == 'd' || text[i + 2] == 'D') &&
        is_hex(text[i + 3]) && text[i + 3] >= '8') {
      return true;
    }
  }
  return false;
}

// A number that may overflow a double: an exponent of three digits or more, or digits before
// it and its value adding up to 300 or more (288 nines then E43 is past 1.8e308).
bool has_huge_number(std::string_view text) {
  size_t digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      if (++digits >= 300) return true;
      continue;
    }
    if (c == '.') continue;  // the fraction's digits count too: they can only over-count
    if (c == 'e' || c == 'E') {
      size_t j = i + 1;
      if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
      size_t n = 0, exponent = 0;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
        exponent = exponent * 10 + static_cast<size_t>(text[j] - '0');
        ++j, ++n;
      }
      if (n >= 3 || digits + exponent >= 300) return true;
    }
    digits = 0;
  }
  return false;
}

void check_json(std::string_view text) {
  std::vector<std::string_view> elements;
  const JsonScan scan = scan_json(text, &elements);
  const bool accepted = nlohmann::json::accept(text);
  if (scan.error == json_reason::kTooDeep) return;
  if (scan.error.empty() && !accepted) {
    check(has_surrogate_escape(text) || has_huge_number(text));
    return;
  }
  if (!scan.error.empty()) {
    // nlohmann also stops at a NUL byte as at the end of the input.
    check(!accepted || text.substr(0, 3) == "\xEF\xBB\xBF" || text.find('\0') != text.npos);
    return;
  }
  // nlohmann refuses a number past a double's range that its accept() took; so does parse_json.
  const auto parsed = parse_json(text);
  if (!parsed) {
    check(has_huge_number(text));
    return;
  }
  const Json& value = *parsed;
  check(scan.type == JsonType::array ? value.is_array() : !value.is_array());
  check(scan.type == JsonType::object ? value.is_object() : !value.is_object());
  check(scan.type == JsonType::string ? value.is_string() : !value.is_string());
  if (value.is_array()) {
    check(elements.size() == value.size() && scan.size == value.size());
    for (size_t i = 0; i < elements.size(); ++i) {
      check(scan_json(elements[i]).error.empty());
      check(Json::parse(elements[i]) == value[i]);
    }
  } else {
    check(elements.empty());
  }
  // The writer: what it writes reads back to the value (compared as nlohmann::json, whose
  // objects compare without order: the writer puts array-index keys first), and is written the
  // same again.
  std::string written;
  write_json(written, value);
  const auto again = parse_json(written);
  check(again && nlohmann::json::parse(written) == nlohmann::json::parse(text));
  std::string rewritten;
  write_json(rewritten, *again);
  check(rewritten == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!is_valid_utf8(text)) return 0;
  check_json(text);

  PacketArgs args;
  const Decoded plain = decode(text);
  const Decoded split = decode(text, args);
  check(plain.error == split.error);
  if (!plain.ok()) {
    check(args.args.empty() && args.name.empty() && !args.name_is_string);
    return 0;
  }
  const Packet& p = plain.packet;
  check(!p.nsp.empty() && p.nsp[0] == '/' && p.nsp.find(',') == std::string_view::npos);
  check(!p.id || *p.id <= kMaxAckId);
  check(is_binary(p.type) ? p.attachments >= 1 && p.attachments <= 10 : p.attachments == 0);
  if (!p.data.empty()) check_json(p.data);

  std::string again;
  encode_header(again, p.type, p.nsp, p.id, p.attachments);
  again += p.data;
  const Decoded reread = decode(again);
  check(reread.ok());
  check(reread.packet.type == p.type && reread.packet.nsp == p.nsp && reread.packet.id == p.id &&
        reread.packet.attachments == p.attachments && reread.packet.data == p.data);

  if (args.name_is_string && !has_surrogate_escape(args.name_json)) {
    check(Json::parse(args.name_json).get_ref<const std::string&>() == args.name);
  }

  if (is_binary(p.type)) {
    BinaryReassembler reassembler;
    reassembler.start(p);
    Reassembly last;
    for (size_t i = 0; i < p.attachments; ++i) {
      check(reassembler.waiting());
      last = reassembler.add(std::string(i, 'x'));
    }
    check(last.status == ReassemblyStatus::complete && !reassembler.waiting());
    check(last.packet.data == p.data && last.attachments.size() == p.attachments);
    const Reconstructed value = reconstruct(last.packet.data, last.attachments);
    if (value.ok()) {
      std::vector<std::string_view> buffers;
      std::string out;
      write_json(out, value.value, &buffers);
      check(buffers.size() == count_binary(value.value));
    }
  }
  return 0;
}
