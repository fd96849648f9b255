// The one exception type for bad data files.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace nn {

// A data file that cannot be used. The message names the file, where in it (a byte offset, or a line
// and column for text), what was expected and what was found.
class data_error : public std::runtime_error {
 public:
  static constexpr std::size_t no_offset = static_cast<std::size_t>(-1);

  data_error(std::string file, std::size_t offset, const std::string& what)
      : std::runtime_error(file + (offset == no_offset ? "" : ": byte " + std::to_string(offset)) + ": " + what),
        file_(std::move(file)),
        offset_(offset),
        problem_(what) {}

  // For text files: "file: line L, column C: what" (both 1-based; column 0 leaves it out).
  data_error(std::string file, std::size_t line, std::size_t column, const std::string& what)
      : std::runtime_error(file + ": line " + std::to_string(line) +
                           (column ? ", column " + std::to_string(column) : std::string()) + ": " + what),
        file_(std::move(file)),
        offset_(no_offset),
        line_(line),
        column_(column),
        problem_(what) {}

  const std::string& file() const noexcept { return file_; }
  std::size_t offset() const noexcept { return offset_; }
  std::size_t line() const noexcept { return line_; }      // 0 for binary files
  std::size_t column() const noexcept { return column_; }  // 0 when not known
  // What was expected and what was found, without the file and the place.
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string file_;
  std::size_t offset_;
  std::size_t line_ = 0, column_ = 0;
  std::string problem_;
};

}  // namespace nn
