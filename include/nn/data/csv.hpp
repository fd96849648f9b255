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

// One field of a record: a view into the file's buffer (quoted fields are unescaped in place), and the
// 1-based column of its first character.
struct csv_field {
  std::string_view text;
  std::size_t column;
  bool quoted;
};

// Splits the record starting at `pos` into `fields`, advancing `pos` past its line end and `line` past
// its lines (quoted fields may span lines; `line` is 1-based). A quoted field's doubled quotes are
// collapsed in `text` itself, which never makes it longer, so no field needs memory of its own.
// Returns the column of the record's line end, where a missing field would have started.
inline std::size_t csv_record(const std::string& file, std::string& text, std::size_t& pos, std::size_t& line, char sep,
                              std::vector<csv_field>& fields) {
  fields.clear();
  char* const s = text.data();
  const std::size_t n = text.size();
  std::size_t line_start = pos;
  for (;;) {
    csv_field f{{}, pos - line_start + 1, false};
    if (pos < n && s[pos] == '"') {
      const std::size_t open_line = line, open_column = f.column;
      const std::size_t begin = ++pos;
      std::size_t out = pos;
      for (;;) {
        if (pos == n)
          throw data_error(file, open_line, open_column,
                           "the quote opened here is never closed (expected a closing \" before the end of the file)");
        const char c = s[pos++];
        if (c == '"') {
          if (pos == n || s[pos] != '"') break;
          ++pos;  // "" is one quote
        } else if (c == '\n') {
          ++line;
          line_start = pos;
        }
        s[out++] = c;
      }
      f.text = std::string_view(s + begin, out - begin);
      f.quoted = true;
      if (pos < n && s[pos] != sep && s[pos] != '\n' && s[pos] != '\r')
        throw data_error(file, line, pos - line_start + 1, "text after a closing quote (expected a separator)");
    } else {
      const std::size_t begin = pos;
      while (pos < n) {
        const char c = s[pos];
        if (c == sep || c == '\n' || c == '\r') break;
        if (c == '"')
          throw data_error(file, line, pos - line_start + 1, "a quote inside an unquoted field (quote the whole field)");
        ++pos;
      }
      f.text = std::string_view(s + begin, pos - begin);
    }
    fields.push_back(f);
    if (pos < n && s[pos] == sep) {
      ++pos;
      continue;
    }
    const std::size_t end_column = pos - line_start + 1;
    if (pos < n && s[pos] == '\r') ++pos;
    if (pos < n && s[pos] == '\n') ++pos;
    ++line;
    return end_column;
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The whole file in one buffer, read straight into it: its size is known up front for a regular file.
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw data_error(path, data_error::no_offset, "no such file (expected a CSV file with a header row)");
  std::string text;
  const std::streamoff size = f.tellg();
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    f.seekg(0);
    f.read(text.data(), size);
    text.resize(static_cast<std::size_t>(f.gcount()));
  } else {  // a pipe or a special file: no size, read in chunks
    f.clear();
    f.seekg(0);
    char chunk[1 << 16];
    while (f.read(chunk, sizeof chunk) || f.gcount() > 0) text.append(chunk, static_cast<std::size_t>(f.gcount()));
  }
  if (f.bad()) throw data_error(path, data_error::no_offset, "could not be read");
  return text;
}

inline std::string ordinal(std::size_t n) {
  const char* suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  return std::to_string(n) + suffix;
}

}  // namespace detail

// Reads the numeric columns `opt.columns` (all when empty) of a CSV file with a header row. The file is
// read into one buffer and parsed in place, with std::from_chars; each column's vector is reserved for
// an upper bound on the rows (the line count), so memory peaks near the file's size plus the table's.
inline table read_csv(const std::string& path, const csv_options& opt = {}) {
  std::string text = detail::read_file(path);
  if (text.empty()) throw data_error(path, 1, 0, "the file is empty, expected a header row");

  std::size_t pos = 0, line = 1;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte order mark
  std::vector<detail::csv_field> fields;
  detail::csv_record(path, text, pos, line, opt.separator, fields);
  std::vector<std::string> header;
  for (const auto& f : fields) header.emplace_back(detail::trim(f.text));

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
  const auto max_rows = static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(pos), text.end(), '\n')) + 1;
  for (auto& c : t.columns) c.reserve(max_rows);  // untouched reserved pages cost no memory
  std::vector<std::vector<std::size_t>> missing_rows(pick.size());

  // In a one-column file a blank line is an empty cell, except blank lines that only lead to the end.
  const bool blank_is_cell = header.size() == 1;
  std::size_t content_from = 0;  // blank_is_cell: the first non-blank byte at or after the last blank line
  std::vector<double> row(pick.size());
  while (pos < text.size()) {
    const std::size_t record_line = line, record_pos = pos;
    const std::size_t end_column = detail::csv_record(path, text, pos, line, opt.separator, fields);
    if (fields.size() == 1 && !fields[0].quoted && detail::trim(fields[0].text).empty()) {
      if (!blank_is_cell) continue;
      if (content_from <= record_pos) {
        content_from = record_pos;
        while (content_from < text.size() && std::string_view(" \t\r\n").find(text[content_from]) != std::string_view::npos)
          ++content_from;
      }
      if (content_from == text.size()) break;
    }
    if (fields.size() < header.size()) {
      const std::size_t c = fields.size();
      throw data_error(path, record_line, end_column,
                       "expected " + std::to_string(header.size()) + " fields as in the header, found " +
                           std::to_string(fields.size()) + ": column " + std::to_string(c + 1) + " (\"" + header[c] +
                           "\") is missing");
    }
    if (fields.size() > header.size())
      throw data_error(path, record_line, fields[header.size()].column,
                       "expected " + std::to_string(header.size()) + " fields as in the header, found " +
                           std::to_string(fields.size()) + ": field " + std::to_string(header.size() + 1) +
                           " has no column in the header");
    bool skip = false;
    for (std::size_t c = 0; c < pick.size(); ++c) {
      const detail::csv_field& f = fields[pick[c]];
      const std::string_view cell = detail::trim(f.text);
      double v = std::numeric_limits<double>::quiet_NaN();
      bool missing = cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA";
      if (!missing) {
        const char* first = cell.data();
        const char* const last = first + cell.size();
        if (*first == '+' && cell.size() > 1 && first[1] != '-') ++first;
        const auto [end, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || end != last)
          throw data_error(path, record_line, f.column,
                           "column \"" + header[pick[c]] + "\": expected a number, found \"" + std::string(cell) + "\"");
        missing = std::isnan(v);
      }
      if (missing) {
        if (opt.missing == missing_values::error)
          throw data_error(path, record_line, f.column,
                           "column \"" + header[pick[c]] + "\": the value is missing (choose skip_row or fill_mean to allow it)");
        if (opt.missing == missing_values::skip_row) skip = true;
        else missing_rows[c].push_back(t.columns[c].size());
      }
      row[c] = v;
    }
    if (skip) continue;
    for (std::size_t c = 0; c < pick.size(); ++c) t.columns[c].push_back(row[c]);
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

}  // namespace nn
