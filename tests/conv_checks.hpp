// What the convolutional tests share (conv_test, batch_norm_test): a whole network's gradient against
// finite differences, and small images whose answer is known.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nn/network.hpp>

#include <limits>
#include <span>

#include "catch.hpp"
#include "reference.hpp"

namespace test_data {

// The gradient of a network of double (random parameters, random inputs in [-1, 1), one-hot targets, m
// samples) at its first 200 parameters and then every `step`-th, against central differences.
template <class Net>
void check_gradient(std::size_t m, std::size_t step) {
  Net net(3, nn::scaled_normal_init{});
  nn::rng r(9);
  // Batch norm starts at γ = 1, β = 0, where a gradient that left either out would still pass: move them.
  if constexpr (Net::any_couples_rows)
    for (auto& p : net.parameters()) p += 0.5 * r.uniform() - 0.25;
  typename Net::workspace ws(m);
  for (std::size_t s = 0; s < m; ++s) {
    for (std::size_t i = 0; i < Net::inputs; ++i) ws.input()(s, i) = 2 * r.uniform() - 1;
    for (std::size_t o = 0; o < Net::outputs; ++o) ws.target()(s, o) = o == s % Net::outputs;
  }
  const nn::log_likelihood cost;
  nn::aligned_vector<double> grads(Net::parameter_storage, std::numeric_limits<double>::quiet_NaN());
  (void)net.gradient(ws, cost, std::span<double>(grads));
  const double error = ref::finite_difference_error(net, ws, cost, std::span<const double>(grads), step, 200);
  INFO(Net::name() << ": relative error " << error);
  REQUIRE(error < 1e-6);  // false for NaN
}

// 12 x 12 images of one bar, horizontal (class 0) or vertical (class 1), anywhere, on noise.
inline nn::dataset<float> bars(std::size_t n, std::uint64_t seed) {
  nn::rng r(seed);
  nn::dataset<float> d(144, 2);
  d.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool vertical = r.uniform() < 0.5;
    const std::size_t at = static_cast<std::size_t>(r.uniform() * 12) % 12;
    auto x = d.input(i);
    for (std::size_t p = 0; p < 144; ++p) x[p] = static_cast<float>(0.2 * r.uniform());
    for (std::size_t j = 0; j < 12; ++j) x[vertical ? j * 12 + at : at * 12 + j] = 1;
    d.target(i)[vertical] = 1;
  }
  return d;
}

}  // namespace test_data
