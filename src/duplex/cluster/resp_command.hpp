// Internal: Redis commands written in RESP, the protocol's request form (an array of bulk
// strings: "*3\r\n$7\r\nPUBLISH\r\n$4\r\nnews\r\n$5\r\nhello\r\n"), ready for hiredis to queue
// as they are (redisAsyncFormattedCommand), so a payload is copied once on its way out.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace duplex::cluster::detail {

/// Appends the header of a command of `count` arguments.
void append_command_header(std::string& out, size_t count);
/// Appends one argument made of `pieces` laid end to end.
void append_argument(std::string& out, std::initializer_list<std::string_view> pieces);
inline void append_argument(std::string& out, std::string_view argument) {
  append_argument(out, {argument});
}

}  // namespace duplex::cluster::detail
