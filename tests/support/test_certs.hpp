// Throw-away TLS certificates for tests, made once per process with the openssl command
// (tests/support/make_test_certs.sh) in a temporary folder that is removed at exit.
#pragma once

#include <string>

namespace duplex::test {

/// The folder with ca.pem, server.pem/.key, server2, other, client and rogue (see the script).
const std::string& test_certs_dir();
/// test_certs_dir() + "/" + name.
std::string test_cert(const std::string& name);

}  // namespace duplex::test
