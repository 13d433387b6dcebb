#include "duplex/cluster/resp_command.hpp"

#include <charconv>

namespace duplex::cluster::detail {

namespace {
void append_length_line(std::string& out, char kind, size_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out += kind;
  out.append(digits, end);
  out += "\r\n";
}
}  // namespace

void append_command_header(std::string& out, size_t count) { append_length_line(out, '*', count); }

void append_argument(std::string& out, std::initializer_list<std::string_view> pieces) {
  size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  append_length_line(out, '$', size);
  for (std::string_view piece : pieces) out += piece;
  out += "\r\n";
}

}  // namespace duplex::cluster::detail
