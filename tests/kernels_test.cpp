// Every SIMD kernel against its plain scalar loop in reference.hpp (summing in long double), in float and
// double, for sizes that are and are not multiples of the SIMD width, and mini-batches of several sizes
// (including block remainders).
#include <nn/activation.hpp>
#include <nn/cost.hpp>
#include <nn/simd/kernels.hpp>

#include <cmath>
#include <vector>

#include "catch.hpp"
#include "reference.hpp"

namespace {

template <class T, std::size_t N>
using bm = nn::matrix<T, nn::dynamic, N>;

long double sig(long double z) { return 1.0L / (1.0L + std::exp(-z)); }

// A cost that is not zero where output and target are both zero (unlike the quadratic cost), so
// padding lanes would show up in the total and in delta if a kernel forgot to mask them.
struct offset_cost {
  template <class V>
  V value(const V& a, const V& y) const {
    return (a - y) * (a - y) + V(nn::simd::scalar_of_t<V>(1));
  }
  template <class V, class Act>
  V delta(const V&, const V& a, const V& y, const Act&) const {
    return a - y + V(nn::simd::scalar_of_t<V>(1));
  }
};

// An activation that is only a formula written out here, so that activate is checked against the math
// rather than against the policy's own scalar form.
template <class F>
struct formula {
  F f;
};
template <class F>
formula(F) -> formula<F>;

}  // namespace

#define NN_KERNEL_SIZES                                                                                      \
  (float, 1, 1), (float, 3, 10), (float, 10, 3), (float, 30, 10), (float, 784, 30), (float, 100, 100),     \
      (float, 17, 33), (float, 16, 16), (float, 784, 100), (double, 1, 1), (double, 3, 10), (double, 30, 10), \
      (double, 784, 30), (double, 100, 3), (double, 9, 8), (double, 5, 17)

TEMPLATE_TEST_CASE_SIG("dense_forward matches the scalar W·x + b and sigmoid", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_SIZES) {
  const std::size_t m = GENERATE(1, 2, 5, 10, 13, 64);
  nn::rng r(In * 1000 + Out + m);
  bm<T, In> x(m);
  nn::matrix<T, In, Out> w;
  nn::matrix<T, 1, Out> b;
  ref::fill(x, r);
  ref::fill(w, r);
  ref::fill(b, r);
  bm<T, Out> z(m), a(m), z_ref(m), a_ref(m);
  nn::simd::dense_forward<T, In, Out>(x, w, b.data(), z.data(), a, nn::sigmoid{});
  ref::dense_forward<T, In, Out, long double>(x, w, b.data(), z_ref.data(), a_ref, nn::sigmoid{});
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < Out; ++o) {
      long double scale = std::fabs(static_cast<long double>(b(0, o)));
      for (std::size_t i = 0; i < In; ++i) scale += std::fabs(static_cast<long double>(x(s, i)) * w(i, o));
      REQUIRE(std::fabs(z(s, o) - z_ref(s, o)) <= ref::tol<T>(In, static_cast<double>(scale)));
      REQUIRE(std::fabs(a(s, o) - a_ref(s, o)) <= ref::tol<T>(In, static_cast<double>(scale)) + ref::tol<T>(16));
    }
  CHECK(ref::padding_is_zero(z));
  CHECK(ref::padding_is_zero(a));

  // Inference form: no z, same a.
  bm<T, Out> a2(m);
  nn::simd::dense_forward<T, In, Out>(x, w, b.data(), nullptr, a2, nn::sigmoid{});
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < Out; ++o) REQUIRE(a2(s, o) == a(s, o));
}

TEMPLATE_TEST_CASE_SIG("dense_backward_input matches (W^T delta) times the activation's derivative", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_SIZES) {
  const std::size_t m = GENERATE(1, 3, 4, 10, 11);
  nn::rng r(7 * In + Out + m);
  nn::matrix<T, In, Out> w;
  bm<T, Out> delta(m);
  bm<T, In> zp(m), ap(m), dp(m), dp_ref(m);
  ref::fill(w, r);
  ref::fill(delta, r);
  ref::fill(zp, r, -3, 3);
  nn::simd::activate<T, In>(zp, ap, nn::tanh{});
  nn::simd::dense_backward_input<T, In, Out>(w, delta, zp.data(), ap, dp, nn::tanh{});
  ref::dense_backward_input<T, In, Out, long double>(w, delta, zp.data(), ap, dp_ref, nn::tanh{});
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t i = 0; i < In; ++i) {
      long double scale = 0;
      for (std::size_t o = 0; o < Out; ++o) scale += std::fabs(static_cast<long double>(w(i, o)) * delta(s, o));
      REQUIRE(std::fabs(dp(s, i) - dp_ref(s, i)) <= ref::tol<T>(Out, static_cast<double>(scale)) + ref::tol<T>(16));
    }
  CHECK(ref::padding_is_zero(dp));
}

