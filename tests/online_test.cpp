// Online learning (nn/online.hpp): a step per example from a stream of unknown length, against the same
// steps taken by hand; mini-batches from a stream with any optimizer; learning known data in one pass;
// the reports; divergence; bad set-ups. (idx_stream's tests are in idx_test.cpp, csv_stream's in csv_test.cpp.)
#include <nn/data/csv.hpp>
#include <nn/network.hpp>
#include <nn/online.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "blobs.hpp"
#include "catch.hpp"

namespace {

using test_data::blobs;
using net_t = nn::network<20, 15, 5>;

// A stream that makes its examples as it goes and cannot say how many there will be: y = 2x − 1 plus
// nothing, for `n` examples.
struct generated_line {
  std::size_t n, i = 0;
  std::size_t input_size() const { return 1; }
  std::size_t output_size() const { return 1; }
  bool next(std::span<double> x, std::span<double> y) {
    if (i == n) return false;
    x[0] = static_cast<double>(i % 17) / 8.0 - 1.0;
    y[0] = 2 * x[0] - 1;
    ++i;
    return true;
  }
};

}  // namespace

TEST_CASE("online learning takes one step per example, in the stream's order: the same as sgd_step by hand",
          "[online]") {
  STATIC_REQUIRE(nn::example_stream<nn::sequential_stream<nn::dataset<float>>, float>);
  STATIC_REQUIRE(nn::example_stream<generated_line, double>);
  STATIC_REQUIRE_FALSE(nn::example_stream<nn::dataset<float>, float>);
  const auto data = blobs(300, 1);
  net_t online(3), by_hand(3);
  nn::online_trainer<> t{nn::sgd{0.5}};
  t.on_report = nullptr;
  nn::sequential_stream<nn::dataset<float>> stream(data);
  const nn::online_report r = t.fit(online, stream);

  net_t::workspace ws(1);
  double total = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::copy_n(data.input(i).data(), 20, ws.input().row_data(0));
    std::copy_n(data.target(i).data(), 5, ws.target().row_data(0));
    total += by_hand.sgd_step(ws, nn::quadratic_cost{}, 0.5f);
  }
  REQUIRE(online == by_hand);
  REQUIRE(r.examples == 300);
  REQUIRE(r.steps == 300);
  REQUIRE(r.finished);
  REQUIRE(r.total_cost == total);
  REQUIRE(r.mean_cost == total / 300);
  REQUIRE(stream.position() == 300);
}

TEST_CASE("a stream in mini-batches with a stepping optimizer equals trainer::step on the same consecutive batches",
          "[online]") {
  const auto data = blobs(103, 2);  // 14 batches of 7 and one of 5
  net_t online(5), by_hand(5);
  nn::online_trainer<nn::momentum> t{nn::momentum{0.05}};
  t.batch_size = 7;
  t.on_report = nullptr;
  nn::sequential_stream<nn::dataset<float>> stream(data);
  const auto r = t.fit(online, stream);
  REQUIRE(r.steps == 15);

  nn::trainer<nn::momentum> manual{nn::momentum{0.05}};
  net_t::workspace ws(7);
  for (std::size_t s0 = 0; s0 < data.size(); s0 += 7) {
    const std::size_t m = std::min<std::size_t>(7, data.size() - s0);
    std::vector<std::size_t> idx(m);
    std::iota(idx.begin(), idx.end(), s0);
    nn::detail::gather<net_t>(data, std::span<const std::size_t>(idx), ws);
    manual.step(by_hand, ws);
  }
  REQUIRE(online == by_hand);
}

