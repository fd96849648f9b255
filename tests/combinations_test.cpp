// Every cost, optimizer and activation that make sense together compiles and trains without changes to nn:
// each combination below fits a small network for a few epochs on data it can learn and must lower the
// cost (and, where the output is a class, classify most of it).
#include <nn/network.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "catch.hpp"

namespace {

// Two classes in 3 inputs, as one-hot pairs: y = (1, 0) when x0 + x1 − x2 > 0.
template <class T>
nn::dataset<T, 3, 2> two_classes(std::size_t n) {
  nn::dataset<T, 3, 2> d;
  nn::rng r(11);
  for (std::size_t i = 0; i < n; ++i) {
    const T x0 = static_cast<T>(r.uniform() * 2 - 1), x1 = static_cast<T>(r.uniform() * 2 - 1),
            x2 = static_cast<T>(r.uniform() * 2 - 1);
    const bool a = x0 + x1 - x2 > 0;
    d.add({x0, x1, x2}, {a ? T(1) : T(0), a ? T(0) : T(1)});
  }
  return d;
}

template <class T, class Hidden, class Output, class Cost, class Optimizer>
void learns(Optimizer opt) {
  INFO("hidden " << Hidden::name << ", output " << Output::name);
  const auto data = two_classes<T>(400);
  nn::basic_network<nn::policies<T, Hidden, Output>, 3, 8, 2> net(5, nn::scaled_normal_init{});
  nn::trainer<Optimizer, Cost> t{opt};
  t.epochs = 8;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, data, data);
  REQUIRE(std::isfinite(h.back().mean_cost));
  REQUIRE(h.back().mean_cost < h.front().mean_cost);
  REQUIRE(h.back().correct > 340);  // of 400
}

template <class T, class Cost, class Output, class Optimizer>
void every_hidden(Optimizer opt) {
  learns<T, nn::sigmoid, Output, Cost>(opt);
  learns<T, nn::tanh, Output, Cost>(opt);
  learns<T, nn::relu, Output, Cost>(opt);
}

}  // namespace

TEMPLATE_TEST_CASE("every cost, output activation and optimizer that fit together learn", "[policy][combinations]",
                   float, double) {
  using T = TestType;
  SECTION("sgd") {
    every_hidden<T, nn::quadratic_cost, nn::sigmoid>(nn::sgd{3.0});
    every_hidden<T, nn::cross_entropy, nn::sigmoid>(nn::sgd{1.0});
    every_hidden<T, nn::squared_error, nn::identity>(nn::sgd{0.05});
    every_hidden<T, nn::log_likelihood, nn::softmax>(nn::sgd{0.5});
  }
  SECTION("momentum") {
    every_hidden<T, nn::quadratic_cost, nn::sigmoid>(nn::momentum{0.5});
    every_hidden<T, nn::cross_entropy, nn::sigmoid>(nn::momentum{0.1, 0.9, true});
    every_hidden<T, nn::squared_error, nn::identity>(nn::momentum{0.01});
    every_hidden<T, nn::log_likelihood, nn::softmax>(nn::momentum{0.05});
  }
  SECTION("adam") {
    every_hidden<T, nn::quadratic_cost, nn::sigmoid>(nn::adam{0.01});
    every_hidden<T, nn::cross_entropy, nn::sigmoid>(nn::adam{0.01});
    every_hidden<T, nn::squared_error, nn::identity>(nn::adam{0.01});
    every_hidden<T, nn::log_likelihood, nn::softmax>(nn::adam{0.01});
  }
}