TEMPLATE_TEST_CASE_SIG("rank_update matches alpha·Σ_s x[s]ᵀ·delta[s], written and accumulated", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_SIZES) {
  const std::size_t m = GENERATE(1, 2, 10, 33);
  nn::rng r(3 * In + 5 * Out + m);
  bm<T, In> x(m);
  bm<T, Out> delta(m);
  nn::matrix<T, In, Out> g, g0, g_ref;
  ref::fill(x, r);
  ref::fill(delta, r);
  ref::fill(g0, r);
  g = g0;
  g_ref = g0;
  const T alpha = static_cast<T>(-0.37);
  nn::simd::rank_update<true, T, In, Out>(x, delta, g, alpha);
  ref::rank_update<true, T, In, Out, long double>(x, delta, g_ref, alpha);
  nn::matrix<T, In, Out> fresh, fresh_ref;
  nn::simd::rank_update<false, T, In, Out>(x, delta, fresh, alpha);
  ref::rank_update<false, T, In, Out, long double>(x, delta, fresh_ref, alpha);
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) {
      long double scale = 0;
      for (std::size_t s = 0; s < m; ++s) scale += std::fabs(static_cast<long double>(x(s, i)) * delta(s, o));
      REQUIRE(std::fabs(fresh(i, o) - fresh_ref(i, o)) <= ref::tol<T>(m, static_cast<double>(scale)));
      REQUIRE(std::fabs(g(i, o) - g_ref(i, o)) <= ref::tol<T>(m, static_cast<double>(scale) + 1));
    }
  CHECK(ref::padding_is_zero(g));
  CHECK(ref::padding_is_zero(fresh));
}

TEMPLATE_TEST_CASE_SIG("column_sum matches alpha·Σ_s delta[s]", "[kernels]",
                       ((class T, std::size_t N), T, N), (float, 1), (float, 10), (float, 33), (double, 3), (double, 100)) {
  const std::size_t m = GENERATE(1, 7, 10);
  nn::rng r(N + m);
  bm<T, N> delta(m);
  ref::fill(delta, r);
  nn::matrix<T, 1, N> g, g0, g_ref;
  ref::fill(g0, r);
  g = g0;
  g_ref = g0;
  nn::simd::column_sum<true, T, N>(delta, g.data(), T(0.5));
  ref::column_sum<true, T, N, long double>(delta, g_ref.data(), T(0.5));
  nn::matrix<T, 1, N> fresh, fresh_ref;
  nn::simd::column_sum<false, T, N>(delta, fresh.data(), T(0.5));
  ref::column_sum<false, T, N, long double>(delta, fresh_ref.data(), T(0.5));
  for (std::size_t o = 0; o < N; ++o) {
    REQUIRE(std::fabs(fresh(0, o) - fresh_ref(0, o)) <= ref::tol<T>(m));
    REQUIRE(std::fabs(g(0, o) - g_ref(0, o)) <= ref::tol<T>(m));
  }
  CHECK(ref::padding_is_zero(g));
}

