// Text for messages and file headers.
#pragma once

#include <cstddef>
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

// Bytes from a file, quoted for a message: at most `max` of them, each printable ASCII byte as itself
// (a quote and a backslash escaped) and any other as \xNN, so that a NUL cannot cut a message short and
// a 100 MB cell makes a line, not a 100 MB message. "\"ab\\x00c\"", or "\"abcd…\" (1048576 bytes)".
inline std::string excerpt(std::string_view bytes, std::size_t max = 40) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    }
  }
  if (bytes.size() <= max) return s + "\"";
  return s + "...\" (" + std::to_string(bytes.size()) + " bytes)";
}

// Names from a file as a message's list, each an excerpt: "\"a\", \"b\"", and after `max` of them
// "… and N more".
template <class Range>
std::string excerpt_list(const Range& names, std::size_t max = 20) {
  std::string all;
  std::size_t n = 0;
  for (const auto& name : names) {
    if (n++ < max) all += (all.empty() ? "" : ", ") + excerpt(name);
  }
  if (n > max) all += ", ... and " + std::to_string(n - max) + " more";
  return all;
}

}  // namespace nn::detail
