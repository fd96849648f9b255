// Plain scalar reference computations, written straight from the course's formulas, for testing the
// SIMD kernels and the network against, and as the scalar twins of the kernels in benchmarks/.
//
// There is one function per kernel of nn/simd/kernels.hpp, with the kernel's name and arguments, so it
// reads and writes the same padded layout. Sums are plain loops in the order of the formula, kept in
// Acc: long double in the tests (a reference as exact as it can be, so tolerances stay tight), T in the
// benchmarks (the loop a user would write, for a fair comparison). Results are rounded to T once, at
// the end; padding is neither read nor written.
//
// The tests' tolerances are bounds on rounding error computed from the values actually summed
// (sum_error, lane_sum_error, rounding below), so a kernel that drops one term of a sum, is off by one
// on a tail or applies the wrong activation is outside them for every layer size.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
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

// Unit roundoff u of T: rounding x to T changes it by at most u·|x| (2^-24 for float, 2^-53 for double).
template <class T>
inline constexpr long double unit_roundoff = std::numeric_limits<T>::epsilon() / 2;

// xsimd's exp and tanh, and nn::sigmoid made of exp, a sum and a quotient, are within 2.7·u of the exact
// value (measured at 2·10⁶ points of [−40, 40] with xsimd 8.1, 13.2 and 14.3, SSE2 to AVX-512, float
// and double); the tests allow 4·u.
inline constexpr long double function_error = 4;

// |a − b| without rounding the difference to T first.
template <class A, class B>
long double diff(A a, B b) {
  return std::fabs(static_cast<long double>(a) - static_cast<long double>(b));
}

// Room for k roundings to T of a result of magnitude x: the kernel's last operations (a product by
// alpha, by a derivative) and the reference's final cast. The extra 0.01·u absorbs second-order terms,
// and 4 roundings in long double the reference's own last steps.
template <class T>
long double rounding(long double x, long double k = 1) {
  return ((k + 0.01L) * unit_roundoff<T> + 4 * unit_roundoff<long double>) * std::fabs(x);
}

// The error of a sum s = start + p_1 + … + p_n accumulated in T one term at a time, as the kernels do
// (one accumulator of T per output, one fma or addition per term).
//
// Each step rounds once, ŝ_k = (ŝ_{k−1} + p_k)(1 + δ_k) with |δ_k| ≤ u, so ŝ_n − s_n = Σ_k δ_k·ŝ_k: the
// error grows with the partial sums s_k, not with n times the largest term. Two bounds on it:
//   worst case, every δ_k = ±u with the sign of s_k:            u · Σ_k |s_k|
//   realistic, the δ_k independent with mean zero (Azuma-Hoeffding, as in Higham & Mary, "A new approach
//   to probabilistic rounding error analysis", SISC 2019):      u · λ · sqrt(Σ_k s_k²)
//   with probability at least 1 − 2·exp(−λ²/2) = 1 − 2.5e-14 for λ = 8.
// bound() takes the smaller. For products of random sign the partial sums grow like sqrt(k), so the
// bound is about λ·u·n·rms(p)/sqrt(2): for z = b + Σ x·w over 784 inputs in [−1, 1], 1e-4 in float
// and 2e-13 in double, against 0.25 for a typical |x·w| (the textbook worst case n·u·Σ|p| would be 9e-3
// in float).
// A term that T itself computes with r roundings (a product on a machine without FMA: 1; a cost's
// value: 3) adds r·u·|p_k|. The reference sums the same terms in long double: at most
// (n + 1)·u_ld·Σ|p| more, in any order.
template <class T>
class sum_error {
 public:
  static constexpr long double lambda = 8;

  explicit sum_error(long double start = 0) : sum_(start), abs_terms_(std::fabs(start)) {}

  void add(long double term, int roundings = 1) {
    sum_ += term;
    abs_partial_ += std::fabs(sum_);
    square_partial_ += sum_ * sum_;
    own_ += roundings * std::fabs(term);
    abs_terms_ += std::fabs(term);
    ++n_;
  }