TEST_CASE("one pass of online learning over a stream learns data whose answer is known", "[online]") {
  const auto train = blobs(3000, 1), test = blobs(500, 2);
  nn::network<20, 15, 5> net(3, nn::scaled_normal_init{});
  REQUIRE(nn::evaluate(net, test) < 200);  // chance is 100 of 500
  nn::online_trainer<> t{nn::sgd{0.5}};
  t.on_report = nullptr;
  nn::sequential_stream<nn::dataset<float>> stream(train);
  t.fit(net, stream);
  REQUIRE(nn::evaluate(net, test) > 475);

  // A line from a generated stream, one example at a time: w → 2, b → −1.
  nn::basic_network<nn::policies<double, nn::identity, nn::identity>, 1, 1> line(1);
  nn::online_trainer<nn::sgd, nn::squared_error> lt{nn::sgd{0.05}};
  lt.on_report = nullptr;
  generated_line g{5000};
  lt.fit(line, g);
  REQUIRE(line.weight(0, 0, 0) == Approx(2).margin(1e-6));
  REQUIRE(line.bias(0, 0) == Approx(-1).margin(1e-6));
}

TEST_CASE("online reports come every report_every examples and at the end, with running sums", "[online]") {
  const auto data = blobs(250, 3);
  net_t net(1);
  nn::online_trainer<> t{nn::sgd{0.5}};
  t.report_every = 100;
  std::vector<nn::online_report> seen;
  t.on_report = [&](const nn::online_report& r) { seen.push_back(r); };
  nn::sequential_stream<nn::dataset<float>> stream(data);
  const auto last = t.fit(net, stream);
  REQUIRE(seen.size() == 3);
  REQUIRE(seen[0].examples == 100);
  REQUIRE(seen[1].examples == 200);
  REQUIRE(seen[2].examples == 250);
  REQUIRE(seen[0].recent == 100);
  REQUIRE(seen[1].recent == 100);
  REQUIRE(seen[2].recent == 50);
  REQUIRE_FALSE(seen[1].finished);
  REQUIRE(seen[2].finished);
  REQUIRE(last.examples == 250);
  REQUIRE(last.total_cost == seen[2].total_cost);
  // The windows add up to the total.
  const double windows = seen[0].recent_cost * 100 + seen[1].recent_cost * 100 + seen[2].recent_cost * 50;
  REQUIRE(windows == Approx(last.total_cost).epsilon(1e-12));
  REQUIRE(seen[1].total_cost > seen[0].total_cost);
  REQUIRE_THAT(nn::format_online_report(seen[0]), contains_text("After 100 examples: mean cost "));
  REQUIRE_THAT(nn::format_online_report(seen[0]), contains_text(" over the last 100 (total "));
  REQUIRE_THAT(nn::format_online_report(last), contains_text("Finished after 250 examples: mean cost "));

  // A stream that ends where a report falls due gives the final report only, not the same count twice.
  seen.clear();
  const auto even = blobs(200, 4);
  nn::sequential_stream<nn::dataset<float>> s200(even);
  t.fit(net, s200);
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0].examples == 100);
  REQUIRE_FALSE(seen[0].finished);
  REQUIRE(seen[1].examples == 200);
  REQUIRE(seen[1].finished);
}

namespace {
// Fails the test if asked for an example after it has said there are no more (a socket would block).
struct strict_stream {
  nn::sequential_stream<nn::dataset<float>> s;
  bool over = false;
  std::size_t input_size() const { return s.input_size(); }
  std::size_t output_size() const { return s.output_size(); }
  bool next(std::span<float> x, std::span<float> y) {
    REQUIRE_FALSE(over);
    over = !s.next(x, y);
    return !over;
  }
};
}  // namespace

TEST_CASE("a stream is not read again after it has ended, with or without a partial last step", "[online]") {
  for (const std::size_t batch : {1, 7, 10}) {
    const auto data = blobs(103, 6);
    net_t net(2);
    nn::online_trainer<> t{nn::sgd{0.5}};
    t.batch_size = batch;
    t.on_report = nullptr;
    const auto r = t.fit(net, strict_stream{nn::sequential_stream<nn::dataset<float>>(data)});  // a temporary works
    REQUIRE(r.examples == 103);
    REQUIRE(r.steps == (103 + batch - 1) / batch);
  }
}

