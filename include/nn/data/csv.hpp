// Reading numeric CSV files into a column-major table: a header row, a configurable separator, quoted
// fields ("a ""b"""), CRLF or LF line ends, and a last line with or without a newline. Empty cells and
// NaN are "missing", handled by the policy the caller picks. Errors name the file, line and column.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <sstream>
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
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
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

// Splits one CSV record starting at `pos` into fields (quotes removed), advancing `pos` past its line end.
// `line` is the 1-based line number of the record's first line; quoted fields may span lines.
inline void csv_record(const std::string& file, std::string_view text, std::size_t& pos, std::size_t& line, char sep,
                       std::vector<std::string>& fields, std::vector<std::size_t>& field_columns) {
  fields.clear();
  field_columns.clear();
  std::string cur;
  std::size_t line_start = pos;
  std::size_t column = 1;
  bool quoted = false, was_quoted = false;
  field_columns.push_back(1);
  while (pos < text.size()) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          cur += '"';
          pos += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c == '\n') {
          ++line;
          line_start = pos + 1;
        }
        cur += c;
      }
      ++pos;
      continue;
    }
    if (c == '"') {
      if (!cur.empty() || was_quoted)
        throw data_error(file, line, pos - line_start + 1, "a quote inside an unquoted field (quote the whole field)");
      quoted = was_quoted = true;
      ++pos;
    } else if (c == sep) {
      fields.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
      ++pos;
      column = pos - line_start + 1;
      field_columns.push_back(column);
    } else if (c == '\n' || c == '\r') {
      ++pos;
      if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
      ++line;
      fields.push_back(std::move(cur));
      return;
    } else {
      if (was_quoted)
        throw data_error(file, line, pos - line_start + 1, "text after a closing quote (expected a separator)");
      cur += c;
      ++pos;
    }
  }
  if (quoted) throw data_error(file, line, 0, "a quoted field is not closed before the end of the file");
  fields.push_back(std::move(cur));
  ++line;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace detail

// Reads the numeric columns `opt.columns` (all when empty) of a CSV file with a header row.
inline table read_csv(const std::string& path, const csv_options& opt = {}) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw data_error(path, data_error::no_offset, "no such file (expected a CSV file with a header row)");
  std::ostringstream buf;
  buf << f.rdbuf();
  const std::string text = buf.str();
  if (text.empty()) throw data_error(path, 1, 0, "the file is empty, expected a header row");

  std::size_t pos = 0, line = 1;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte order mark
  std::vector<std::string> header, fields;
  std::vector<std::size_t> cols;
  detail::csv_record(path, text, pos, line, opt.separator, header, cols);
  for (auto& h : header) h = std::string(detail::trim(h));

  std::vector<std::size_t> pick;
  if (opt.columns.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) pick.push_back(i);
  } else {
    for (const auto& name : opt.columns) {
      std::size_t i = 0;
      while (i < header.size() && header[i] != name) ++i;
      if (i == header.size()) {
        std::string all;
        for (const auto& h : header) all += (all.empty() ? "" : ", ") + h;
        throw data_error(path, 1, 0, "no column \"" + name + "\" in the header; the columns are: " + all);
      }
      pick.push_back(i);
    }
  }
  table t;
  for (std::size_t i : pick) t.names.push_back(header[i]);
  t.columns.resize(pick.size());
  std::vector<std::vector<std::size_t>> missing_rows(pick.size());

  std::vector<double> row(pick.size());
  while (pos < text.size()) {
    const std::size_t record_line = line;
    detail::csv_record(path, text, pos, line, opt.separator, fields, cols);
    if (fields.size() == 1 && detail::trim(fields[0]).empty()) continue;  // blank line
    if (fields.size() != header.size())
      throw data_error(path, record_line, 0, "expected " + std::to_string(header.size()) + " fields as in the header, found " +
                                                 std::to_string(fields.size()));
    bool skip = false;
    for (std::size_t c = 0; c < pick.size(); ++c) {
      const std::string_view cell = detail::trim(fields[pick[c]]);
      double v = std::numeric_limits<double>::quiet_NaN();
      bool missing = cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA";
      if (!missing) {
        const char* first = cell.data();
        if (*first == '+') ++first;
        const auto [end, ec] = std::from_chars(first, cell.data() + cell.size(), v);
        if (ec != std::errc() || end != cell.data() + cell.size())
          throw data_error(path, record_line, cols[pick[c]],
                           "column \"" + header[pick[c]] + "\": expected a number, found \"" + std::string(cell) + "\"");
        missing = std::isnan(v);
      }
      if (missing) {
        if (opt.missing == missing_values::error)
          throw data_error(path, record_line, cols[pick[c]],
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
