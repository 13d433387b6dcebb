// The socket.io-client files embedded at build time (CMakeLists.txt), to serve under
// /socket.io/; empty when the build found no socket.io-client package.
#pragma once

#include <string_view>
#include <vector>

namespace duplex::app {

struct SocketIoClientFile {
  std::string_view name;  // "socket.io.js", "socket.io.min.js.map", ...
  std::string_view content;
};

const std::vector<SocketIoClientFile>& socketio_client_files();

}  // namespace duplex::app