TEST_CASE("one unusual example in a stream is not taken for divergence", "[online]") {
  // A line with one target 50 times off at example 400: its cost alone is thousands of times the first
  // examples' (and far more than the converged ones'), yet it is one example of a window of 64.
  struct with_outlier {
    generated_line line{2000};
    std::size_t input_size() const { return 1; }
    std::size_t output_size() const { return 1; }
    bool next(std::span<double> x, std::span<double> y) {
      if (!line.next(x, y)) return false;
      if (line.i == 400) y[0] *= 50;
      return true;
    }
  };
  nn::basic_network<nn::policies<double, nn::identity, nn::identity>, 1, 1> net(1);
  nn::online_trainer<nn::sgd, nn::squared_error> t{nn::sgd{0.01}};
  t.on_report = nullptr;
  REQUIRE_NOTHROW(t.fit(net, with_outlier{}));
  REQUIRE(net.weight(0, 0, 0) == Approx(2).margin(1e-3));
}

TEST_CASE("online training that diverges says so at the step it happens, with the learning rate", "[online]") {
  nn::basic_network<nn::policies<double, nn::identity, nn::identity>, 1, 1> line(1);
  nn::online_trainer<nn::sgd, nn::squared_error> t{nn::sgd{5.0}};
  t.on_report = nullptr;
  generated_line g{100000};
  try {
    t.fit(line, g);
    FAIL("expected nn::divergence_error");
  } catch (const nn::divergence_error& e) {
    const std::string what = e.what();
    INFO(what);
    REQUIRE_THAT(what, contains_text("nn: online training diverged at its "));
    REQUIRE_THAT(what, contains_text(" step (after "));
    REQUIRE_THAT(what, contains_text("at learning rate 5.0"));
    REQUIRE_THAT(what, contains_text("try a smaller learning rate"));
    REQUIRE(what.find("nan") == std::string::npos);
    REQUIRE(e.where().examples < 1000);  // stopped within a few windows, not at the end of the stream
  }
}

TEST_CASE("bad online set-ups are clear exceptions", "[online]") {
  net_t net(1);
  nn::online_trainer<> t;
  t.on_report = nullptr;
  generated_line wrong_shape{10};
  nn::basic_network<nn::policies<double, nn::sigmoid, nn::sigmoid>, 2, 1> two(1);
  REQUIRE_THROWS_WITH(t.fit(two, wrong_shape),
                      "nn::online_trainer: the stream has inputs of 1 values and targets of 1, but the network has 2 "
                      "inputs and 1 outputs");
  const nn::dataset<float> empty(20, 5);
  nn::sequential_stream<nn::dataset<float>> none(empty);
  REQUIRE_THROWS_WITH(t.fit(net, none), "nn::online_trainer: the stream gave no examples");
  t.batch_size = 0;
  const auto data = blobs(10, 1);
  nn::sequential_stream<nn::dataset<float>> some(data);
  REQUIRE_THROWS_WITH(t.fit(net, some), "nn::online_trainer: batch_size must be at least 1");
}

TEST_CASE("online learning from a CSV file read a row at a time finds the line in it", "[online]") {
  // y = 3x + 2 for x from 0 to 100, with a column that is not used; z-scored by transform on the way in,
  // so the line to find is y' = x' (w = 1, b = 0).
  const auto path = std::filesystem::temp_directory_path() / ("nn_online_test." + std::to_string(std::random_device{}()) + ".csv");
  {
    std::ofstream f(path);
    f << "x,unused,y\n";
    for (int i = 0; i < 4000; ++i) {
      const double x = (i * 37) % 101;
      f << x << "," << i << "," << 3 * x + 2 << "\n";
    }
  }
  nn::csv_stream<double> rows(path.string(), {"x"}, {"y"});
  rows.transform("x", 50, 25);
  rows.transform("y", 152, 75);
  nn::basic_network<nn::policies<double, nn::identity, nn::identity>, 1, 1> line(1);
  nn::online_trainer<nn::sgd, nn::squared_error> t{nn::sgd{0.05}};
  t.on_report = nullptr;
  struct remover {
    std::filesystem::path p;
    ~remover() { std::filesystem::remove(p); }
  } const cleanup{path};
  const auto r = t.fit(line, rows);
  REQUIRE(r.examples == 4000);
  REQUIRE(line.weight(0, 0, 0) == Approx(1).margin(1e-6));
  REQUIRE(line.bias(0, 0) == Approx(0).margin(1e-6));
}
