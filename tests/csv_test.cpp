// The CSV reader's edge cases, and describe() / correlation() on tables worked out by hand.
#include <nn/data/stats.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "catch.hpp"
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
