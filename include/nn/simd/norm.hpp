// The kernels of nn::batch_norm: sums over a channel's run of values, and the affine maps that normalize
// it and carry its error back. A run is one sample's pixels of one channel (contiguous, any length, any
// alignment); the sums go through T's lanes and end in double. tests/batch_norm_test.cpp checks each
// against its scalar twin at lengths that are not a multiple of the SIMD width.
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#include "nn/simd/xsimd_compat.hpp"

namespace nn::simd {

// {Σ g, Σ g·h} over [0, n) (h = g: the sum and the sum of squares).
template <class T>
std::pair<double, double> sum_products(const T* g, const T* h, std::size_t n) noexcept {
  constexpr std::size_t W = width<T>;
  batch<T> s(T(0)), p(T(0));
  const std::size_t whole = n / W * W;
  std::size_t i = 0;
  for (; i < whole; i += W) {
    const auto v = batch<T>::load_unaligned(g + i);
    s += v;
    p = simd::fma(v, batch<T>::load_unaligned(h + i), p);
  }
  double sum = reduce_add(s), products = reduce_add(p);
  for (; i < n; ++i) {
    sum += g[i];
    products += static_cast<double>(g[i]) * h[i];
  }
  return {sum, products};
}

// y = a·x + b over [0, n) (y may be x).
template <class T>
void affine(const T* x, T a, T b, T* y, std::size_t n) noexcept {
  constexpr std::size_t W = width<T>;
  const batch<T> va(a), vb(b);
  const std::size_t whole = n / W * W;
  std::size_t i = 0;
  for (; i < whole; i += W) simd::fma(va, batch<T>::load_unaligned(x + i), vb).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = std::fma(a, x[i], b);  // as the lanes round
}

// y = a·u + b·v + c over [0, n) (y may be u).
template <class T>
void affine2(const T* u, const T* v, T a, T b, T c, T* y, std::size_t n) noexcept {
  constexpr std::size_t W = width<T>;
  const batch<T> va(a), vb(b), vc(c);
  const std::size_t whole = n / W * W;
  std::size_t i = 0;
  for (; i < whole; i += W)
    simd::fma(va, batch<T>::load_unaligned(u + i), simd::fma(vb, batch<T>::load_unaligned(v + i), vc)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = std::fma(a, u[i], std::fma(b, v[i], c));
}

// g = g · f'(z) over [0, n), f'(z) given z and a = f(z).
template <class T, class Act>
void times_derivative_run(const T* z, const T* a, T* g, std::size_t n, const Act& act) noexcept {
  constexpr std::size_t W = width<T>;
  const std::size_t whole = n / W * W;
  std::size_t i = 0;
  for (; i < whole; i += W)
    (batch<T>::load_unaligned(g + i) * act.df(batch<T>::load_unaligned(z + i), batch<T>::load_unaligned(a + i)))
        .store_unaligned(g + i);
  for (; i < n; ++i) g[i] *= act.df(z[i], a[i]);
}

}  // namespace nn::simd
