// Reading numeric CSV files into a column-major table: a header row, a configurable separator, quoted
// fields ("a ""b"""), CRLF or LF line ends, and a last line with or without a newline. Empty cells and
// NaN are "missing", handled by the policy the caller picks. Errors name the file, line and column.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nn/data/error.hpp"

namespace nn {

// What to do with an empty or NaN cell in a selected column.
enum class missing_values {
  error,     // throw data_error naming the cell
  skip_row,  // drop the whole row
  fill_mean  // replace it by the mean of the column's present values
};

struct csv_options {
  char separator = ',';
  missing_values missing = missing_values::error;
  std::vector<std::string> columns;  // columns to keep, by header name, in this order; empty = all
};

// Named numeric columns of equal length.
struct table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;

  std::size_t rows() const noexcept { return columns.empty() ? 0 : columns.front().size(); }
  std::size_t cols() const noexcept { return columns.size(); }
  std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return i;
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "\"" : ", \"") + n + "\"";
    throw std::out_of_range("nn::table: no column \"" + std::string(name) + "\"; the columns are: " + all);
  }
  const std::vector<double>& operator[](std::string_view name) const { return columns[index_of(name)]; }
  std::vector<double>& operator[](std::string_view name) { return columns[index_of(name)]; }
  // Appends a column (e.g. a derived feature).
  void add(std::string name, std::vector<double> values) {
    if (!columns.empty() && values.size() != rows())
      throw std::invalid_argument("nn::table::add: column \"" + name + "\" has " + std::to_string(values.size()) +
                                  " values, the table " + std::to_string(rows()) + " rows");
    names.push_back(std::move(name));
    columns.push_back(std::move(values));
  }
};

namespace detail {

// One field of a record: a view into the input buffer, and the 1-based column of its first character.
struct csv_field {
  std::string_view text;
  std::size_t column;
  bool quoted;
  bool escaped;  // holds doubled quotes, collapsed once the record is complete
};

// The file, read in chunks into one reused buffer: [0, end) holds bytes not yet parsed. Only the
// record being parsed is ever kept, so memory stays at the buffer's size however large the file is.
class csv_input {
 public:
  csv_input(const std::string& path, std::size_t buffer_bytes)
      : file_(path, std::ios::binary | std::ios::ate), buffer_(std::max<std::size_t>(1, buffer_bytes), '\0') {
    if (!file_) throw data_error(path, data_error::no_offset, "no such file (expected a CSV file with a header row)");
    const std::streamoff size = file_.tellg();
    if (size >= 0) size_ = static_cast<std::size_t>(size);
    file_.seekg(0);
    if (!file_) {  // a pipe: no size, and already at its start
      file_.clear();
      size_ = 0;
    }
  }
  char* data() noexcept { return buffer_.data(); }
  std::size_t end() const noexcept { return end_; }
  bool eof() const noexcept { return eof_; }
  std::size_t file_size() const noexcept { return size_; }  // 0 when not known
  std::size_t offset() const noexcept { return offset_; }   // of data()[0] in the file

  // Moves [from, end) to the front and reads more after it; doubles the buffer when that record fills it.
  void refill(std::size_t from) {
    std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(from), buffer_.begin() + static_cast<std::ptrdiff_t>(end_),
              buffer_.begin());
    end_ -= from;
    offset_ += from;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    file_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
    const auto got = static_cast<std::size_t>(file_.gcount());
    end_ += got;
    eof_ = !file_ || got == 0;
  }

 private:
  std::ifstream file_;
  std::string buffer_;
  std::size_t end_ = 0, offset_ = 0, size_ = 0;
  bool eof_ = false;
};

