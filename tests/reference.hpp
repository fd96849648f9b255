// Plain scalar reference computations, written straight from the course's formulas, for testing the
// SIMD kernels and the network against, and as the scalar twins of the kernels in benchmarks/.
//
// There is one function per kernel of nn/simd/kernels.hpp, with the kernel's name and arguments, so it
// reads and writes the same padded layout. Sums are plain loops in the order of the formula, kept in
// Acc: long double in the tests (a reference as exact as it can be, so tolerances stay tight), T in the
// benchmarks (the loop a user would write, for a fair comparison). Results are rounded to T once, at
// the end; padding is neither read nor written.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
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

// z[s][o] = b[o] + Σ_i x[s][i]·Wt[i][o],   a[s][o] = act.f(z[s][o]);   z may be null.
template <class T, std::size_t In, std::size_t Out, class Acc = T, class Act>
void dense_forward(nn::matrix_ref<const T, nn::dynamic, In> x, nn::matrix_ref<const T, In, Out> w, const T* b, T* z,
                   nn::matrix_ref<T, nn::dynamic, Out> a, const Act& act) {
  for (std::size_t s = 0; s < x.rows(); ++s)
    for (std::size_t o = 0; o < Out; ++o) {
      Acc acc = b[o];
      for (std::size_t i = 0; i < In; ++i) acc += static_cast<Acc>(x(s, i)) * static_cast<Acc>(w(i, o));
      if (z) z[s * a.stride + o] = static_cast<T>(acc);
      a(s, o) = static_cast<T>(act.f(acc));
    }
}

// delta[s][o] = cost.delta(z, a, y, act);   returns Σ_s Σ_o cost.value(a, y).
template <class T, std::size_t Out, class Acc = T, class Cost, class Act>
Acc output_delta(const T* z, nn::matrix_ref<const T, nn::dynamic, Out> a, nn::matrix_ref<const T, nn::dynamic, Out> y,
                 nn::matrix_ref<T, nn::dynamic, Out> delta, const Cost& cost, const Act& act) {
  Acc total = 0;
  for (std::size_t s = 0; s < a.rows(); ++s)
    for (std::size_t o = 0; o < Out; ++o) {
      const Acc zv = z[s * a.stride + o], av = a(s, o), yv = y(s, o);
      delta(s, o) = static_cast<T>(cost.delta(zv, av, yv, act));
      total += cost.value(av, yv);
    }
  return total;
}

// dp[s][i] = (Σ_o Wt[i][o]·delta[s][o]) · act.df(zp[s][i], ap[s][i]).
template <class T, std::size_t In, std::size_t Out, class Acc = T, class Act>
void dense_backward_input(nn::matrix_ref<const T, In, Out> w, nn::matrix_ref<const T, nn::dynamic, Out> delta,
                          const T* zp, nn::matrix_ref<const T, nn::dynamic, In> ap,
                          nn::matrix_ref<T, nn::dynamic, In> dp, const Act& act) {
  for (std::size_t s = 0; s < delta.rows(); ++s)
    for (std::size_t i = 0; i < In; ++i) {
      Acc acc = 0;
      for (std::size_t o = 0; o < Out; ++o) acc += static_cast<Acc>(w(i, o)) * static_cast<Acc>(delta(s, o));
      const Acc zv = zp[s * dp.stride + i], av = ap(s, i);
      dp(s, i) = static_cast<T>(acc * act.df(zv, av));
    }
}

// g[i][o] = alpha·Σ_s x[s][i]·delta[s][o]   (Accumulate: g[i][o] += ...).
template <bool Accumulate, class T, std::size_t In, std::size_t Out, class Acc = T>
void rank_update(nn::matrix_ref<const T, nn::dynamic, In> x, nn::matrix_ref<const T, nn::dynamic, Out> delta,
                 nn::matrix_ref<T, In, Out> g, T alpha) {
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) {
      Acc acc = 0;
      for (std::size_t s = 0; s < x.rows(); ++s) acc += static_cast<Acc>(x(s, i)) * static_cast<Acc>(delta(s, o));
      const Acc step = static_cast<Acc>(alpha) * acc;
      g(i, o) = static_cast<T>(Accumulate ? static_cast<Acc>(g(i, o)) + step : step);
    }
}

// g[o] = alpha·Σ_s delta[s][o]   (Accumulate: g[o] += ...).
template <bool Accumulate, class T, std::size_t Out, class Acc = T>
void column_sum(nn::matrix_ref<const T, nn::dynamic, Out> delta, T* g, T alpha) {
  for (std::size_t o = 0; o < Out; ++o) {
    Acc acc = 0;
    for (std::size_t s = 0; s < delta.rows(); ++s) acc += delta(s, o);
    const Acc step = static_cast<Acc>(alpha) * acc;
    g[o] = static_cast<T>(Accumulate ? static_cast<Acc>(g[o]) + step : step);
  }
}

// y[i] += alpha·x[i] over the shorter of the two spans.
template <class T, class Acc = T>
void axpy(T alpha, std::span<const T> x, std::span<T> y) {
  const std::size_t n = x.size() < y.size() ? x.size() : y.size();
  for (std::size_t i = 0; i < n; ++i)
    y[i] = static_cast<T>(static_cast<Acc>(y[i]) + static_cast<Acc>(alpha) * static_cast<Acc>(x[i]));
}

// a[s][o] = act.f(z[s][o]).
template <class T, std::size_t N, class Acc = T, class Act>
void activate(nn::matrix_ref<const T, nn::dynamic, N> z, nn::matrix_ref<T, nn::dynamic, N> a, const Act& act) {
  for (std::size_t s = 0; s < z.rows(); ++s)
    for (std::size_t o = 0; o < N; ++o) a(s, o) = static_cast<T>(act.f(static_cast<Acc>(z(s, o))));
}

}  // namespace ref
