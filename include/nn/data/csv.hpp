// Reading numeric CSV files: a header row, a configurable separator, quoted fields ("a ""b"""), CRLF or
// LF line ends, and a last line with or without a newline. Empty cells and NaN are "missing", handled by
// the policy the caller picks. Errors name the file, line and column. Three ways in: `read_csv`, the
// whole file as a column-major `table`; `csv_reader`, one record at a time; `csv_stream`, one (input,
// target) example at a time for online learning, in the memory of the read buffer however large the file.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/data/error.hpp"
#include "nn/data/limits.hpp"
#include "nn/detail/input_file.hpp"
#include "nn/detail/text.hpp"

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
  read_limits limits;                // bounds on fields, records and the wait for a FIFO's writer
  // read_csv only: the rows to keep (0-based, numbering the rows read_csv would return without this,
  // i.e. after skip_row), in any order; empty = all. Every row is still read and checked, and fill_mean
  // takes the mean of the whole column, so each process of a training over several (docs/distributed.md)
  // gets its rows with the values one process would see, and holds only those.
  std::vector<std::size_t> rows;
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
    throw std::out_of_range("nn::table: no column \"" + std::string(name) +
                            "\"; the columns are: " + detail::excerpt_list(names));
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
// record being parsed is ever kept, so memory stays at the buffer's size however large the file is; the
// buffer grows to hold a long record, but never past max_bytes (the reader's bound on a record).
// A vector, not a string: moving it never copies the bytes (no small-string buffer), so the fields of a
// record that a csv_reader holds between calls stay valid when the reader is moved.
class csv_input {
 public:
  // A regular file smaller than the buffer gets a buffer of its size (and a byte, to see its end at once).
  csv_input(const std::string& path, std::size_t buffer_bytes, std::size_t max_bytes, double writer_seconds)
      : file_(path, "a CSV file with a header row", writer_seconds), max_bytes_(std::max<std::size_t>(1, max_bytes)) {
    if (file_.regular() && file_.size() < buffer_bytes) buffer_bytes = static_cast<std::size_t>(file_.size()) + 1;
    buffer_.resize(std::clamp<std::size_t>(buffer_bytes, 1, max_bytes_));
  }
  char* data() noexcept { return buffer_.data(); }
  std::size_t end() const noexcept { return end_; }
  bool eof() const noexcept { return eof_; }
  std::size_t file_size() const noexcept { return static_cast<std::size_t>(file_.size()); }  // 0 when not known (a pipe)
  std::size_t offset() const noexcept { return offset_; }   // of data()[0] in the file

  // Moves [from, end) to the front and reads more after it; doubles the buffer (up to max_bytes) when
  // that record fills it. The caller stops a record before it fills a buffer of max_bytes.
  // The end of the file is a read that comes back short (one that exactly fills the buffer is not).
  void refill(std::size_t from) {
    std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(from), buffer_.begin() + static_cast<std::ptrdiff_t>(end_),
              buffer_.begin());
    end_ -= from;
    offset_ += from;
    if (end_ == buffer_.size()) buffer_.resize(std::min(buffer_.size() * 2, std::max(max_bytes_, buffer_.size())));
    const std::size_t want = buffer_.size() - end_;
    const std::size_t got = file_.read(buffer_.data() + end_, want);
    end_ += got;
    eof_ = got < want;
  }

 private:
  detail::input_file file_;
  std::vector<char> buffer_;
  std::size_t max_bytes_;
  std::size_t end_ = 0, offset_ = 0;
  bool eof_ = false;
};

