// The JavaScript clients embedded at build time (CMakeLists.txt) from the npm packages that
// scripts/setup.sh installs, for duplex serve to serve: socket.io-client's dist under
// /socket.io/, sockjs-client's under /sockjs/ and @stomp/stompjs's bundles under /stomp/. A list is
// empty when the build found no such package.
#pragma once

#include <string_view>
#include <vector>

namespace duplex::app {

struct ClientFile {
  std::string_view name;  // "socket.io.js", "sockjs.min.js.map", ...
  std::string_view content;
};

const std::vector<ClientFile>& socketio_client_files();
const std::vector<ClientFile>& sockjs_client_files();
const std::vector<ClientFile>& stomp_client_files();

}  // namespace duplex::app
