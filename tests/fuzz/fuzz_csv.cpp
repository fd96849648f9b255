// libFuzzer target: any bytes as a CSV file, read with every missing-value policy, and held against
// itself: read_csv through a 1-byte buffer (every record cut at every byte) and through its default
// 1 MiB buffer must give the same table or the same error, and csv_reader, row by row, the same rows or
// the same first error. The first byte chooses the separator (bits 0-1: , ; tab |) and, with bit 2, small
// bounds (8 columns, 16-byte fields, 64-byte records) so that the fuzzer reaches them.
#include <nn/data/csv.hpp>

#include <cstring>
#include <vector>

#include "fuzz.hpp"

namespace {

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

bool same_table(const nn::table& a, const nn::table& b) {
  if (a.names != b.names || a.cols() != b.cols()) return false;
  for (std::size_t c = 0; c < a.cols(); ++c)
    if (!same_values(a.columns[c], b.columns[c])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::uint8_t mode = fuzz::take(in);
  const std::string path = fuzz::file("csv", in);
  nn::csv_options opt;
  opt.separator = ",;\t|"[mode & 3];
  if (mode & 4) {
    opt.limits.csv_columns = 8;
    opt.limits.csv_field_bytes = 16;
    opt.limits.csv_record_bytes = 64;
  }
  for (const auto policy : {nn::missing_values::error, nn::missing_values::skip_row, nn::missing_values::fill_mean}) {
    opt.missing = policy;
    const auto whole = fuzz::run([&] { return nn::read_csv(path, opt); });
    const auto tiny = fuzz::run([&] { return nn::detail::read_csv(path, opt, 1); });
    fuzz::check(whole.ok() == tiny.ok(), "read_csv: a 1-byte buffer and the default disagree on whether the file is good",
                whole.ok() ? "default: good" : whole.error, tiny.ok() ? "1-byte: good" : tiny.error);
    if (!whole.ok()) {
      fuzz::check(whole.error == tiny.error, "read_csv: a 1-byte buffer and the default give different errors",
                  whole.error, tiny.error);
    } else {
      fuzz::check(same_table(*whole.value, *tiny.value), "read_csv: a 1-byte buffer and the default give different tables");
    }
    if (policy == nn::missing_values::fill_mean) continue;  // a stream cannot fill with a mean

    // Row by row, up to the first error: read_csv's rows, or its error.
    std::vector<std::vector<double>> rows;
    const auto streamed = fuzz::run([&] {
      nn::csv_reader r(path, opt);
      std::vector<double> row(r.names().size());
      while (r.next(row)) rows.push_back(row);
      return r.names();
    });
    fuzz::check(streamed.ok() == whole.ok(), "csv_reader and read_csv disagree on whether the file is good",
                streamed.ok() ? "csv_reader: good" : streamed.error, whole.ok() ? "read_csv: good" : whole.error);
    if (!whole.ok()) {
      // read_csv, which keeps the whole table, also suggests fill_mean for a missing value.
      std::string expected = whole.error;
      const std::string tail = " or fill_mean to allow it)";
      if (expected.size() >= tail.size() && expected.compare(expected.size() - tail.size(), tail.size(), tail) == 0)
        expected.erase(expected.size() - tail.size(), 13);
      fuzz::check(streamed.error == expected, "csv_reader and read_csv give different errors", streamed.error, whole.error);
      continue;
    }
    const nn::table& t = *whole.value;
    fuzz::check(*streamed.value == t.names && rows.size() == t.rows(), "csv_reader and read_csv give different shapes");
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t c = 0; c < t.cols(); ++c)
        fuzz::check(std::memcmp(&rows[i][c], &t.columns[c][i], sizeof(double)) == 0,
                    "csv_reader and read_csv give different values");
  }
  return 0;
}
