#include "duplex/core/json/js_number.hpp"

#include <cmath>

namespace duplex::core::json {

void append_js_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {  // -0 too
    out += '0';
    return;
  }
  if (value < 0) {
    out += '-';
    value = -value;
  }
  // The shortest digits that read back to `value`, as d.ddde±x; then JavaScript's layout
  // (ECMA-262 Number::toString): value = 0.<digits> x 10^n.
  char text[40];
  const auto end =
      std::to_chars(text, text + sizeof text, value, std::chars_format::scientific).ptr;
  char digits[20];
  size_t k = 0;
  const char* p = text;
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits[k++] = *p;
  }
  ++p;
  const bool negative_exponent = *p == '-';
  int exponent = 0;
  std::from_chars(p + 1, end, exponent);
  const int n = (negative_exponent ? -exponent : exponent) + 1;
  const int size = static_cast<int>(k);
  if (size <= n && n <= 21) {
    out.append(digits, k);
    out.append(static_cast<size_t>(n - size), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, static_cast<size_t>(n));
    out += '.';
    out.append(digits + n, static_cast<size_t>(size - n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, k);
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, k - 1);
    }
    out += n - 1 < 0 ? "e-" : "e+";
    append_decimal(out, n - 1 < 0 ? 1 - n : n - 1);
  }
}

}  // namespace duplex::core::json
