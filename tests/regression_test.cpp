// Linear regression as one identity neuron with the squared error, the divergence detector, and the
// verdicts on loss curves.
#include <nn/network.hpp>
#include <nn/tuning.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {
nn::dataset<double, 1, 1> line(std::size_t n, double noise, std::uint64_t seed) {
  nn::dataset<double, 1, 1> d;
  nn::rng r(seed);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = 2 * r.uniform() - 1;
    d.add({x}, {3 * x + 2 + noise * r.normal()});
  }
  return d;
}
using neuron = nn::basic_network<nn::policies<double, nn::identity>, 1, 1>;
}  // namespace

TEST_CASE("one identity neuron recovers a known slope and intercept", "[regression]") {
  neuron net(1);
  nn::trainer<nn::sgd, nn::squared_error> t{nn::sgd{0.05}};
  t.epochs = 60;
  t.batch_size = 10;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, line(1000, 0.1, 2));
  REQUIRE(net.weight(0, 0, 0) == Approx(3.0).margin(0.03));
  REQUIRE(net.bias(0, 0) == Approx(2.0).margin(0.03));
  // The mean squared error ends near the noise's variance, 0.01.
  REQUIRE(h.back().mean_cost == Approx(0.01).margin(0.003));
  REQUIRE(nn::judge_loss([&] {
            std::vector<double> v;
            for (const auto& r : h) v.push_back(r.mean_cost);
            return v;
          }()) == nn::loss_trend::converged);
}

TEST_CASE("the squared error's gradient is twice the quadratic cost's", "[regression]") {
  neuron a(3);
  typename neuron::workspace ws(4);
  for (std::size_t s = 0; s < 4; ++s) {
    ws.input()(s, 0) = 0.25 * double(s);
    ws.target()(s, 0) = 1.0 - double(s);
  }
  nn::aligned_vector<double> g1(neuron::parameter_storage), g2(neuron::parameter_storage);
  const double c1 = a.gradient(ws, nn::quadratic_cost{}, std::span<double>(g1));
  const double c2 = a.gradient(ws, nn::squared_error{}, std::span<double>(g2));
  REQUIRE(c2 == Approx(2 * c1));
  for (std::size_t i = 0; i < g1.size(); ++i) REQUIRE(g2[i] == Approx(2 * g1[i]));
}

TEST_CASE("a cost that grows by orders of magnitude stops training, naming epoch and learning rate", "[regression]") {
  neuron net(1);
  nn::trainer<nn::sgd, nn::squared_error> t{nn::sgd{1.2}};
  t.epochs = 300;
  t.batch_size = 100;
  t.on_epoch = nullptr;
  try {
    t.fit(net, line(100, 0, 5));
    FAIL("learning rate 1.2 should diverge");
  } catch (const nn::divergence_error& e) {
    const std::string msg = e.what();
    INFO(msg);
    REQUIRE(msg.find("grew from") != std::string::npos);  // caught by growth, before any overflow
    REQUIRE(msg.find("learning rate 1.2") != std::string::npos);
    REQUIRE(e.epoch() > 0);
    REQUIRE(e.epoch() < 300);
    for (const char* bad : {"nan", "NaN", "inf"}) REQUIRE(msg.find(bad) == std::string::npos);
  }
  // The same data at learning rate 0.9 trains.
  neuron ok(1);
  t.optimizer = nn::sgd{0.9};
  REQUIRE_NOTHROW(t.fit(ok, line(100, 0, 5)));
}

TEST_CASE("a blow-up inside the first epoch stops training there", "[regression]") {
  // At learning rate 1 with single-sample batches every update overshoots; without a check inside the
  // epoch the first epoch ends with a mean cost near 1e225, and its own mean is no yardstick.
  neuron net(1);
  nn::trainer<nn::sgd, nn::squared_error> t{nn::sgd{1.0}};
  t.epochs = 5;
  t.batch_size = 1;
  std::size_t reported = 0;
  t.on_epoch = [&](const nn::epoch_report&) { ++reported; };
  try {
    t.fit(net, line(1000, 0.1, 2));
    FAIL("learning rate 1 with batches of 1 should diverge");
  } catch (const nn::divergence_error& e) {
    const std::string msg = e.what();
    INFO(msg);
    REQUIRE(reported == 0);
    REQUIRE(e.epoch() == 0);
    REQUIRE(e.where().in_batch);
    REQUIRE(e.where().batch < 100);  // orders of magnitude, long before the cost overflows
    REQUIRE(e.where().cost > nn::divergence_factor * e.where().reference);
    REQUIRE(msg.find("diverged in epoch 0 (the 1st of 5), at its " + std::to_string(e.where().batch + 1)) != std::string::npos);
    REQUIRE(msg.find("grew from") != std::string::npos);
    REQUIRE(msg.find("learning rate 1.0:") != std::string::npos);
    for (const char* bad : {"nan", "NaN", "inf"}) REQUIRE(msg.find(bad) == std::string::npos);
  }
}

