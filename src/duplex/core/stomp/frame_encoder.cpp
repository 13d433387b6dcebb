#include "duplex/core/stomp/frame_encoder.hpp"

#include <charconv>

namespace duplex::core::stomp {

void append_command(std::string& out, Command command) {
  out += command_name(command);
  out += '\n';
}

void append_escaped(std::string& out, std::string_view text, Version escaping) {
  const std::string_view special = escaping == Version::v1_2   ? std::string_view("\r\n:\\", 4)
                                   : escaping == Version::v1_1 ? std::string_view("\n:\\", 3)
                                                               : std::string_view();
  size_t from = 0;
  while (true) {
    const size_t at = text.find_first_of(special, from);
    out.append(text.substr(from, at - from));
    if (at == std::string_view::npos) return;
    out += '\\';
    switch (text[at]) {
      case '\r':
        out += 'r';
        break;
      case '\n':
        out += 'n';
        break;
      case ':':
        out += 'c';
        break;
      default:
        out += '\\';
    }
    from = at + 1;
  }
}

void append_header(std::string& out, std::string_view name, std::string_view value,
                   Version escaping) {
  append_escaped(out, name, escaping);
  out += ':';
  append_escaped(out, value, escaping);
  out += '\n';
}

void append_content_length(std::string& out, size_t body_size) {
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body_size);
  out += "content-length:";
  out.append(digits, end);
  out += '\n';
}

void append_frame_end(std::string& out, std::string_view body) {
  out += '\n';
  out += body;
  out += '\0';
}

void append_frame(std::string& out, const Frame& frame, Version version, bool content_length) {
  const Version escaping = escaping_of(frame.command, version);
  append_command(out, frame.command);
  for (const Header& h : frame.headers) append_header(out, h.name, h.value, escaping);
  if ((content_length || frame.body.find('\0') != std::string_view::npos) &&
      !frame.header("content-length")) {
    append_content_length(out, frame.body.size());
  }
  append_frame_end(out, frame.body);
}

}  // namespace duplex::core::stomp