  long double sum() const { return sum_; }

  long double bound() const {
    const long double u = unit_roundoff<T>;
    const long double growth = std::min(abs_partial_, lambda * std::sqrt(square_partial_));
    // 1 + 2nu: the computed partial sums may exceed the exact ones by their own error.
    return u * (1 + 2 * static_cast<long double>(n_) * u) * (growth + own_) +
           static_cast<long double>(n_ + 1) * unit_roundoff<long double> * abs_terms_;
  }

 private:
  long double sum_ = 0, abs_partial_ = 0, square_partial_ = 0, own_ = 0, abs_terms_ = 0;
  std::size_t n_ = 0;
};

// The same sum spread over the lanes of a register, as a SIMD accumulator over padded rows adds it
// (the element at column o goes to lane o mod lanes), then added across lanes by a horizontal sum: some
// tree of at most lanes − 1 additions, through which each lane's sum passes at most lanes − 1 times,
// so at most u·(lanes − 1)·Σ|lane sums| more.
template <class T>
class lane_sum_error {
 public:
  explicit lane_sum_error(std::size_t lanes) : lanes_(lanes) {}

  void add(std::size_t column, long double term, int roundings = 1) {
    lanes_[column % lanes_.size()].add(term, roundings);
    abs_terms_ += std::fabs(term);
    ++n_;
  }

  long double sum() const {
    long double s = 0;
    for (const auto& l : lanes_) s += l.sum();
    return s;
  }

  long double bound() const {
    long double b = 0, abs_lanes = 0;
    for (const auto& l : lanes_) {
      b += l.bound();
      abs_lanes += std::fabs(l.sum());
    }
    const long double u = unit_roundoff<T>;
    return b + u * (1 + u) * static_cast<long double>(lanes_.size() - 1) * abs_lanes +
           static_cast<long double>(n_ + 1) * unit_roundoff<long double> * abs_terms_;
  }

 private:
  std::vector<sum_error<T>> lanes_;
  long double abs_terms_ = 0;
  std::size_t n_ = 0;
};

// The sizes the kernel tests instantiate (tests/kernels_test.cpp, tests/kernels_update_test.cpp).
// (T, In, Out): each of 1, 3, 10, 30, 100 and 784 is an Out (the padded dimension of dense_forward and
// rank_update) and an In (that of dense_backward_input); each kernel sums 784 terms somewhere; and
// dense_backward_input takes both its paths (one register of outputs, transposed; several, dot products).
#define NN_KERNEL_LAYERS(T) \
  (T, 1, 10), (T, 3, 784), (T, 10, 3), (T, 30, 100), (T, 100, 30), (T, 784, 1), (T, 784, 10), (T, 784, 784)
// (T, N) for the kernels over rows of N values.
#define NN_KERNEL_WIDTHS(T) (T, 1), (T, 3), (T, 10), (T, 30), (T, 100), (T, 784)
// Mini-batch sizes: one row, and every remainder of the kernels' row blocks (10, 8, 4, 2, 1; 19 = 10 + 8 + 1).
#define NN_KERNEL_BATCHES 1, 3, 10, 13, 19, 64