TEST_CASE("a cost that is not finite stops training at that mini-batch", "[regression]") {
  const double bad = GENERATE(std::numeric_limits<double>::quiet_NaN(), 1e200);  // 1e200² overflows
  nn::dataset<double, 1, 1> d = line(100, 0.1, 3);
  d.target(57)[0] = bad;
  neuron net(1);
  // A learning rate far too small to diverge: only the bad value can stop it.
  nn::trainer<nn::sgd, nn::squared_error> t{nn::sgd{1e-7}};
  t.epochs = 3;
  t.on_epoch = nullptr;
  std::size_t done = 0;
  t.on_progress = [&](std::size_t n, std::size_t) { done = n; };
  try {
    t.fit(net, d);
    FAIL("a target of " << bad << " should stop training");
  } catch (const nn::divergence_error& e) {
    const std::string msg = e.what();
    INFO(msg);
    REQUIRE(e.epoch() == 0);
    REQUIRE(e.where().in_batch);
    REQUIRE(done == e.where().batch * t.batch_size);  // progress stopped at the batch holding sample 57
    REQUIRE(done < d.size());
    REQUIRE_FALSE(std::isfinite(e.where().cost));
    REQUIRE(msg.find(std::isnan(bad) ? "no longer a number" : "largest representable number") != std::string::npos);
    REQUIRE(msg.find("at learning rate 1e-07") != std::string::npos);  // %g, not to_string's 0.000000
  }
}

TEST_CASE("loss curves get the course's verdicts", "[regression]") {
  using nn::judge_loss;
  using nn::loss_trend;
  REQUIRE(judge_loss({10, 5, 3, 2, 1.5, 1.2, 1.0, 0.8}) == loss_trend::still_decreasing);
  REQUIRE(judge_loss({10, 3, 2, 1.5, 1.41, 1.405, 1.404, 1.404}) == loss_trend::converged);
  REQUIRE(judge_loss({10, 3, 2, 2.5, 1.8, 2.6, 1.9, 2.7}) == loss_trend::oscillating);
  REQUIRE(judge_loss({1, 2, 8, 40, 300}) == loss_trend::diverged);
  REQUIRE(judge_loss({1, 0.5, std::numeric_limits<double>::quiet_NaN()}) == loss_trend::diverged);
  // Noise of a few percent around a minimum (an epoch's cost is an estimate) is not oscillation.
  REQUIRE(judge_loss({5, 1, 1.04, 1.0, 1.05, 0.99, 1.04, 1.0}) == loss_trend::converged);
  REQUIRE(std::string(nn::advice(loss_trend::oscillating)).find("lower the learning rate") != std::string::npos);
}

TEST_CASE("short and rising loss curves are never judged converged", "[regression]") {
  using nn::judge_loss;
  using nn::loss_trend;
  // RMSE per epoch of linear_regression --lr 0.5 --batch 10 on the housing CSV, 4 and 2 epochs.
  REQUIRE(judge_loss({282, 304, 645, 1572}) == loss_trend::diverged);
  REQUIRE(judge_loss({297, 867}) == loss_trend::diverged);
  REQUIRE(judge_loss({100, 120, 150}) == loss_trend::diverged);
  // Rising on every step of the last half is divergence even below the start.
  REQUIRE(judge_loss({100, 20, 10, 12, 15, 19, 24, 30}) == loss_trend::diverged);
  // Ending above the start, however little, is not settling: the learning rate is too large.
  REQUIRE(judge_loss({100, 101}) == loss_trend::oscillating);
  REQUIRE(judge_loss({100, 60, 130}) == loss_trend::oscillating);
  REQUIRE(judge_loss({1.0, 1.02, 0.99, 1.01}) == loss_trend::oscillating);
  REQUIRE(judge_loss({10, 5, 8, 4}) == loss_trend::oscillating);  // up 60 % then down, in 4 epochs
  // Short curves that fall: the last step decides between still decreasing and converged.
  REQUIRE(judge_loss({10, 6}) == loss_trend::still_decreasing);
  REQUIRE(judge_loss({10, 6, 5}) == loss_trend::still_decreasing);
  REQUIRE(judge_loss({10, 6, 5.98}) == loss_trend::converged);
  REQUIRE(judge_loss({10, 6, 5.5, 5.49}) == loss_trend::converged);
  // One epoch shows no trend yet.
  REQUIRE(judge_loss({10}) == loss_trend::still_decreasing);
}
