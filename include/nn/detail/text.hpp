// Text for messages and file headers.
#pragma once

#include <string>
#include <string_view>

namespace nn::detail {

// The numbers of a range with a separator between them: join({784, 30, 10}, "-") is "784-30-10".
template <class Range>
std::string join(const Range& numbers, std::string_view separator) {
  std::string s;
  bool first = true;
  for (const auto& n : numbers) {
    if (!first) s += separator;
    first = false;
    s += std::to_string(n);
  }
  return s;
}

}  // namespace nn::detail
