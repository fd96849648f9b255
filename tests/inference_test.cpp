// Inference allocates nothing: feedforward of one sample and predict into the caller's storage make no
// heap allocation once the network exists (counted by replacing the global operator new), are const, and
// give the same results when several threads call them on one network at once.
#include <nn/network.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"

namespace {

template <class Net>
void check_no_allocation() {
  const Net net(3, nn::scaled_normal_init{});
  nn::rng r(4);
  std::array<typename Net::value_type, Net::inputs> x;
  for (auto& v : x) v = static_cast<typename Net::value_type>(r.uniform());
  nn::matrix<typename Net::value_type, nn::dynamic, Net::inputs> batch(100);
  for (std::size_t s = 0; s < batch.rows(); ++s)
    for (std::size_t i = 0; i < Net::inputs; ++i) batch(s, i) = s == 0 ? x[i] : static_cast<typename Net::value_type>(r.uniform());
  nn::matrix<typename Net::value_type, nn::dynamic, Net::outputs> out(batch.rows());
  std::array<typename Net::value_type, Net::outputs> one{};

  // The counter works: a vector allocates.
  std::size_t before = counting_new::allocations.load();
  { std::vector<int> v(10); (void)v; }
  REQUIRE(counting_new::allocations.load() == before + 1);

  before = counting_new::allocations.load();
  const auto y = net.feedforward(x);
  net.feedforward(x, std::span<typename Net::value_type, Net::outputs>(one));
  net.predict(batch, out);
  const std::size_t made = counting_new::allocations.load() - before;
  REQUIRE(made == 0);
  REQUIRE(y == one);
  for (std::size_t o = 0; o < Net::outputs; ++o) REQUIRE(out(0, o) == y[o]);  // row 0 is x

  // Four threads at once on the one const network: the same results as one.
  std::vector<std::array<typename Net::value_type, Net::outputs>> got(4);
  std::vector<nn::matrix<typename Net::value_type, nn::dynamic, Net::outputs>> outs;
  for (int t = 0; t < 4; ++t) outs.emplace_back(batch.rows());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) {
        got[t] = net.feedforward(x);
        net.predict(batch, outs[t]);
      }
    });
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < 4; ++t) {
    REQUIRE(got[t] == y);
    for (std::size_t s = 0; s < batch.rows(); ++s)
      for (std::size_t o = 0; o < Net::outputs; ++o) REQUIRE(outs[t](s, o) == out(s, o));
  }
}

}  // namespace

TEST_CASE("inference makes no heap allocation, and threads may share a network", "[inference]") {
  check_no_allocation<nn::network<784, 30, 10>>();
  check_no_allocation<nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, 512, 256, 10>>();
  check_no_allocation<nn::basic_network<nn::policies<double, nn::tanh>, 5, 7, 3, 2>>();
  check_no_allocation<nn::sequential<nn::input<20>, nn::dense<16, nn::relu>, nn::dense<12, nn::tanh>, nn::dense<3>>>();
}