TEMPLATE_TEST_CASE_SIG("output_delta matches the quadratic cost's value and (a − y)·σ'(z)", "[kernels]",
                       ((class T, std::size_t N), T, N), (float, 1), (float, 10), (float, 17), (double, 1),
                       (double, 10), (double, 33)) {
  const std::size_t m = GENERATE(1, 4, 10);
  nn::rng r(11 * N + m);
  bm<T, N> z(m), a(m), y(m), delta(m), delta_ref(m);
  ref::fill(z, r, -4, 4);
  ref::fill(y, r, 0, 1);
  nn::simd::activate<T, N>(z, a, nn::sigmoid{});
  const T total = nn::simd::output_delta<T, N>(z.data(), a, y, delta, nn::quadratic_cost{}, nn::sigmoid{});
  const long double expect_total =
      ref::output_delta<T, N, long double>(z.data(), a, y, delta_ref, nn::quadratic_cost{}, nn::sigmoid{});
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < N; ++o) REQUIRE(std::fabs(delta(s, o) - delta_ref(s, o)) <= ref::tol<T>(16));
  REQUIRE(std::fabs(total - expect_total) <= ref::tol<T>(m * N, 1.0));
  CHECK(ref::padding_is_zero(delta));

  // Padding lanes are excluded even when the cost is not zero there.
  const T offset_total = nn::simd::output_delta<T, N>(z.data(), a, y, delta, offset_cost{}, nn::sigmoid{});
  const long double expect_offset =
      ref::output_delta<T, N, long double>(z.data(), a, y, delta_ref, offset_cost{}, nn::sigmoid{});
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < N; ++o) REQUIRE(std::fabs(delta(s, o) - delta_ref(s, o)) <= ref::tol<T>(4));
  REQUIRE(std::fabs(offset_total - expect_offset) <= ref::tol<T>(m * N, 2.0));
  CHECK(ref::padding_is_zero(delta));
}

TEMPLATE_TEST_CASE_SIG("activate matches each activation's scalar form", "[kernels]", ((class T, std::size_t N), T, N),
                       (float, 1), (float, 5), (float, 30), (float, 784), (double, 3), (double, 10)) {
  const std::size_t m = GENERATE(1, 3);
  nn::rng r(N + 100 * m);
  bm<T, N> z(m), a(m), expect(m);
  ref::fill(z, r, -20, 20);
  auto check = [&](auto act, auto math) {
    nn::simd::activate<T, N>(z, a, act);
    ref::activate<T, N, long double>(z, expect, math);
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t o = 0; o < N; ++o) {
        const long double e = expect(s, o);
        REQUIRE(std::fabs(a(s, o) - e) <= ref::tol<T>(4, 1 + std::fabs(e)));
      }
    CHECK(ref::padding_is_zero(a));
  };
  check(nn::sigmoid{}, formula{[](long double v) { return sig(v); }});
  check(nn::tanh{}, formula{[](long double v) { return std::tanh(v); }});
  check(nn::relu{}, formula{[](long double v) { return v > 0 ? v : 0.0L; }});
  check(nn::identity{}, formula{[](long double v) { return v; }});
  check(nn::step{}, formula{[](long double v) { return v > 0 ? 1.0L : 0.0L; }});
}

TEMPLATE_TEST_CASE("axpy matches y += alpha·x for any length and alignment", "[kernels]", float, double) {
  const std::size_t n = GENERATE(0, 1, 3, 15, 16, 17, 100, 785);
  const std::size_t offset = GENERATE(0, 1);
  nn::rng r(n + offset);
  std::vector<TestType> x(n + 1), y(n + 1), y0;
  for (auto& v : x) v = static_cast<TestType>(r.uniform());
  for (auto& v : y) v = static_cast<TestType>(r.uniform());
  y0 = y;
  const std::size_t len = n + 1 - offset;
  std::vector<TestType> y_ref = y;
  nn::simd::axpy<TestType>(TestType(2.5), std::span<const TestType>(x.data() + offset, len),
                           std::span<TestType>(y.data() + offset, len));
  ref::axpy<TestType, long double>(TestType(2.5), std::span<const TestType>(x.data() + offset, len),
                                   std::span<TestType>(y_ref.data() + offset, len));
  for (std::size_t i = 0; i < offset; ++i) REQUIRE(y[i] == y0[i]);
  for (std::size_t i = offset; i < n + 1; ++i) REQUIRE(std::fabs(y[i] - y_ref[i]) <= ref::tol<TestType>(2, 4));
}

TEST_CASE("reduce_add and first_lanes agree with scalar loops", "[kernels]") {
  using B = nn::simd::batch<float>;
  alignas(nn::simd::alignment) float v[B::size];
  for (std::size_t i = 0; i < B::size; ++i) v[i] = static_cast<float>(i + 1);
  REQUIRE(nn::simd::reduce_add(B::load_aligned(v)) == Approx(B::size * (B::size + 1) / 2.0));
  for (std::size_t n = 1; n <= B::size; ++n) {
    const B masked = xsimd::select(nn::simd::first_lanes<float>(n), B::load_aligned(v), B(0.f));
    alignas(nn::simd::alignment) float out[B::size];
    masked.store_aligned(out);
    for (std::size_t i = 0; i < B::size; ++i) REQUIRE(out[i] == (i < n ? v[i] : 0.f));
  }
}