// Splits the record at s[pos, n) into `fields`, advancing `pos` past its line end and `line` past its
// lines (quoted fields may span lines; `line` is 1-based), and returns the column of its line end, where
// a missing field would have started. Returns 0, changing nothing, when the record may go on past n
// (more input will come unless `eof`). Doubled quotes are collapsed in place once the record is
// complete (never making a field longer), so no field needs memory of its own.
inline std::size_t csv_record(const std::string& file, char* s, std::size_t n, bool eof, std::size_t& pos,
                              std::size_t& line, char sep, std::vector<csv_field>& fields) {
  fields.clear();
  std::size_t p = pos, ln = line, line_start = pos;
  for (;;) {
    csv_field f{{}, p - line_start + 1, false, false};
    if (p < n && s[p] == '"') {
      const std::size_t open_line = ln, open_column = f.column, begin = ++p;
      for (;; ++p) {
        if (p == n) {
          if (!eof) return 0;
          throw data_error(file, open_line, open_column,
                           "the quote opened here is never closed (expected a closing \" before the end of the file)");
        }
        if (s[p] == '"') {
          if (p + 1 == n || s[p + 1] != '"') break;  // at n, the check after the field asks for more input
          f.escaped = true;  // "" is one quote
          ++p;
        } else if (s[p] == '\n') {
          ++ln;
          line_start = p + 1;
        }
      }
      f.text = std::string_view(s + begin, p - begin);
      f.quoted = true;
      ++p;
      if (p < n && s[p] != sep && s[p] != '\n' && s[p] != '\r')
        throw data_error(file, ln, p - line_start + 1, "text after a closing quote (expected a separator)");
    } else {
      const std::size_t begin = p;
      for (; p < n && s[p] != sep && s[p] != '\n' && s[p] != '\r'; ++p)
        if (s[p] == '"')
          throw data_error(file, ln, p - line_start + 1, "a quote inside an unquoted field (quote the whole field)");
      f.text = std::string_view(s + begin, p - begin);
    }
    fields.push_back(f);
    if (p == n && !eof) return 0;
    if (p < n && s[p] == sep) {
      ++p;
      continue;
    }
    const std::size_t end_column = p - line_start + 1;
    if (p < n && s[p] == '\r') {
      if (p + 1 == n && !eof) return 0;  // is it CRLF?
      ++p;
    }
    if (p < n && s[p] == '\n') ++p;
    for (auto& g : fields) {
      if (!g.escaped) continue;
      char* const b = s + (g.text.data() - s);
      std::size_t w = 0;
      for (std::size_t r = 0; r < g.text.size(); ++r, ++w) {
        b[w] = b[r];
        r += b[r] == '"';  // the second quote of a pair
      }
      g.text = std::string_view(b, w);
    }
    pos = p;
    line = ln + 1;
    return end_column;
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// read_csv with a buffer of `buffer_bytes` (tests make it tiny, to cut records at every byte).
inline table read_csv(const std::string& path, const csv_options& opt, std::size_t buffer_bytes) {
  csv_input in(path, buffer_bytes);
  do in.refill(0);
  while (in.end() < 3 && !in.eof());
  std::size_t pos = 0, line = 1;
  if (in.end() >= 3 && std::string_view(in.data(), 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 byte order mark
  if (pos == in.end() && in.eof()) throw data_error(path, 1, 0, "the file is empty, expected a header row");
  std::vector<csv_field> fields;
  // The next record into `fields`; 0 at the end of the file, else the column of the record's line end.
  const auto next = [&] {
    for (;;) {
      if (pos == in.end() && in.eof()) return std::size_t{0};
      if (const std::size_t end_column = csv_record(path, in.data(), in.end(), in.eof(), pos, line, opt.separator, fields))
        return end_column;
      in.refill(pos);
      pos = 0;
    }
  };
  next();
  std::vector<std::string> header;
  for (const auto& f : fields) header.emplace_back(trim(f.text));

  std::vector<std::size_t> pick;
  if (opt.columns.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) pick.push_back(i);
  } else {
    for (const auto& name : opt.columns) {
      std::size_t i = 0;
      while (i < header.size() && header[i] != name) ++i;
      if (i == header.size()) {
        std::string all;
        for (const auto& h : header) all += (all.empty() ? "\"" : ", \"") + h + "\"";
        throw data_error(path, 1, 0, "no column \"" + name + "\" in the header; the columns are: " + all);
      }
      pick.push_back(i);
    }
  }
  table t;
  for (std::size_t i : pick) t.names.push_back(header[i]);
  t.columns.resize(pick.size());
  {
    // Reserved pages that are never touched cost no memory, so err on the large side.
    const auto lines = static_cast<std::size_t>(std::count(in.data() + pos, in.data() + in.end(), '\n'));
    std::size_t rows = lines + 1;
    if (!in.eof() && in.end() > pos && in.file_size() > in.offset() + in.end())
      rows = static_cast<std::size_t>(static_cast<double>(in.file_size() - in.offset() - pos) * static_cast<double>(lines + 1) /
                                      static_cast<double>(in.end() - pos) * 1.25) + 64;
    for (auto& c : t.columns) c.reserve(rows);
  }
  std::vector<std::vector<std::size_t>> missing_rows(pick.size());
  std::vector<double> row(pick.size());
  const auto add_row = [&](const std::vector<csv_field>& record, std::size_t record_line) {
    bool skip = false;
    for (std::size_t c = 0; c < pick.size(); ++c) {
      const csv_field& f = record[pick[c]];
      const std::string_view cell = trim(f.text);
      double v = std::numeric_limits<double>::quiet_NaN();
      bool missing = cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA";
      if (!missing) {
        const char* first = cell.data();
        const char* const last = first + cell.size();
        if (*first == '+' && cell.size() > 1 && first[1] != '-') ++first;
        const auto [end, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || end != last)
          throw data_error(path, record_line, f.column,
                           "column \"" + t.names[c] + "\": expected a number, found \"" + std::string(cell) + "\"");
        missing = std::isnan(v);
      }
      if (missing) {
        if (opt.missing == missing_values::error)
          throw data_error(path, record_line, f.column,
                           "column \"" + t.names[c] + "\": the value is missing (choose skip_row or fill_mean to allow it)");
        if (opt.missing == missing_values::skip_row) skip = true;
        else missing_rows[c].push_back(t.columns[c].size());
      }
      row[c] = v;
    }
    if (!skip)
      for (std::size_t c = 0; c < pick.size(); ++c) t.columns[c].push_back(row[c]);
  };

  // In a one-column file a blank line is an empty cell, unless only blank lines follow it: they are
  // held back until a line with a value comes.
  const std::vector<csv_field> blank{{std::string_view(), 1, false, false}};
  std::size_t blanks = 0, first_blank_line = 0;
  for (;;) {
    const std::size_t record_line = line;
    const std::size_t end_column = next();
    if (!end_column) break;
    if (fields.size() == 1 && !fields[0].quoted && trim(fields[0].text).empty()) {
      if (header.size() == 1 && blanks++ == 0) first_blank_line = record_line;
      continue;
    }
    for (std::size_t i = 0; i < blanks; ++i) add_row(blank, first_blank_line + i);
    blanks = 0;
    if (fields.size() != header.size()) {
      const std::string counts = "expected " + std::to_string(header.size()) + " fields as in the header, found " +
                                 std::to_string(fields.size());
      if (fields.size() < header.size())
        throw data_error(path, record_line, end_column,
                         counts + ": column " + std::to_string(fields.size() + 1) + " (\"" + header[fields.size()] + "\") is missing");
      throw data_error(path, record_line, fields[header.size()].column,
                       counts + ": field " + std::to_string(header.size() + 1) + " has no column in the header");
    }
    add_row(fields, record_line);
  }
  for (std::size_t c = 0; c < pick.size(); ++c) {
    if (missing_rows[c].empty()) continue;
    double sum = 0;
    std::size_t n = 0;
    for (double v : t.columns[c])
      if (!std::isnan(v)) sum += v, ++n;
    if (n == 0) throw data_error(path, data_error::no_offset, "column \"" + t.names[c] + "\" has no values to take a mean of");
    for (std::size_t r : missing_rows[c]) t.columns[c][r] = sum / static_cast<double>(n);
  }
  return t;
}

}  // namespace detail

// Reads the numeric columns `opt.columns` (all when empty) of a CSV file with a header row. The file
// goes through one reused 1 MiB buffer and is parsed in place, with std::from_chars; the columns are
// reserved for the rows the first megabyte predicts, so memory peaks near the size of the table.
inline table read_csv(const std::string& path, const csv_options& opt = {}) {
  return detail::read_csv(path, opt, std::size_t{1} << 20);
}

}  // namespace nn