// Splits the record at s[pos, n) into `fields`, advancing `pos` past its line end and `line` past its
// lines (quoted fields may span lines; `line` is 1-based), and returns the column of its line end, where
// a missing field would have started. Returns 0, changing nothing, when the record may go on past n
// (more input will come unless `eof`). Doubled quotes are collapsed in place once the record is
// complete (never making a field longer), so no field needs memory of its own.
// Every check looks at one byte, in file order: a field's byte past limits.csv_field_bytes, a record's
// byte before its line end past limits.csv_record_bytes, a field past limits.csv_columns, a stray quote.
// So the first error is the same however the buffer cuts the input, and is found as soon as its byte is.
inline std::size_t csv_record(const std::string& file, char* s, std::size_t n, bool eof, std::size_t& pos,
                              std::size_t& line, char sep, const read_limits& limits, std::vector<csv_field>& fields) {
  const auto plus = [](std::size_t a, std::size_t b) { return b > SIZE_MAX - a ? SIZE_MAX : a + b; };
  const std::size_t record_stop = plus(pos, limits.csv_record_bytes);  // the first byte too many
  const auto check_record = [&](std::size_t p) {
    if (p < record_stop) return;
    throw data_error(file, line, 1,
                     "expected a record of at most " + std::to_string(limits.csv_record_bytes) +
                         " bytes before its line end (raise nn::read_limits::csv_record_bytes), found a longer one");
  };
  // Byte p of the field that starts at `begin` (after its opening quote, if any).
  const auto check_field = [&](std::size_t p, std::size_t begin, std::size_t field_line, std::size_t column) {
    check_record(p);
    if (p - begin < limits.csv_field_bytes) return;
    const std::size_t shown = std::min<std::size_t>(limits.csv_field_bytes + 1, 24);
    throw data_error(file, field_line, column,
                     "expected a field of at most " + std::to_string(limits.csv_field_bytes) +
                         " bytes (raise nn::read_limits::csv_field_bytes), found a longer one, starting " +
                         excerpt(std::string_view(s + begin, shown)));
  };
  fields.clear();
  std::size_t p = pos, ln = line, line_start = pos;
  for (;;) {
    csv_field f{{}, p - line_start + 1, false, false};
    if (fields.size() == limits.csv_columns)
      throw data_error(file, ln, f.column,
                       "expected at most " + std::to_string(limits.csv_columns) +
                           " fields in a record (raise nn::read_limits::csv_columns), found more");
    if (p < n && s[p] == '"') {
      check_record(p);
      const std::size_t open_line = ln, open_column = f.column, begin = ++p;
      for (;; ++p) {
        if (p == n) {
          if (!eof) return 0;
          throw data_error(file, open_line, open_column,
                           "the quote opened here is never closed (expected a closing \" before the end of the file)");
        }
        check_record(p);
        if (s[p] == '"') {
          if (p + 1 == n || s[p + 1] != '"') break;  // at n, the check after the field asks for more input
          f.escaped = true;  // "" is one quote, two bytes of the field
          check_field(p, begin, open_line, open_column);
          check_field(++p, begin, open_line, open_column);
        } else {
          check_field(p, begin, open_line, open_column);
          if (s[p] == '\n') {
            ++ln;
            line_start = p + 1;
          }
        }
      }
      f.text = std::string_view(s + begin, p - begin);
      f.quoted = true;
      ++p;
      if (p < n && s[p] != sep && s[p] != '\n' && s[p] != '\r') {
        check_record(p);
        throw data_error(file, ln, p - line_start + 1, "text after a closing quote (expected a separator)");
      }
    } else {
      const std::size_t begin = p;
      for (; p < n && s[p] != sep && s[p] != '\n' && s[p] != '\r'; ++p) {
        check_field(p, begin, ln, f.column);
        if (s[p] == '"')
          throw data_error(file, ln, p - line_start + 1, "a quote inside an unquoted field (quote the whole field)");
      }
      f.text = std::string_view(s + begin, p - begin);
    }
    fields.push_back(f);
    if (p == n && !eof) return 0;
    if (p < n && s[p] == sep) {
      check_record(p++);
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

// How a csv_reader is built: the size its buffer starts at (tests make it tiny, to cut records at every
// byte), and whether the caller keeps the whole table (read_csv): then fill_mean is allowed, its missing
// cells come back as NaN for the caller to fill once every value is known, and the error for a missing
// value may suggest it.
struct csv_reader_config {
  std::size_t buffer_bytes = std::size_t{1} << 20;
  bool whole_table = false;
};

// Streams go through the file once, so a policy that needs the whole column is refused up front.
inline missing_values streamable(missing_values m, const csv_reader_config& config, const char* who) {
  if (m == missing_values::fill_mean && !config.whole_table)
    throw std::invalid_argument(std::string(who) +
                                ": missing_values::fill_mean needs each column's mean over the whole file, which a "
                                "stream reading row by row never has; choose skip_row (or error), or read the file "
                                "with nn::read_csv, which keeps every value");
  return m;
}

// Below csv_reader, whose parsed row it reads in place (a friend).
inline table read_csv(const std::string& path, const csv_options& opt, std::size_t buffer_bytes);

}  // namespace detail

// Reads a CSV file with a header row one record at a time, through one reused buffer: memory is the
// buffer's, whatever the file's size. The columns `opt.columns` (all when empty) are picked by name, in
// that order; each call of next() gives one record's values of them. Missing values follow `opt.missing`
// (error or skip_row; fill_mean needs the whole column and is refused with std::invalid_argument). In a
// one-column file a blank line is a missing cell, unless only blank lines follow it (the file's end).
//
//   nn::csv_reader in("data.csv", opt);
//   std::vector<double> row(in.names().size());
//   while (in.next(row)) use(row);
class csv_reader {
 public:
  explicit csv_reader(const std::string& path, const csv_options& opt = {})
      : csv_reader(path, opt, detail::csv_reader_config{}) {}

  // For read_csv and the tests (see detail::csv_reader_config).
  csv_reader(const std::string& path, const csv_options& opt, const detail::csv_reader_config& config)
      : path_(path),
        missing_(detail::streamable(opt.missing, config, "nn::csv_reader")),
        missing_as_nan_(config.whole_table && opt.missing == missing_values::fill_mean),
        whole_table_(config.whole_table),
        separator_(opt.separator),
        limits_(opt.limits),
        // Room for a record of the largest size and its CRLF: a longer one fails in csv_record first.
        in_(path_, config.buffer_bytes, limits_.csv_record_bytes + 2 * (limits_.csv_record_bytes < SIZE_MAX - 1),
            limits_.fifo_writer_seconds) {
    do in_.refill(0);
    while (in_.end() < 3 && !in_.eof());
    if (in_.end() >= 3 && std::string_view(in_.data(), 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
    while (pos_ == in_.end() && !in_.eof()) {  // a byte order mark that exactly filled the buffer
      in_.refill(pos_);
      pos_ = 0;
    }
    if (pos_ == in_.end()) throw data_error(path_, 1, 0, "the file is empty, expected a header row");
    read_record();
    for (const auto& f : fields_) header_.emplace_back(detail::trim(f.text));

    if (opt.columns.empty()) {
      for (std::size_t i = 0; i < header_.size(); ++i) pick_.push_back(i);
    } else {
      for (const auto& name : opt.columns) {
        std::size_t i = 0;
        while (i < header_.size() && header_[i] != name) ++i;
        if (i == header_.size())
          throw data_error(path_, 1, 0,
                           "no column " + detail::excerpt(name) + " in the header; the columns are: " +
                               detail::excerpt_list(header_));
        pick_.push_back(i);
      }
    }
    for (std::size_t i : pick_) names_.push_back(header_[i]);
    values_.resize(pick_.size());

    // From the lines in the rest of the first buffer and the file's size, before any record moves it on.
    const auto lines = static_cast<std::size_t>(std::count(in_.data() + pos_, in_.data() + in_.end(), '\n'));
    estimated_rows_ = lines + 1;
    if (!in_.eof() && in_.end() > pos_ && in_.file_size() > in_.offset() + in_.end())
      estimated_rows_ = static_cast<std::size_t>(static_cast<double>(in_.file_size() - in_.offset() - pos_) *
                                                 static_cast<double>(lines + 1) / static_cast<double>(in_.end() - pos_) *
                                                 1.25) + 64;
    // Each record takes at least a byte per field (its separators and line end): the reservation never
    // exceeds the file's size in values (for a pipe, the first buffer's), whatever the first lines suggest.
    const std::size_t known = in_.file_size() ? in_.file_size() : in_.offset() + in_.end();
    estimated_rows_ = std::min(estimated_rows_, known / std::max<std::size_t>(1, header_.size()) + 1);
  }

  // Writes the next record's values of the picked columns into `row` (names().size() values, else
  // std::invalid_argument) and returns true; returns false at the end of the file. `row` changes only
  // when true is returned. A data_error (a bad or missing number, a wrong field count, a broken quote)
  // names the file, line and column; after one, next() goes on with the following record if the bad one
  // could be split into fields, and throws again otherwise.
  bool next(std::span<double> row) {
    if (row.size() != values_.size())
      throw std::invalid_argument("nn::csv_reader::next: the row has " + std::to_string(row.size()) +
                                  " values, expected names().size() = " + std::to_string(values_.size()) +
                                  " (one per picked column)");
    if (!next_values()) return false;
    std::copy(values_.begin(), values_.end(), row.begin());
    return true;
  }

  const std::string& path() const noexcept { return path_; }
  const std::vector<std::string>& header() const noexcept { return header_; }  // every column, trimmed
  const std::vector<std::string>& names() const noexcept { return names_; }    // the picked ones, in order
  // The 1-based line the last record given by next() starts on (0 before the first).
  std::size_t line() const noexcept { return row_line_; }
  // The records the file is expected to hold, erring on the large side: the lines in the first buffer
  // scaled up to the file's size (those lines plus one when the buffer holds the whole file, or for a
  // pipe). read_csv reserves that many, since reserved pages that are never touched cost no memory.
  std::size_t estimated_rows() const noexcept { return estimated_rows_; }

 private:
  friend table detail::read_csv(const std::string&, const csv_options&, std::size_t);  // reads values_ in place

  // The next record into fields_; 0 at the end of the file, else the column of the record's line end.
  std::size_t read_record() {
    for (;;) {
      if (pos_ == in_.end() && in_.eof()) return 0;
      if (const std::size_t end_column =
              detail::csv_record(path_, in_.data(), in_.end(), in_.eof(), pos_, line_, separator_, limits_, fields_))
        return end_column;
      in_.refill(pos_);
      pos_ = 0;
    }
  }

  // The next row's values into values_, or false at the end of the file. In a one-column file blank lines
  // are held back (counted) until a line with a value comes; that record is then held in fields_ (its
  // views stay valid: the buffer is not refilled meanwhile) while the blank lines are given first.
  bool next_values() {
    for (;;) {
      if (held_ && blanks_) {
        const std::size_t l = blank_line_++;
        --blanks_;
        const detail::csv_field blank{std::string_view(), 1, false, false};
        if (parse(std::span(&blank, 1), l)) {
          row_line_ = l;
          return true;
        }
        continue;
      }
      std::size_t record_line = 0, end_column = 0;
      if (held_) {
        held_ = false;
        record_line = held_line_;
        end_column = held_end_column_;
      } else {
        record_line = line_;
        end_column = read_record();
        if (!end_column) return false;  // blank lines still counted were the file's end
        if (fields_.size() == 1 && !fields_[0].quoted && detail::trim(fields_[0].text).empty()) {
          if (header_.size() == 1 && blanks_++ == 0) blank_line_ = record_line;
          continue;
        }
        if (blanks_) {
          held_ = true;
          held_line_ = record_line;
          held_end_column_ = end_column;
          continue;
        }
      }
      check_field_count(record_line, end_column);
      if (parse(fields_, record_line)) {
        row_line_ = record_line;
        return true;
      }
    }
  }

  void check_field_count(std::size_t record_line, std::size_t end_column) const {
    if (fields_.size() == header_.size()) return;
    const std::string counts = "expected " + std::to_string(header_.size()) + " fields as in the header, found " +
                               std::to_string(fields_.size());
    if (fields_.size() < header_.size())
      throw data_error(path_, record_line, end_column,
                       counts + ": column " + std::to_string(fields_.size() + 1) + " (" +
                           detail::excerpt(header_[fields_.size()]) + ") is missing");
    throw data_error(path_, record_line, fields_[header_.size()].column,
                     counts + ": field " + std::to_string(header_.size() + 1) + " has no column in the header");
  }

  // The picked cells of `record` into values_; false when a missing value skips the row. Every cell is
  // parsed even then, so a bad number later in a skipped row is still an error.
  bool parse(std::span<const detail::csv_field> record, std::size_t record_line) {
    bool skip = false;
    for (std::size_t c = 0; c < pick_.size(); ++c) {
      const detail::csv_field& f = record[pick_[c]];
      const std::string_view cell = detail::trim(f.text);
      double v = std::numeric_limits<double>::quiet_NaN();
      bool missing = cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA";
      if (!missing) {
        const char* first = cell.data();
        const char* const last = first + cell.size();
        if (*first == '+' && cell.size() > 1 && first[1] != '-') ++first;
        const auto [end, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || end != last)
          throw data_error(path_, record_line, f.column,
                           "column " + detail::excerpt(names_[c]) + ": expected a number, found " + detail::excerpt(cell));
        missing = std::isnan(v);
      }
      if (missing && !missing_as_nan_) {
        if (missing_ == missing_values::error)
          throw data_error(path_, record_line, f.column,
                           "column " + detail::excerpt(names_[c]) + ": the value is missing (choose skip_row" +
                               (whole_table_ ? " or fill_mean" : "") + " to allow it)");
        skip = true;
      }
      values_[c] = v;
    }
    return !skip;
  }

  std::string path_;
  missing_values missing_;
  bool missing_as_nan_, whole_table_;
  char separator_;
  read_limits limits_;
  detail::csv_input in_;
  std::size_t pos_ = 0, line_ = 1;  // where the next record starts: in the buffer, and its line
  std::vector<detail::csv_field> fields_;
  std::vector<std::string> header_, names_;
  std::vector<std::size_t> pick_;  // header index of each picked column
  std::vector<double> values_;     // the last row parsed
  std::size_t estimated_rows_ = 0, row_line_ = 0;
  std::size_t blanks_ = 0, blank_line_ = 0;  // blank lines held back, and the line of the next one
  bool held_ = false;                        // fields_ holds a record to give after the blank lines
  std::size_t held_line_ = 0, held_end_column_ = 0;
};

namespace detail {

// read_csv with a buffer of `buffer_bytes` (tests make it tiny, to cut records at every byte).
inline table read_csv(const std::string& path, const csv_options& opt, std::size_t buffer_bytes) {
  csv_reader in(path, opt, csv_reader_config{buffer_bytes, true});
  table t;
  t.names = in.names();
  t.columns.resize(t.names.size());
  const std::size_t cols = t.cols();
  // The rows asked for, sorted, each kept once (in file order, like the whole table's).
  std::vector<std::size_t> want(opt.rows.begin(), opt.rows.end());
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  const bool all = opt.rows.empty();
  for (auto& c : t.columns) c.reserve(all ? in.estimated_rows() : want.size());
  // fill_mean: each column's sum and count of present values over every row (the reader gives missing
  // cells as NaN, and only those: a NaN in the file counts as missing).
  std::vector<double> sum(cols, 0.0);
  std::vector<std::size_t> present(cols, 0);
  const bool means = opt.missing == missing_values::fill_mean;
  std::size_t row = 0, next = 0;
  while (in.next_values()) {
    if (means)
      for (std::size_t c = 0; c < cols; ++c)
        if (!std::isnan(in.values_[c])) sum[c] += in.values_[c], ++present[c];
    if (all || (next < want.size() && want[next] == row)) {
      for (std::size_t c = 0; c < cols; ++c) t.columns[c].push_back(in.values_[c]);
      ++next;
    }
    ++row;
  }
  if (next < want.size())
    throw std::out_of_range("nn::read_csv: row " + std::to_string(want[next]) + " asked of " + path + ", which has " +
                            std::to_string(row) + " rows");
  if (!means) return t;
  for (std::size_t c = 0; c < cols; ++c) {
    if (present[c] == row) continue;
    if (present[c] == 0)
      throw data_error(path, data_error::no_offset, "column " + excerpt(t.names[c]) + " has no values to take a mean of");
    for (double& v : t.columns[c])
      if (std::isnan(v)) v = sum[c] / static_cast<double>(present[c]);
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

// Examples for online learning, one row at a time from a CSV file whose size need not be known (or fit
// in memory): the named input columns and target columns of each row, as values of T. Memory is the
// reader's buffer and a row of values, whatever the file's size. Satisfies nn's example_stream concept.
//
//   nn::csv_stream<float> s("housing.csv", {"median_income", "total_rooms"}, {"median_house_value"});
//   s.transform("median_house_value", 0, 1000);   // thousands of dollars
//   std::array<float, 2> x; std::array<float, 1> y;
//   while (s.next(x, y)) learn(x, y);
template <class T = float>
class csv_stream {
  static_assert(std::is_floating_point_v<T>, "nn::csv_stream<T>: T must be a floating-point type (float or double)");

 public:
  // The columns come from `inputs` and `targets`, so opt.columns must be empty; missing values follow
  // opt.missing (error or skip_row). Unknown columns are a data_error listing the header's.
  csv_stream(const std::string& path, std::vector<std::string> inputs, std::vector<std::string> targets,
             csv_options opt = {})
      : inputs_(inputs.size()), reader_(path, columns(std::move(inputs), std::move(targets), std::move(opt))) {
    values_.resize(reader_.names().size());
    shift_.assign(values_.size(), 0.0);
    scale_.assign(values_.size(), 1.0);
  }

  std::size_t input_size() const noexcept { return inputs_; }
  std::size_t output_size() const noexcept { return values_.size() - inputs_; }

  // Writes the next row's inputs into x and its targets into y (exactly input_size() and output_size()
  // values, else std::invalid_argument) and returns true; false at the end of the file. Bad values throw
  // data_error with file, line and column when their row is reached.
  bool next(std::span<T> x, std::span<T> y) {
    if (x.size() != input_size() || y.size() != output_size())
      throw std::invalid_argument("nn::csv_stream::next: x has " + std::to_string(x.size()) + " values and y " +
                                  std::to_string(y.size()) + ", expected input_size() = " + std::to_string(input_size()) +
                                  " and output_size() = " + std::to_string(output_size()));
    if (!reader_.next(values_)) return false;
    // "inf", or a number beyond T's range, would reach training and look like divergence.
    const auto value = [&](std::size_t c) {
      const T v = static_cast<T>((values_[c] - shift_[c]) / scale_[c]);
      if (!std::isfinite(v))
        throw data_error(reader_.path(), reader_.line(), 0,
                         "column " + detail::excerpt(reader_.names()[c]) + ": expected a finite number, found " +
                             (std::isfinite(values_[c]) ? std::to_string(values_[c]) + ", which is beyond the range of the "
                                                          "element type after the transform"
                                                        : std::string(values_[c] > 0 ? "inf" : "-inf")));
      return v;
    };
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = value(i);
    for (std::size_t o = 0; o < y.size(); ++o) y[o] = value(inputs_ + o);
    return true;
  }

  // From now on a value v of `column` (an input or a target) is delivered as (v − shift) / scale, computed
  // in double: e.g. z-scores from a mean and standard deviation known beforehand. Replaces an earlier
  // transform of that column; transform(column, 0, 1) undoes it.
  void transform(std::string_view column, double shift, double scale) {
    if (!std::isfinite(shift) || !std::isfinite(scale) || scale == 0)
      throw std::invalid_argument("nn::csv_stream::transform: column \"" + std::string(column) +
                                  "\": shift must be finite and scale finite and non-zero, found shift " +
                                  std::to_string(shift) + ", scale " + std::to_string(scale));
    bool found = false;
    for (std::size_t c = 0; c < values_.size(); ++c)
      if (reader_.names()[c] == column) {
        shift_[c] = shift;
        scale_[c] = scale;
        found = true;
      }
    if (!found)
      throw std::invalid_argument("nn::csv_stream::transform: \"" + std::string(column) +
                                  "\" is neither an input nor a target; they are: " +
                                  detail::excerpt_list(reader_.names()));
  }

  std::size_t line() const noexcept { return reader_.line(); }  // of the last row delivered (0 before)
  const std::string& path() const noexcept { return reader_.path(); }

 private:
  // The reader's options: inputs then targets, checked before the file is opened.
  static csv_options columns(std::vector<std::string> inputs, std::vector<std::string> targets, csv_options opt) {
    const char* const who = "nn::csv_stream";
    detail::streamable(opt.missing, detail::csv_reader_config{}, who);
    if (!opt.columns.empty())
      throw std::invalid_argument(std::string(who) +
                                  ": csv_options::columns must be empty, the columns are the inputs and the targets");
    if (inputs.empty()) throw std::invalid_argument(std::string(who) + ": no input columns");
    if (targets.empty()) throw std::invalid_argument(std::string(who) + ": no target columns");
    for (const auto& t : targets)
      if (std::find(inputs.begin(), inputs.end(), t) != inputs.end())
        throw std::invalid_argument(std::string(who) + ": column \"" + t +
                                    "\" is both an input and a target (a network would learn to copy it)");
    opt.columns = std::move(inputs);
    opt.columns.insert(opt.columns.end(), std::make_move_iterator(targets.begin()), std::make_move_iterator(targets.end()));
    return opt;
  }

  std::size_t inputs_;
  csv_reader reader_;
  std::vector<double> values_, shift_, scale_;  // the row read; each picked column's transform
};

}  // namespace nn
