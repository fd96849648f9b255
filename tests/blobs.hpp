// A small classification problem whose answer is known, shared by the training and optimizer tests:
// 20 random inputs around a one-hot pattern of 5 classes (input k leans towards class k mod 5), one-hot
// targets.
#pragma once

#include <nn/network.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace test_data {

template <class T = float>
nn::dataset<T> blobs(std::size_t n, std::uint64_t seed) {
  nn::dataset<T> d(20, 5);
  nn::rng r(seed);
  std::vector<T> x(20), y(5);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t label = r.below(5);
    for (std::size_t k = 0; k < 20; ++k) x[k] = static_cast<T>(0.3 * r.normal() + (k % 5 == label ? 1.0 : 0.0));
    std::fill(y.begin(), y.end(), T(0));
    y[label] = T(1);
    d.add(x, y);
  }
  return d;
}

}  // namespace test_data
