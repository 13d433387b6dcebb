// Numbers written as JavaScript writes them.
#pragma once

#include <charconv>
#include <string>

namespace duplex::core::json {

/// Appends `value` as JavaScript's Number.prototype.toString writes it: the shortest digits that
/// read back to the same double; integral values without ".0" ("100"); exponent form from 1e21
/// up ("1e+21", "1.5e+300") and below 1e-6 ("1e-7", "1.5e-7"); -0 as "0". NaN and the
/// infinities are written "null", as JSON.stringify writes them.
void append_js_number(std::string& out, double value);

/// Appends an integer in decimal (as JSON, and the numbers of packet headers, are written).
template <class Integer>
void append_decimal(std::string& out, Integer value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace duplex::core::json
