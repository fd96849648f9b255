// The CSV reader's edge cases, streaming (csv_reader, csv_stream) against read_csv, and describe() /
// correlation() on tables worked out by hand.
#include <nn/data/stats.hpp>
#include <nn/online.hpp>

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "catch.hpp"
#include "counting_new.hpp"
#include "data_error_of.hpp"

namespace {

std::string write(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "nn_csv_test";
  std::filesystem::create_directories(dir);
  const auto p = (dir / name).string();
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

}  // namespace

TEST_CASE("CSV: header, numbers, quotes, CRLF, no final newline, column choice", "[csv]") {
  const auto p = write("basic.csv", "a,\"b, quoted\",c\r\n1,2.5,-3e2\r\n\"4\",+5,6\n7,8,9");
  const auto t = nn::read_csv(p);
  REQUIRE(t.names == std::vector<std::string>{"a", "b, quoted", "c"});
  REQUIRE(t.rows() == 3);
  REQUIRE(t["a"] == std::vector<double>{1, 4, 7});
  REQUIRE(t["b, quoted"] == std::vector<double>{2.5, 5, 8});
  REQUIRE(t["c"] == std::vector<double>{-300, 6, 9});

  nn::csv_options o;
  o.columns = {"c", "a"};
  const auto picked = nn::read_csv(p, o);
  REQUIRE(picked.names == std::vector<std::string>{"c", "a"});
  REQUIRE(picked.columns[1] == std::vector<double>{1, 4, 7});

  nn::csv_options semi;
  semi.separator = ';';
  const auto s = nn::read_csv(write("semi.csv", "x;y\n1;2\n3;4\n"), semi);
  REQUIRE(s["y"] == std::vector<double>{2, 4});
  try {
    (void)t["nope"];
    FAIL("no column \"nope\"");
  } catch (const std::out_of_range& e) {
    REQUIRE_THAT(e.what(), contains_text("no column \"nope\"; the columns are: \"a\", \"b, quoted\", \"c\""));
  }
}

TEST_CASE("CSV: missing values by policy", "[csv]") {
  const auto p = write("missing.csv", "x,y\n1,10\n,20\n3,NaN\n5,30\n");
  nn::csv_options o;
  SECTION("error names the line and column") {
    const auto e = error_of([&] { nn::read_csv(p, o); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 1);
    REQUIRE_THAT(e.what(), contains_text("line 3, column 1"));
    REQUIRE_THAT(e.what(), contains_text("\"x\""));
  }
  SECTION("skip the row") {
    o.missing = nn::missing_values::skip_row;
    const auto t = nn::read_csv(p, o);
    REQUIRE(t["x"] == std::vector<double>{1, 5});
    REQUIRE(t["y"] == std::vector<double>{10, 30});
  }
  SECTION("fill with the column mean") {
    o.missing = nn::missing_values::fill_mean;
    const auto t = nn::read_csv(p, o);
    REQUIRE(t["x"] == std::vector<double>{1, 3, 3, 5});       // mean of 1, 3, 5
    REQUIRE(t["y"] == std::vector<double>{10, 20, 20, 30});    // mean of 10, 20, 30
  }
  SECTION("missing values in columns not chosen do not matter") {
    o.columns = {"y"};
    REQUIRE_THROWS_AS(nn::read_csv(p, o), nn::data_error);  // y has a NaN
    const auto p2 = write("missing2.csv", "x,y\n1,10\n,20\n");
    REQUIRE(nn::read_csv(p2, o)["y"] == std::vector<double>{10, 20});
  }
}

TEST_CASE("CSV: bad files are errors naming file, line and column", "[csv]") {
  SECTION("wrong column name lists the columns") {
    nn::csv_options o;
    o.columns = {"total_rooms"};
    const auto e = error_of([&] { nn::read_csv(write("cols.csv", "a,b\n1,2\n"), o); });
    REQUIRE(e.line() == 1);
    REQUIRE_THAT(e.what(), contains_text("no column \"total_rooms\""));
    REQUIRE_THAT(e.what(), contains_text("the columns are: \"a\", \"b\""));
  }
  SECTION("a short row names the missing column, where it should start") {
    const auto e = error_of([&] { nn::read_csv(write("ragged.csv", "a,b,c\n1,2,3\n4,5\n")); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 4);
    REQUIRE_THAT(e.what(), contains_text("expected 3 fields as in the header, found 2"));
    REQUIRE_THAT(e.what(), contains_text("column 3 (\"c\") is missing"));
  }
  SECTION("a long row names the extra field") {
    const auto e = error_of([&] { nn::read_csv(write("long.csv", "a,b\n1,2\n3,4,55\n")); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 5);
    REQUIRE_THAT(e.what(), contains_text("expected 2 fields as in the header, found 3"));
    REQUIRE_THAT(e.what(), contains_text("field 3 has no column in the header"));
  }
  SECTION("not a number") {
    const auto e = error_of([&] { nn::read_csv(write("nan.csv", "a,b\n1,2\n3,abc\n")); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 3);
    REQUIRE_THAT(e.what(), contains_text("expected a number, found \"abc\""));
  }
  SECTION("an unclosed quote is reported where it was opened") {
    const auto e = error_of([&] { nn::read_csv(write("quote.csv", "a,b\n1,2\n3,\"4\n5,6\n")); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 3);
    REQUIRE_THAT(e.what(), contains_text("line 3, column 3: the quote opened here is never closed"));
  }
  SECTION("missing and empty files") {
    REQUIRE_THAT(error_of([] { nn::read_csv("/nonexistent/x.csv"); }).what(), contains_text("no such file"));
    REQUIRE_THAT(error_of([&] { nn::read_csv(write("empty.csv", "")); }).what(), contains_text("empty"));
  }
}

TEST_CASE("CSV: doubled quotes and line breaks inside quoted fields", "[csv]") {
  SECTION("\"\" inside quotes is one quote, wherever it stands") {
    const auto t = nn::read_csv(write("escape.csv", R"("say ""hi""","""","x""",plain
1,2,3,4
"5","6","7",8
)"));
    REQUIRE(t.names == std::vector<std::string>{"say \"hi\"", "\"", "x\"", "plain"});
    REQUIRE(t["say \"hi\""] == std::vector<double>{1, 5});
    REQUIRE(t["\""] == std::vector<double>{2, 6});
    REQUIRE(t["x\""] == std::vector<double>{3, 7});
    REQUIRE(t["plain"] == std::vector<double>{4, 8});
  }
  SECTION("a quoted line break (LF or CRLF) moves later line numbers on") {
    const auto p = write("multiline.csv", "\"two\nlines\",\"crlf\r\ninside\"\r\n1,2\r\n3,x\r\n");
    const auto e = error_of([&] { nn::read_csv(p); });
    REQUIRE(e.line() == 5);
    REQUIRE(e.column() == 3);
    nn::csv_options o;
    o.columns = {"two\nlines"};
    const auto t = nn::read_csv(write("multiline2.csv", "\"two\nlines\",\"crlf\r\ninside\"\r\n1,2\r\n3,4\r\n"), o);
    REQUIRE(t["two\nlines"] == std::vector<double>{1, 3});
  }
}

TEST_CASE("CSV: records cut anywhere by the read buffer parse the same", "[csv]") {
  // Quoted line breaks (LF and CRLF), doubled quotes at a field's start and end, CRLF line ends, a blank
  // line and a byte order mark: with a buffer of 1 to 40 bytes every one of them is cut somewhere.
  std::string text = "\xEF\xBB\xBFx,\"note \"\"q\"\"\",y\r\n";
  std::vector<double> xs, ys;
  for (int i = 0; i < 12; ++i) {
    text += std::to_string(i) + ",\"\"\"a\"\"\r\n" + std::string(static_cast<std::size_t>(i), 'b') + "\nc\"\"\"," +
            (i % 3 ? "+" : "\"") + std::to_string(i) + ".5" + (i % 3 ? "" : "\"") + (i % 2 ? "\r\n" : "\n");
    if (i == 5) text += "\r\n";
    xs.push_back(i);
    ys.push_back(i + 0.5);
  }
  const auto p = write("cut.csv", text);
  nn::csv_options o;
  o.columns = {"y", "x"};
  const auto whole = nn::read_csv(p, o);
  REQUIRE(whole.columns == std::vector<std::vector<double>>{ys, xs});
  const auto bad = write("cut_bad.csv", text + "12,\"z\",1.5x\n");
  const auto e = error_of([&] { nn::read_csv(bad, o); });
  REQUIRE(e.line() == 2 + 12 * 3 + 1);  // the header, 3 lines per row, the blank line
  REQUIRE(e.column() == 8);
  const auto one = write("cut_one.csv", "v\r\n1\r\n\r\n\n3\n \n\r\n");
  nn::csv_options fill;
  fill.missing = nn::missing_values::fill_mean;
  REQUIRE(nn::read_csv(one, fill)["v"] == std::vector<double>{1, 2, 2, 3});
  for (std::size_t bytes = 1; bytes <= 40; ++bytes) {
    INFO("buffer of " << bytes << " bytes");
    REQUIRE(nn::detail::read_csv(p, o, bytes).columns == whole.columns);
    REQUIRE(std::string(error_of([&] { nn::detail::read_csv(bad, o, bytes); }).what()) == e.what());
    REQUIRE(nn::detail::read_csv(one, fill, bytes)["v"] == std::vector<double>{1, 2, 2, 3});
  }
}

TEST_CASE("CSV: in a one-column file an empty line is an empty cell", "[csv]") {
  const auto p = write("one.csv", "x\n1\n\n3\n");
  nn::csv_options o;
  const auto e = error_of([&] { nn::read_csv(p, o); });
  REQUIRE(e.line() == 3);
  REQUIRE(e.column() == 1);
  REQUIRE_THAT(e.what(), contains_text("the value is missing"));
  REQUIRE(error_of([&] { nn::read_csv(write("one_quoted.csv", "x\n1\n\"\"\n3\n"), o); }).line() == 3);
  o.missing = nn::missing_values::skip_row;
  REQUIRE(nn::read_csv(p, o)["x"] == std::vector<double>{1, 3});
  o.missing = nn::missing_values::fill_mean;
  REQUIRE(nn::read_csv(p, o)["x"] == std::vector<double>{1, 2, 3});
  // Blank lines at the very end are the file's end, not cells; with several columns blank lines are skipped.
  o.missing = nn::missing_values::error;
  REQUIRE(nn::read_csv(write("one_trailing.csv", "x\n1\n2\n\n\r\n"), o)["x"] == std::vector<double>{1, 2});
  REQUIRE(nn::read_csv(write("two_blank.csv", "a,b\n1,2\n\n3,4\n\n"), o)["b"] == std::vector<double>{2, 4});
}

TEST_CASE("describe() matches statistics worked out by hand", "[stats]") {
  nn::table t;
  t.add("x", {1, 2, 3, 4, 10});
  t.add("c", {7, 7, 7, 7, 7});
  const auto d = nn::describe(t);
  REQUIRE(d[0].count == 5);
  REQUIRE(d[0].mean == Approx(4.0));
  // Σ(x − 4)² = 9 + 4 + 1 + 0 + 36 = 50; sample variance 50 / 4 = 12.5.
  REQUIRE(d[0].std == Approx(std::sqrt(12.5)));
  REQUIRE(d[0].min == 1);
  REQUIRE(d[0].q25 == 2);   // position 0.25·4 = 1
  REQUIRE(d[0].q50 == 3);
  REQUIRE(d[0].q75 == 4);
  REQUIRE(d[0].max == 10);
  nn::table u;
  u.add("y", {1, 2, 3, 4});
  REQUIRE(nn::describe(u)[0].q25 == Approx(1.75));  // position 0.75: 1 + 0.75·(2 − 1)
  REQUIRE(nn::describe(u)[0].q75 == Approx(3.25));
  const std::string text = nn::format_describe(d);
  REQUIRE_THAT(text, contains_text("count"));
  REQUIRE_THAT(text, contains_text("10.0000"));
  REQUIRE_THAT(text, contains_text("3.5355"));  // √12.5
}

TEST_CASE("correlation() matches Pearson's r worked out by hand", "[stats]") {
  nn::table t;
  t.add("x", {1, 2, 3});
  t.add("twice", {2, 4, 6});
  t.add("neg", {3, 2, 1});
  t.add("v", {1, 3, 2});
  t.add("const", {5, 5, 5});
  const auto r = nn::correlation(t);
  REQUIRE(r[0][0] == Approx(1.0));
  REQUIRE(r[0][1] == Approx(1.0));
  REQUIRE(r[0][2] == Approx(-1.0));
  // x − 2 = (−1, 0, 1), v − 2 = (−1, 1, 0): Σ = 1, norms √2 and √2, r = 0.5.
  REQUIRE(r[0][3] == Approx(0.5));
  REQUIRE(r[3][0] == r[0][3]);
  REQUIRE(std::isnan(r[0][4]));
  const std::string text = nn::format_correlation(t, r);
  REQUIRE_THAT(text, contains_text("0.500"));
  REQUIRE_THAT(text, contains_text("-1.000"));
}

namespace {

// The message of the std::invalid_argument that f throws; the test fails if it throws none.
template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("expected std::invalid_argument");
  return {};
}

struct streamed {
  std::vector<std::vector<double>> rows;
  std::vector<std::size_t> lines;  // csv_reader::line() after each row
};

// Every row a csv_reader gives; checks that the end of the file stays the end and leaves the row alone.
streamed read_rows(const std::string& p, const nn::csv_options& o, nn::detail::csv_reader_config config = {}) {
  nn::csv_reader in(p, o, config);
  streamed s;
  std::vector<double> row(in.names().size());
  while (in.next(row)) {
    s.rows.push_back(row);
    s.lines.push_back(in.line());
  }
  REQUIRE_FALSE(in.next(row));
  REQUIRE_FALSE(in.next(row));
  if (!s.rows.empty()) REQUIRE(row == s.rows.back());
  REQUIRE(in.line() == (s.lines.empty() ? 0 : s.lines.back()));
  return s;
}

std::vector<std::vector<double>> rows_of(const nn::table& t) {
  std::vector<std::vector<double>> rows(t.rows(), std::vector<double>(t.cols()));
  for (std::size_t c = 0; c < t.cols(); ++c)
    for (std::size_t r = 0; r < t.rows(); ++r) rows[r][c] = t.columns[c][r];
  return rows;
}

// The cut.csv of the buffer test above: quoted LF and CRLF line breaks, doubled quotes, CRLF line ends, a
// blank line, a byte order mark.
std::string cut_text() {
  std::string text = "\xEF\xBB\xBFx,\"note \"\"q\"\"\",y\r\n";
  for (int i = 0; i < 12; ++i) {
    text += std::to_string(i) + ",\"\"\"a\"\"\r\n" + std::string(static_cast<std::size_t>(i), 'b') + "\nc\"\"\"," +
            (i % 3 ? "+" : "\"") + std::to_string(i) + ".5" + (i % 3 ? "" : "\"") + (i % 2 ? "\r\n" : "\n");
    if (i == 5) text += "\r\n";
  }
  return text;
}

nn::csv_options columns(std::vector<std::string> names, nn::missing_values m = nn::missing_values::error) {
  nn::csv_options o;
  o.columns = std::move(names);
  o.missing = m;
  return o;
}

}  // namespace

// What nn::online_trainer reads examples through.
static_assert(nn::example_stream<nn::csv_stream<float>, float>);
static_assert(nn::example_stream<nn::csv_stream<double>, double>);
static_assert(nn::example_stream<nn::csv_stream<>, float>);

TEST_CASE("csv_reader: quotes, CRLF, blank lines and skip_row, row by row with their lines", "[csv][stream]") {
  const auto p = write("stream_mixed.csv",
                       "\xEF\xBB\xBF"
                       "id,\"note\",val,w\r\n"              // line 1
                       "1,\"two\r\nlines\",0.5,10\r\n"      // 2-3
                       "\r\n"                               // 4: blank, skipped (several columns)
                       "2,\"say \"\"hi\"\"\",,20\r\n"       // 5: val missing, skipped
                       "3,plain,NaN,30\n"                   // 6: val NaN, skipped
                       "\n"                                 // 7
                       "4,\"a\nb\nc\",\" 1.25 \",\"40\"\r\n"  // 8-10
                       "5,,2,\r\n"                          // 11: w missing, skipped
                       "6,\"\",-3,+60");                    // 12, no final newline
  const auto o = columns({"w", "val", "id"}, nn::missing_values::skip_row);
  const std::vector<std::vector<double>> rows{{10, 0.5, 1}, {40, 1.25, 4}, {60, -3, 6}};
  const std::vector<std::size_t> lines{2, 8, 12};
  REQUIRE(rows_of(nn::read_csv(p, o)) == rows);
  for (std::size_t bytes : {std::size_t{1} << 20, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                            std::size_t{7}, std::size_t{11}, std::size_t{16}, std::size_t{29}}) {
    INFO("buffer of " << bytes << " bytes");
    const auto s = read_rows(p, o, {bytes});
    REQUIRE(s.rows == rows);
    REQUIRE(s.lines == lines);
  }
  nn::csv_reader in(p, o);
  REQUIRE(in.header() == std::vector<std::string>{"id", "note", "val", "w"});
  REQUIRE(in.names() == std::vector<std::string>{"w", "val", "id"});
  REQUIRE(in.path() == p);
  REQUIRE(in.line() == 0);
}

TEST_CASE("csv_reader: the rows read_csv gives, in order, for every file and a buffer cut at every byte", "[csv][stream]") {
  const std::vector<std::pair<std::string, nn::csv_options>> files{
      {write("stream_basic.csv", "a,\"b, quoted\",c\r\n1,2.5,-3e2\r\n\"4\",+5,6\n7,8,9"), {}},
      {write("stream_basic2.csv", "a,\"b, quoted\",c\r\n1,2.5,-3e2\r\n\"4\",+5,6\n7,8,9"), columns({"c", "a"})},
      {write("stream_semi.csv", "x;y\n1;2\n3;4\n"), nn::csv_options{';', nn::missing_values::error, {}, {}, {}}},
      {write("stream_missing.csv", "x,y\n1,10\n,20\n3,NaN\n5,30\n"), columns({}, nn::missing_values::skip_row)},
      {write("stream_missing2.csv", "x,y\n1,10\n,20\n"), columns({"y"})},
      {write("stream_escape.csv", "\"say \"\"hi\"\"\",\"\"\"\",\"x\"\"\",plain\n1,2,3,4\n\"5\",\"6\",\"7\",8\n"), {}},
      {write("stream_multiline.csv", "\"two\nlines\",\"crlf\r\ninside\"\r\n1,2\r\n3,4\r\n"), columns({"two\nlines"})},
      {write("stream_cut.csv", cut_text()), columns({"y", "x"})},
      {write("stream_one.csv", "v\r\n1\r\n\r\n\n3\n \n\r\n"), columns({}, nn::missing_values::skip_row)},
      {write("stream_one_trailing.csv", "x\n1\n2\n\n\r\n"), {}},
      {write("stream_two_blank.csv", "a,b\n1,2\n\n3,4\n\n"), {}},
      {write("stream_header_only.csv", "a,b\r\n"), {}},
      {write("stream_skip_last.csv", "x,y\n1,2\n3,\n"), columns({}, nn::missing_values::skip_row)},
  };
  for (const auto& [p, o] : files) {
    INFO(p);
    const auto expected = rows_of(nn::read_csv(p, o));
    REQUIRE(read_rows(p, o).rows == expected);
    for (std::size_t bytes = 1; bytes <= 40; ++bytes) {
      INFO("buffer of " << bytes << " bytes");
      REQUIRE(read_rows(p, o, {bytes}).rows == expected);
    }
  }
  // Spot checks that the comparison is not between two empty answers.
  REQUIRE(read_rows(files[7].first, files[7].second).rows.size() == 12);
  REQUIRE(read_rows(files[8].first, files[8].second).rows == std::vector<std::vector<double>>{{1}, {3}});
}

TEST_CASE("csv_reader: for read_csv's fill_mean, missing cells come back as NaN", "[csv][stream]") {
  // The one-column file of the buffer test: blank lines inside are cells, those at the end are not.
  const auto p = write("stream_fill.csv", "v\r\n1\r\n\r\n\n3\n \n\r\n");
  nn::csv_options o;
  o.missing = nn::missing_values::fill_mean;
  for (std::size_t bytes = 1; bytes <= 24; ++bytes) {
    INFO("buffer of " << bytes << " bytes");
    nn::csv_reader in(p, o, {bytes, true});
    std::array<double, 1> v{};
    std::vector<double> got;
    std::vector<std::size_t> lines;
    while (in.next(v)) {
      got.push_back(v[0]);
      lines.push_back(in.line());
    }
    REQUIRE(got.size() == 4);
    REQUIRE(got[0] == 1);
    REQUIRE(std::isnan(got[1]));
    REQUIRE(std::isnan(got[2]));
    REQUIRE(got[3] == 3);
    REQUIRE(lines == std::vector<std::size_t>{2, 3, 4, 5});
  }
  // Moved between a blank line and the record after it, which it holds in its buffer meanwhile.
  auto first = std::make_unique<nn::csv_reader>(p, o, nn::detail::csv_reader_config{8, true});
  std::array<double, 1> v{};
  REQUIRE(first->next(v));
  REQUIRE(first->next(v));
  REQUIRE(std::isnan(v[0]));
  nn::csv_reader moved = std::move(*first);
  first.reset();
  REQUIRE(moved.next(v));
  REQUIRE(std::isnan(v[0]));
  REQUIRE(moved.next(v));
  REQUIRE(v[0] == 3);
  REQUIRE(moved.line() == 5);
  REQUIRE_FALSE(moved.next(v));
}

TEST_CASE("csv_reader: a bad cell in the middle is reported with file, line and column when its row is reached",
          "[csv][stream]") {
  std::string text = "a,b,c\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(i) + "," + (i == 500 ? "1.5x" : "2") + ",3\n";
  const auto p = write("stream_bad_middle.csv", text);
  const std::string message = error_of([&] { nn::read_csv(p); }).what();
  REQUIRE_THAT(message, contains_text("stream_bad_middle.csv: line 502, column 5: column \"b\": expected a number, found \"1.5x\""));
  for (std::size_t bytes : {std::size_t{1} << 20, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
    INFO("buffer of " << bytes << " bytes");
    nn::csv_reader in(p, {}, {bytes});
    // What read_csv reserves: the lines after the header plus one when the buffer holds the whole file,
    // else scaled up from the first buffer's lines.
    if (bytes == std::size_t{1} << 20) REQUIRE(in.estimated_rows() == 1001);
    if (bytes == 64) REQUIRE(in.estimated_rows() >= 1000);
    std::array<double, 3> row{};
    std::size_t rows = 0;
    for (; rows < 500; ++rows) REQUIRE(in.next(row));
    REQUIRE(row == std::array<double, 3>{499, 2, 3});
    REQUIRE(in.line() == 501);
    const auto e = error_of([&] { in.next(row); });
    REQUIRE(e.file() == p);
    REQUIRE(e.line() == 502);
    REQUIRE(e.column() == 5);
    REQUIRE(std::string(e.what()) == message);
    REQUIRE(row == std::array<double, 3>{499, 2, 3});  // untouched by the failed call
    // The bad record could be split into fields, so reading goes on after it.
    REQUIRE(in.next(row));
    REQUIRE(row == std::array<double, 3>{501, 2, 3});
    REQUIRE(in.line() == 503);
  }
  // A missing value and a short row, in the middle too.
  const auto q = write("stream_bad_middle2.csv", "a,b\n1,2\n3,\n5\n7,8\n");
  nn::csv_reader in(q);
  std::array<double, 2> row{};
  REQUIRE(in.next(row));
  const auto missing = error_of([&] { in.next(row); });
  REQUIRE(missing.line() == 3);
  REQUIRE(missing.column() == 3);
  REQUIRE_THAT(missing.what(), contains_text("the value is missing (choose skip_row to allow it)"));
  const auto short_row = error_of([&] { in.next(row); });
  REQUIRE(short_row.line() == 4);
  REQUIRE_THAT(short_row.what(), contains_text("column 2 (\"b\") is missing"));
  REQUIRE(in.next(row));
  REQUIRE(row == std::array<double, 2>{7, 8});
}

TEST_CASE("csv_reader: unknown columns, wrong row sizes and fill_mean are refused", "[csv][stream]") {
  const auto p = write("stream_refused.csv", "a,b\n1,2\n3,4\n");
  const auto e = error_of([&] { nn::csv_reader in(p, columns({"a", "total_rooms"})); });
  REQUIRE(e.line() == 1);
  REQUIRE_THAT(e.what(), contains_text("no column \"total_rooms\" in the header; the columns are: \"a\", \"b\""));

  nn::csv_reader in(p, columns({"b"}));
  std::array<double, 2> two{};
  REQUIRE_THAT(invalid_argument_of([&] { in.next(two); }), contains_text("the row has 2 values, expected names().size() = 1"));
  std::array<double, 1> one{};
  REQUIRE(in.next(one));  // the refused call read nothing
  REQUIRE(one[0] == 2);

  nn::csv_options fill;
  fill.missing = nn::missing_values::fill_mean;
  const auto why = invalid_argument_of([&] { nn::csv_reader r(p, fill); });
  REQUIRE_THAT(why, contains_text("nn::csv_reader: missing_values::fill_mean needs each column's mean over the whole file"));
  REQUIRE_THAT(why, contains_text("choose skip_row"));
  REQUIRE_THAT(why, contains_text("nn::read_csv"));
  // Refused before the file is opened.
  REQUIRE_THAT(invalid_argument_of([&] { nn::csv_reader r("/nonexistent/x.csv", fill); }), contains_text("fill_mean"));
}

TEST_CASE("csv_stream: inputs and targets in the order asked, transformed, row by row", "[csv][stream]") {
  const auto p = write("stream_xy.csv", "a,b,c,d\n1,2,3,4\n5,6,7,8\n\n9,10,11,12\n");
  nn::csv_stream<float> s(p, {"c", "a"}, {"d"});
  REQUIRE(s.input_size() == 2);
  REQUIRE(s.output_size() == 1);
  REQUIRE(s.path() == p);
  REQUIRE(s.line() == 0);
  s.transform("a", 1, 2);
  s.transform("d", 4, -0.5);
  std::array<float, 2> x{};
  std::array<float, 1> y{};
  REQUIRE(s.next(x, y));
  REQUIRE(x == std::array<float, 2>{3, 0});  // c, then (1 − 1) / 2
  REQUIRE(y[0] == 0);                          // (4 − 4) / −0.5
  REQUIRE(s.line() == 2);
  s.transform("c", 7, 0.25);  // from the next row on
  REQUIRE(s.next(x, y));
  REQUIRE(x == std::array<float, 2>{0, 2});
  REQUIRE(y[0] == -8);
  REQUIRE(s.line() == 3);
  s.transform("c", 0, 1);  // undone
  REQUIRE(s.next(x, y));
  REQUIRE(x == std::array<float, 2>{11, 4});
  REQUIRE(y[0] == -16);
  REQUIRE(s.line() == 5);
  REQUIRE_FALSE(s.next(x, y));
  REQUIRE_FALSE(s.next(x, y));
  REQUIRE(s.line() == 5);

  // Values are converted to T once, after the transform in double.
  nn::csv_stream<double> d(write("stream_xy_double.csv", "t,u\n0.1,3\n"), {"t"}, {"u"});
  d.transform("u", 1, 3);
  std::array<double, 1> dx{}, dy{};
  REQUIRE(d.next(dx, dy));
  REQUIRE(dx[0] == 0.1);
  REQUIRE(dy[0] == 2.0 / 3.0);
  nn::csv_stream<float> f(write("stream_xy_float.csv", "t,u\n0.1,3\n"), {"t"}, {"u"});
  f.transform("u", 1, 3);
  std::array<float, 1> fx{}, fy{};
  REQUIRE(f.next(fx, fy));
  REQUIRE(fx[0] == 0.1f);
  REQUIRE(fy[0] == static_cast<float>(2.0 / 3.0));

  // skip_row looks at the stream's columns only.
  nn::csv_options skip;
  skip.missing = nn::missing_values::skip_row;
  nn::csv_stream<float> k(write("stream_xy_skip.csv", "a,b,c\n1,,3\n4,5,\n,7,8\n"), {"c"}, {"a"}, skip);
  std::array<float, 1> kx{}, ky{};
  REQUIRE(k.next(kx, ky));
  REQUIRE(kx[0] == 3);
  REQUIRE(ky[0] == 1);
  REQUIRE(k.line() == 2);
  REQUIRE_FALSE(k.next(kx, ky));
}

TEST_CASE("csv_stream: bad cells, unknown columns, a column both input and target, wrong sizes and bad transforms",
          "[csv][stream]") {
  std::string text = "x1,x2,y\n";
  for (int i = 0; i < 300; ++i) text += "1," + std::string(i == 200 ? "" : "2") + ",3\r\n";
  const auto p = write("stream_xy_bad.csv", text);
  nn::csv_stream<float> s(p, {"x1", "x2"}, {"y"});
  std::array<float, 2> x{};
  std::array<float, 1> y{};
  for (int i = 0; i < 200; ++i) REQUIRE(s.next(x, y));
  const auto e = error_of([&] { s.next(x, y); });
  REQUIRE(e.file() == p);
  REQUIRE(e.line() == 202);
  REQUIRE(e.column() == 3);
  REQUIRE_THAT(e.what(), contains_text("column \"x2\": the value is missing (choose skip_row to allow it)"));
  REQUIRE(s.line() == 201);

  const auto small = write("stream_xy_small.csv", "a,b,c\n1,2,3\n");
  const auto unknown = error_of([&] { nn::csv_stream<float> t(small, {"a"}, {"price"}); });
  REQUIRE(unknown.line() == 1);
  REQUIRE_THAT(unknown.what(), contains_text("no column \"price\" in the header; the columns are: \"a\", \"b\", \"c\""));
  REQUIRE_THAT(error_of([&] { nn::csv_stream<float> t(small, {"a", "nope"}, {"c"}); }).what(), contains_text("no column \"nope\""));

  // Argument errors come before the file is opened.
  REQUIRE_THAT(invalid_argument_of([] { nn::csv_stream<float> t("/nonexistent/x.csv", {"a", "b"}, {"c", "b"}); }),
               contains_text("nn::csv_stream: column \"b\" is both an input and a target"));
  REQUIRE_THAT(invalid_argument_of([] { nn::csv_stream<float> t("/nonexistent/x.csv", {}, {"c"}); }),
               contains_text("no input columns"));
  REQUIRE_THAT(invalid_argument_of([] { nn::csv_stream<float> t("/nonexistent/x.csv", {"a"}, {}); }),
               contains_text("no target columns"));
  nn::csv_options fill;
  fill.missing = nn::missing_values::fill_mean;
  const auto why = invalid_argument_of([&] { nn::csv_stream<float> t(small, {"a"}, {"c"}, fill); });
  REQUIRE_THAT(why, contains_text("nn::csv_stream: missing_values::fill_mean needs each column's mean over the whole file"));
  REQUIRE_THAT(invalid_argument_of([&] { nn::csv_stream<float> t(small, {"a"}, {"c"}, columns({"b"})); }),
               contains_text("csv_options::columns must be empty"));

  nn::csv_stream<float> t(small, {"a", "b"}, {"c"});
  std::array<float, 3> x3{};
  std::array<float, 2> y2{};
  REQUIRE_THAT(invalid_argument_of([&] { t.next(x3, y); }),
               contains_text("x has 3 values and y 1, expected input_size() = 2 and output_size() = 1"));
  REQUIRE_THAT(invalid_argument_of([&] { t.next(x, y2); }),
               contains_text("x has 2 values and y 2, expected input_size() = 2 and output_size() = 1"));
  REQUIRE(t.next(x, y));  // the refused calls read nothing
  REQUIRE(x == std::array<float, 2>{1, 2});

  REQUIRE_THAT(invalid_argument_of([&] { t.transform("a", 0, 0); }), contains_text("scale finite and non-zero"));
  REQUIRE_THAT(invalid_argument_of([&] { t.transform("a", 0, std::numeric_limits<double>::infinity()); }),
               contains_text("column \"a\""));
  REQUIRE_THAT(invalid_argument_of([&] { t.transform("a", std::numeric_limits<double>::quiet_NaN(), 1); }),
               contains_text("shift must be finite"));
  REQUIRE_THAT(invalid_argument_of([&] { t.transform("d", 0, 1); }),
               contains_text("\"d\" is neither an input nor a target; they are: \"a\", \"b\", \"c\""));
}

TEST_CASE("csv_stream: a value that is not finite, or not finite as the element type, is a data_error", "[csv][stream]") {
  const auto p = write("stream_inf.csv", "x,y\n1,2\ninf,3\n1e300,4\n5,6\n");
  nn::csv_stream<float> s(p, {"x"}, {"y"});
  std::array<float, 1> x{}, y{};
  REQUIRE(s.next(x, y));
  const auto e = error_of([&] { s.next(x, y); });
  REQUIRE(e.file() == p);
  REQUIRE(e.line() == 3);
  REQUIRE_THAT(e.what(), contains_text("column \"x\": expected a finite number, found inf"));
  const auto big = error_of([&] { s.next(x, y); });  // 1e300 is a double, not a float
  REQUIRE(big.line() == 4);
  REQUIRE_THAT(big.what(), contains_text("beyond the range of the element type"));
  REQUIRE(s.next(x, y));
  REQUIRE(x[0] == 5);
  nn::csv_stream<double> d(p, {"x"}, {"y"});
  std::array<double, 1> dx{}, dy{};
  REQUIRE(d.next(dx, dy));
  REQUIRE_THROWS_AS(d.next(dx, dy), nn::data_error);
  REQUIRE(d.next(dx, dy));  // 1e300 is fine in double
  REQUIRE(dx[0] == 1e300);
}

// Files as a hostile user would give them (issue 13), made here.
TEST_CASE("CSV: directories are refused, FIFOs are read with a bounded wait for their writer", "[csv]") {
  ::alarm(30);  // a reader that blocks is killed rather than hanging the suite
  const auto dir = std::filesystem::temp_directory_path() / "nn_csv_test";
  std::filesystem::create_directories(dir);
  const auto d = error_of([&] { (void)nn::read_csv(dir.string()); });
  REQUIRE(std::string(d.what()) == dir.string() + ": is a directory, expected a CSV file with a header row");

  const auto fifo = (dir / "table.fifo").string();
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // With a writer (a pipe could not be read at all before: the file was opened at its end to learn its size).
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << "x,y\n1,2\n3,4\n"; });
  const auto t = nn::read_csv(fifo);
  writer.join();
  REQUIRE(t["y"] == std::vector<double>{2, 4});
  // Without one: nn::read_limits::fifo_writer_seconds, 10 s by default; the reader's own bound here.
  const auto e = error_of([&] { nn::detail::csv_input in(fifo, 64, 1024, 0.2); });
  REQUIRE(std::string(e.what()) == fifo + ": a FIFO with no writer: nothing came in 0.2 s (expected a CSV file with a header row)");
  std::filesystem::remove(fifo);
  ::alarm(0);
}

TEST_CASE("CSV: a read that exactly fills the buffer is not the end", "[csv]") {
  // Every buffer size from 1 to 12 over a 9-byte file: some reads end exactly at the buffer's end.
  const auto p = write("exact.csv", "ab,cd\n1,2");
  for (std::size_t b = 1; b <= 12; ++b) {
    INFO("buffer of " << b << " bytes");
    const auto t = nn::detail::read_csv(p, nn::csv_options{}, b);
    REQUIRE(t.names == std::vector<std::string>{"ab", "cd"});
    REQUIRE(t["cd"] == std::vector<double>{2});
  }
}

TEST_CASE("CSV: bytes from the file are quoted as short printable excerpts", "[csv]") {
  using nn::detail::excerpt;
  REQUIRE(excerpt("median_income") == "\"median_income\"");
  REQUIRE(excerpt(std::string_view("a\0b\"c\\\n\xff", 8)) == "\"a\\x00b\\\"c\\\\\\x0a\\xff\"");
  REQUIRE(excerpt(std::string(100, '7'), 4) == "\"7777...\" (100 bytes)");
  REQUIRE(nn::detail::excerpt_list(std::vector<std::string>{"a", "b", "c"}, 2) == "\"a\", \"b\", ... and 1 more");

  // A NUL in a cell no longer cuts the message short; a long cell makes a short message.
  const auto nul = error_of([&] { (void)nn::read_csv(write("nul.csv", std::string("x\n1\0" "2\n", 5))); });
  REQUIRE(nul.problem() == "column \"x\": expected a number, found \"1\\x002\"");
  const auto long_cell = error_of([&] { (void)nn::read_csv(write("long_cell.csv", "x\n" + std::string(500'000, '1') + "x\n")); });
  REQUIRE(long_cell.problem().size() < 120);
  REQUIRE_THAT(long_cell.what(), contains_text("expected a number, found \"1111111111"));
  REQUIRE_THAT(long_cell.what(), contains_text("(500001 bytes)"));

  // A header of 1,000 columns is listed by its first 20 when a column is not found.
  std::string header;
  for (int c = 0; c < 1000; ++c) header += (c ? ",c" : "c") + std::to_string(c);
  nn::csv_options o;
  o.columns = {"zz"};
  const auto unknown = error_of([&] { (void)nn::read_csv(write("wide.csv", header + "\n"), o); });
  REQUIRE_THAT(unknown.what(), contains_text("\"c19\", ... and 980 more"));
  REQUIRE(unknown.problem().size() < 300);
}

TEST_CASE("CSV: a file that is only a byte order mark is empty, with every buffer size", "[csv]") {
  const auto bom = write("bom_only.csv", "\xEF\xBB\xBF");
  const auto with_data = write("bom_data.csv", "\xEF\xBB\xBFx,y\n1,2\n");
  for (std::size_t b = 1; b <= 8; ++b) {
    INFO("buffer of " << b << " bytes");
    const auto e = error_of([&] { (void)nn::detail::read_csv(bom, nn::csv_options{}, b); });
    REQUIRE(e.problem() == "the file is empty, expected a header row");
    const auto t = nn::detail::read_csv(with_data, nn::csv_options{}, b);
    REQUIRE(t.names == std::vector<std::string>{"x", "y"});
    REQUIRE(t["y"] == std::vector<double>{2});
  }
  REQUIRE(error_of([&] { (void)nn::read_csv(bom); }).problem() == "the file is empty, expected a header row");
}

// Memory is bounded by nn::read_limits' csv_ fields whatever the file holds: the largest single allocation
// is counted (counting_new.hpp).
TEST_CASE("CSV: /dev/zero, a header of 10 million commas and huge records stop early, in bounded memory", "[csv]") {
  ::alarm(60);  // before the bounds, /dev/zero was read until memory ran out
  const std::string zero = "/dev/zero";
  const std::string field_error = "expected a field of at most 1048576 bytes (raise nn::read_limits::csv_field_bytes), "
                                  "found a longer one, starting \"" + [] {
                                    std::string s;
                                    for (int i = 0; i < 24; ++i) s += "\\x00";
                                    return s;
                                  }() + "\"";
  counting_new::reset_largest();
  auto e = error_of([&] { (void)nn::read_csv(zero); });
  REQUIRE(e.line() == 1);
  REQUIRE(e.column() == 1);
  REQUIRE(e.problem() == field_error);
  REQUIRE(counting_new::largest.load() <= (std::size_t{2} << 20));
  REQUIRE(error_of([&] { nn::csv_reader r(zero); }).problem() == field_error);
  REQUIRE(error_of([&] { nn::csv_stream<float> s(zero, {"x"}, {"y"}); }).problem() == field_error);

  // 10 MB of commas as the header: 10 million columns before; the 100,001st field is an error now.
  const auto commas = write("commas.csv", std::string(10'000'000, ',') + "\n1\n");
  counting_new::reset_largest();
  e = error_of([&] { (void)nn::read_csv(commas); });
  REQUIRE(e.line() == 1);
  REQUIRE(e.column() == 100'001);
  REQUIRE(e.problem() == "expected at most 100000 fields in a record (raise nn::read_limits::csv_columns), found more");
  REQUIRE(counting_new::largest.load() <= (std::size_t{8} << 20));

  // A 20 MB row of 10 million fields after a two-column header: the same bound, on line 2.
  std::string row;
  row.reserve(20'000'000);
  for (int i = 0; i < 10'000'000; ++i) row += "1,";
  const auto wide_row = write("wide_row.csv", "x,y\n" + row + "\n");
  counting_new::reset_largest();
  e = error_of([&] { nn::csv_reader r(wide_row); std::array<double, 2> v{}; r.next(v); });
  REQUIRE(e.line() == 2);
  REQUIRE(e.column() == 200'001);
  REQUIRE(counting_new::largest.load() <= (std::size_t{8} << 20));
  row = {};

  // Each bound can be raised, and each is checked with a buffer cut at every byte.
  const auto small = write("small_limits.csv", "a,b,c\n1,2,3\n\"44\",55555,6\n");
  for (std::size_t b : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{1} << 20}) {
    INFO("buffer of " << b << " bytes");
    nn::csv_options o;
    o.limits.csv_columns = 2;
    e = error_of([&] { (void)nn::detail::read_csv(small, o, b); });
    REQUIRE(e.line() == 1);
    REQUIRE(e.column() == 5);
    o.limits.csv_columns = 3;
    o.limits.csv_field_bytes = 4;
    e = error_of([&] { (void)nn::detail::read_csv(small, o, b); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 6);
    REQUIRE_THAT(e.what(), contains_text("at most 4 bytes"));
    REQUIRE_THAT(e.what(), contains_text("found a longer one, starting \"55555\""));
    o.limits.csv_field_bytes = 5;
    o.limits.csv_record_bytes = 11;  // "\"44\",55555,6" is 12 bytes before its line end
    e = error_of([&] { (void)nn::detail::read_csv(small, o, b); });
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 1);
    REQUIRE_THAT(e.what(), contains_text("expected a record of at most 11 bytes before its line end (raise "
                                         "nn::read_limits::csv_record_bytes), found a longer one"));
    o.limits.csv_record_bytes = 12;
    const auto t = nn::detail::read_csv(small, o, b);
    REQUIRE(t["b"] == std::vector<double>{2, 55555});
    const auto crlf = nn::detail::read_csv(write("small_limits_crlf.csv", "a,b,c\r\n1,2,3\r\n\"44\",55555,6\r\n"), o, b);
    REQUIRE(crlf["a"] == std::vector<double>{1, 44});
  }
  // The first error in the file is the one reported, however the buffer cuts it: here the 17th byte of a
  // field, before the stray quote at its 34th (found by fuzzing: a whole buffer used to see the quote first).
  const auto both = write("long_and_quote.csv", "a\n" + std::string(33, 'x') + "\"x\n");
  for (std::size_t b = 1; b <= 64; b += 3) {
    nn::csv_options o;
    o.limits.csv_field_bytes = 16;
    REQUIRE_THAT(error_of([&] { (void)nn::detail::read_csv(both, o, b); }).what(),
                 contains_text("line 2, column 1: expected a field of at most 16 bytes"));
  }
  // A quoted field that runs past the bound is reported where its quote opened.
  nn::csv_options o;
  o.limits.csv_field_bytes = 8;
  e = error_of([&] { (void)nn::read_csv(write("long_quote.csv", "a,b\n1,\"22\n" + std::string(20, '2') + "\"\n"), o); });
  REQUIRE(e.line() == 2);
  REQUIRE(e.column() == 3);
  ::alarm(0);
}

TEST_CASE("CSV: the rows reserved never exceed the file's size in values", "[csv]") {
  // 2,000 columns, then 4 MB of blank lines: the first megabyte's million lines once predicted 5 million
  // rows, reserved for each column (80 GB in all); a record takes at least a byte per field.
  std::string header;
  for (int c = 0; c < 2000; ++c) header += (c ? ",c" : "c") + std::to_string(c);
  const auto p = write("blank_lines.csv", header + "\n" + std::string(4'000'000, '\n'));
  counting_new::reset_largest();
  const auto t = nn::read_csv(p);
  REQUIRE(t.cols() == 2000);
  REQUIRE(t.rows() == 0);
  REQUIRE(counting_new::largest.load() <= (std::size_t{1} << 20) + 64);
}

TEST_CASE("CSV: rows picks a process's part of the table, with the means of the whole columns", "[csv][distributed]") {
  const auto p = write("rows.csv", "x,y\n1,10\n,20\n3,NaN\n5,30\n7,40\n");
  nn::csv_options o;
  o.rows = {3, 0, 3};  // any order, repeats: rows 0 and 3, in file order
  SECTION("the rows asked for, in file order") {
    o.missing = nn::missing_values::skip_row;  // rows numbered after skipping: 1,10 / 5,30 / 7,40
    o.rows = {2, 0};
    const auto t = nn::read_csv(p, o);
    REQUIRE(t["x"] == std::vector<double>{1, 7});
    REQUIRE(t["y"] == std::vector<double>{10, 40});
  }
  SECTION("fill_mean takes each column's mean over every row, not only the rows kept") {
    o.missing = nn::missing_values::fill_mean;
    o.rows = {1, 2};
    const auto t = nn::read_csv(p, o);
    REQUIRE(t["x"] == std::vector<double>{4, 3});    // mean of 1, 3, 5, 7
    REQUIRE(t["y"] == std::vector<double>{20, 25});  // mean of 10, 20, 30, 40
    o.rows.clear();
    const auto whole = nn::read_csv(p, o);
    REQUIRE(whole["x"][1] == t["x"][0]);
    REQUIRE(whole["y"][2] == t["y"][1]);
  }
  SECTION("a row past the end is an error naming it and the file") {
    o.missing = nn::missing_values::fill_mean;
    o.rows = {5};
    try {
      nn::read_csv(p, o);
      FAIL("expected std::out_of_range");
    } catch (const std::out_of_range& e) {
      REQUIRE_THAT(e.what(), contains_text("row 5 asked of " + p + ", which has 5 rows"));
    }
  }
  SECTION("bad values in rows not kept are still errors") {
    REQUIRE_THROWS_AS(nn::read_csv(p, o), nn::data_error);  // row 1's x is missing
  }
}
