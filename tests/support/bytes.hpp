// Byte strings for tests: bytes({0x81, 0x00}).
#pragma once

#include <initializer_list>
#include <string>

namespace duplex::test {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

}  // namespace duplex::test
