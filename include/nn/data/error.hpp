// The one exception type for bad data files.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace nn {

// A data file that cannot be used. The message names the file, where in it (a byte offset, or a line
// and column for text), what was expected and what was found.
class data_error : public std::runtime_error {
 public:
  static constexpr std::size_t no_offset = static_cast<std::size_t>(-1);

  data_error(std::string file, std::size_t offset, const std::string& what)
      : std::runtime_error(file + (offset == no_offset ? "" : ": byte " + std::to_string(offset)) + ": " + what),
        file_(std::move(file)),
        offset_(offset) {}

  const std::string& file() const noexcept { return file_; }
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::string file_;
  std::size_t offset_;
};

}  // namespace nn
