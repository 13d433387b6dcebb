#include "test_certs.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#ifndef DUPLEX_SOURCE_DIR
#error "DUPLEX_SOURCE_DIR must name the source tree"
#endif

namespace duplex::test {

namespace {
std::string made_dir;
void remove_certs() {
  std::error_code ignored;
  std::filesystem::remove_all(made_dir, ignored);
}
}  // namespace

const std::string& test_certs_dir() {
  static const std::string dir = [] {
    char path[] = "/tmp/duplex_certs_XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    made_dir = path;
    std::atexit(remove_certs);
    const std::string command = std::string("bash '") + DUPLEX_SOURCE_DIR +
                                "/tests/support/make_test_certs.sh' '" + path + "'";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("making test certificates failed: " + command);
    }
    return std::string(path);
  }();
  return dir;
}

std::string test_cert(const std::string& name) { return test_certs_dir() + "/" + name; }

}  // namespace duplex::test
