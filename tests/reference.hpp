// Plain scalar reference computations, written straight from the course's formulas, for testing the
// SIMD kernels and the network against. Accumulation is in long double.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include <nn/matrix.hpp>
#include <nn/random.hpp>

namespace ref {

// Fills the real entries of a matrix with uniform values in [lo, hi); padding stays zero.
template <class M>
void fill(M&& m, nn::rng& r, double lo = -1.0, double hi = 1.0) {
  for (std::size_t i = 0; i < m.rows(); ++i)
    for (std::size_t j = 0; j < std::remove_cvref_t<M>::cols; ++j)
      m(i, j) = static_cast<typename std::remove_cvref_t<M>::value_type>(lo + (hi - lo) * r.uniform());
}

// True when every padding entry (columns cols..stride of every row) is exactly zero.
template <class M>
bool padding_is_zero(const M& m) {
  using MM = std::remove_cvref_t<M>;
  for (std::size_t i = 0; i < m.rows(); ++i)
    for (std::size_t j = MM::cols; j < MM::stride; ++j)
      if (m.data()[i * MM::stride + j] != 0) return false;
  return true;
}

// Tolerance for a sum of n products of magnitude `scale` in type T.
template <class T>
double tol(std::size_t n, double scale = 1.0) {
  const double eps = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  return 8.0 * eps * (1.0 + static_cast<double>(n)) * scale;
}

}  // namespace ref