// Every element of a comparison within its tolerance (a worst_error); on failure, the worst one.
// For Catch2 tests.
#define REQUIRE_WITHIN(worst)                \
  do {                                       \
    INFO(#worst ": " << (worst).describe()); \
    REQUIRE((worst).ratio <= 1);             \
  } while (false)

// The worst element of a comparison against tolerances: the largest |got − want| / tolerance, and where.
struct worst_error {
  long double ratio = 0;  // at most 1 when every element is within its tolerance
  std::size_t row = 0, col = 0;
  long double got = 0, want = 0, tol = 0;

  void check(long double g, long double w, long double t, std::size_t r, std::size_t c) {
    const long double e = diff(g, w);
    long double q;
    if (e <= t)
      q = t > 0 ? e / t : 0;
    else  // NaN, or beyond a tolerance that may be 0
      q = t > 0 && !std::isnan(e) ? e / t : std::numeric_limits<long double>::infinity();
    if (q > ratio || (q == ratio && e > diff(got, want))) {
      ratio = q;
      row = r;
      col = c;
      got = g;
      want = w;
      tol = t;
    }
  }

  std::string describe() const {
    char text[200];
    std::snprintf(text, sizeof text,
                  "worst at [%zu][%zu]: %.10Lg against %.10Lg, %.3Lg apart, %.3Lg of the tolerance %.3Lg", row, col,
                  got, want, diff(got, want), ratio, tol);
    return text;
  }
};

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

// delta[s][o] = cost.delta(z, a, y, act);   returns Σ_s Σ_o cost.value(a, y), and each row's Σ_o in
// row_costs if given.
template <class T, std::size_t Out, class Acc = T, class Cost, class Act>
Acc output_delta(const T* z, nn::matrix_ref<const T, nn::dynamic, Out> a, nn::matrix_ref<const T, nn::dynamic, Out> y,
                 nn::matrix_ref<T, nn::dynamic, Out> delta, const Cost& cost, const Act& act,
                 Acc* row_costs = nullptr) {
  Acc total = 0;
  for (std::size_t s = 0; s < a.rows(); ++s) {
    Acc row = 0;
    for (std::size_t o = 0; o < Out; ++o) {
      const Acc zv = z[s * a.stride + o], av = a(s, o), yv = y(s, o);
      delta(s, o) = static_cast<T>(cost.delta(zv, av, yv, act));
      row += cost.value(av, yv);
    }
    if (row_costs) row_costs[s] = row;
    total += row;
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

// sqrt(Σ x_i²), summed in Acc.
template <class T, class Acc = T>
Acc l2_norm(std::span<const T> x) {
  Acc s = 0;
  for (const T v : x) s += static_cast<Acc>(v) * static_cast<Acc>(v);
  return std::sqrt(s);
}

// a[s][o] = act.f(z[s][o]).
template <class T, std::size_t N, class Acc = T, class Act>
void activate(nn::matrix_ref<const T, nn::dynamic, N> z, nn::matrix_ref<T, nn::dynamic, N> a, const Act& act) {
  for (std::size_t s = 0; s < z.rows(); ++s)
    for (std::size_t o = 0; o < N; ++o) a(s, o) = static_cast<T>(act.f(static_cast<Acc>(z(s, o))));
}

// The mean cost of the mini-batch in a model's workspace, from a plain forward pass and the cost's scalar
// value: what finite differences of a gradient are taken of.
template <class Net, class Cost>
double mean_cost(const Net& net, typename Net::workspace& ws, const Cost& cost) {
  net.template forward<true>(ws);
  double total = 0;
  for (std::size_t s = 0; s < ws.rows(); ++s)
    for (std::size_t o = 0; o < Net::outputs; ++o) total += cost.value(ws.output()(s, o), ws.target()(s, o));
  return total / static_cast<double>(ws.rows());
}

// The gradient against central differences of mean_cost: ‖fd − g‖ / ‖g‖ over the parameters checked
// (every one of the first `all`, then every `step`-th), or NaN when g has a NaN among them or is all 0.
template <class Net, class Cost>
double finite_difference_error(Net& net, typename Net::workspace& ws, const Cost& cost, std::span<const double> grads,
                               std::size_t step = 1, std::size_t all = 0) {
  const double h = 1e-6;
  double diff2 = 0, norm = 0;
  auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); i += (i < all ? 1 : step)) {
    if (std::isnan(grads[i])) return std::numeric_limits<double>::quiet_NaN();
    const double saved = params[i];
    params[i] = saved + h;
    const double up = mean_cost(net, ws, cost);
    params[i] = saved - h;
    const double down = mean_cost(net, ws, cost);
    params[i] = saved;
    const double fd = (up - down) / (2 * h);
    diff2 += (fd - grads[i]) * (fd - grads[i]);
    norm += grads[i] * grads[i];
  }
  return norm > 0 ? std::sqrt(diff2 / norm) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace ref
