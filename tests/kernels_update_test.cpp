// The kernels that turn errors into parameter updates (rank_update, column_sum, axpy) and the xsimd
// helpers under them, against their scalar twins in reference.hpp (summing in long double), in float and
// double, for the sizes 1, 3, 10, 30, 100 and 784 in the padded dimension and mini-batches of 1, 3, 10, 13, 19
// and 64 rows. Tolerances are bounds on rounding error computed from the values summed (reference.hpp).
// The passes that compute those errors are in kernels_test.cpp (one file would take over a minute to compile).
#include <nn/simd/kernels.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "reference.hpp"

namespace {

template <class T, std::size_t N>
using bm = nn::matrix<T, nn::dynamic, N>;

}  // namespace

TEMPLATE_TEST_CASE_SIG("rank_update matches alpha·Σ_s x[s]ᵀ·delta[s], written and accumulated", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_LAYERS(float),
                       NN_KERNEL_LAYERS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
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
  ref::worst_error fresh_err, g_err;
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) {
      ref::sum_error<T> sum;
      for (std::size_t s = 0; s < m; ++s) sum.add(static_cast<long double>(x(s, i)) * delta(s, o));
      // alpha times the sum, rounded once by the kernel and once by the reference; accumulated, an fma
      // with g (a product and a sum without FMA hardware: one more rounding, of alpha times the sum).
      const long double sum_err = std::fabs(static_cast<long double>(alpha)) * sum.bound();
      const long double step = ref::rounding<T>(alpha * sum.sum());
      fresh_err.check(fresh(i, o), fresh_ref(i, o), sum_err + ref::rounding<T>(fresh_ref(i, o), 2), i, o);
      g_err.check(g(i, o), g_ref(i, o), sum_err + step + ref::rounding<T>(g_ref(i, o), 2), i, o);
    }
  REQUIRE_WITHIN(fresh_err);
  REQUIRE_WITHIN(g_err);
  CHECK(ref::padding_is_zero(g));
  CHECK(ref::padding_is_zero(fresh));

  // Rows [first, last) only, as threads split a layer: the others untouched, and the same values bit for
  // bit however the rows are split.
  nn::matrix<T, In, Out> parts = g0;
  const std::size_t split = In / 3;
  nn::simd::rank_update<true, T, In, Out>(x, delta, parts, alpha, split, In);
  CHECK(std::equal(parts.data(), parts.data() + split * parts.stride, g0.data()));
  nn::simd::rank_update<true, T, In, Out>(x, delta, parts, alpha, 0, split);
  CHECK(std::equal(parts.data(), parts.data() + In * parts.stride, g.data()));
}

// Where the build's compile-time kernels are FMAs (AVX2 or AVX-512, not the run-time paths), each value is
// the FMA chain over the samples in order from +0, then one FMA (or product) with alpha: to the bit,
// whatever the register it is computed in, the sign of a zero included (the kernel starts from the first
// sample's products: an input that is 0 in every sample, against errors that are all negative, makes every
// product −0, and the chain from +0 gives +0). The shapes include rows whose last register AVX-512 computes
// in 256 bits (float 100 = 6 × 16 + 4 and 3; double 10 = 8 + 2), and a block holding that register alone
// (double 100 = 12 × 8 + 4: blocks of 4, 4, 4 and 1 registers).
TEMPLATE_TEST_CASE_SIG("rank_update: each value the FMA chain of its samples, to the bit", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), (float, 30, 100), (float, 10, 3),
                       (float, 20, 30), (double, 30, 10), (double, 12, 100)) {
#if defined(__FMA__) || defined(__AVX512F__)
  constexpr bool exact = NN_DISPATCH == 0 || !std::is_same_v<T, float>;
#else
  constexpr bool exact = false;
#endif
  if (!exact) return;  // (no FMA in this build's kernels: rank_update's test above bounds the error)
  const std::size_t m = GENERATE(1, 10, 19);
  nn::rng r(7 * In + Out + m);
  bm<T, In> x(m);
  bm<T, Out> delta(m);
  nn::matrix<T, In, Out> g, fresh;
  ref::fill(x, r);
  ref::fill(delta, r);
  ref::fill(g, r);
  // Input 1 is 0 in every sample and output 2's errors are all negative; weight (1, 2) is −0.
  for (std::size_t s = 0; s < m; ++s) {
    x(s, 1) = T(0);
    delta(s, Out > 2 ? 2 : 0) = -std::fabs(delta(s, Out > 2 ? 2 : 0)) - T(0.01);
  }
  g(1, Out > 2 ? 2 : 0) = -T(0);
  const nn::matrix<T, In, Out> g0 = g;
  const T alpha = static_cast<T>(-0.37);
  nn::simd::rank_update<true, T, In, Out>(x, delta, g, alpha);
  nn::simd::rank_update<false, T, In, Out>(x, delta, fresh, alpha);
  const auto same = [](T a, T b) { return a == b && std::signbit(a) == std::signbit(b); };
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) {
      T acc(0);
      for (std::size_t s = 0; s < m; ++s) acc = std::fma(x(s, i), delta(s, o), acc);
      wrong += !same(g(i, o), std::fma(alpha, acc, g0(i, o)));
      wrong += !same(fresh(i, o), alpha * acc);
    }
  CHECK(wrong == 0);
  CHECK(ref::padding_is_zero(g));
  CHECK(ref::padding_is_zero(fresh));
}

TEMPLATE_TEST_CASE_SIG("column_sum matches alpha·Σ_s delta[s]", "[kernels]", ((class T, std::size_t N), T, N),
                       NN_KERNEL_WIDTHS(float), NN_KERNEL_WIDTHS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
  nn::rng r(N + m);
  bm<T, N> delta(m);
  ref::fill(delta, r);
  nn::matrix<T, 1, N> g, g0, g_ref;
  ref::fill(g0, r);
  g = g0;
  g_ref = g0;
  const T alpha = static_cast<T>(-0.37);
  nn::simd::column_sum<true, T, N>(delta, g.data(), alpha);
  ref::column_sum<true, T, N, long double>(delta, g_ref.data(), alpha);
  nn::matrix<T, 1, N> fresh, fresh_ref;
  nn::simd::column_sum<false, T, N>(delta, fresh.data(), alpha);
  ref::column_sum<false, T, N, long double>(delta, fresh_ref.data(), alpha);
  ref::worst_error fresh_err, g_err;
  for (std::size_t o = 0; o < N; ++o) {
    ref::sum_error<T> sum;
    for (std::size_t s = 0; s < m; ++s) sum.add(delta(s, o), 0);  // the terms are exact
    // As in rank_update.
    const long double sum_err = std::fabs(static_cast<long double>(alpha)) * sum.bound();
    const long double step = ref::rounding<T>(alpha * sum.sum());
    fresh_err.check(fresh(0, o), fresh_ref(0, o), sum_err + ref::rounding<T>(fresh_ref(0, o), 2), 0, o);
    g_err.check(g(0, o), g_ref(0, o), sum_err + step + ref::rounding<T>(g_ref(0, o), 2), 0, o);
  }
  REQUIRE_WITHIN(fresh_err);
  REQUIRE_WITHIN(g_err);
  CHECK(ref::padding_is_zero(g));
  CHECK(ref::padding_is_zero(fresh));
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
  const TestType alpha(2.5);
  std::vector<TestType> y_ref = y;
  nn::simd::axpy<TestType>(alpha, std::span<const TestType>(x.data() + offset, len),
                           std::span<TestType>(y.data() + offset, len));
  ref::axpy<TestType, long double>(alpha, std::span<const TestType>(x.data() + offset, len),
                                   std::span<TestType>(y_ref.data() + offset, len));
  for (std::size_t i = 0; i < offset; ++i) REQUIRE(y[i] == y0[i]);
  // One fma, or a product and a sum (the scalar tail), then the reference's rounding.
  ref::worst_error err;
  for (std::size_t i = offset; i < n + 1; ++i)
    err.check(y[i], y_ref[i],
              ref::rounding<TestType>(alpha * static_cast<long double>(x[i])) + ref::rounding<TestType>(y_ref[i], 2),
              0, i);
  REQUIRE_WITHIN(err);
}

TEMPLATE_TEST_CASE("l2_norm matches sqrt(Σ x²) for any length and alignment, and for tiny and huge values",
                   "[kernels]", float, double) {
  using T = TestType;
  const std::size_t n = GENERATE(0, 1, 3, 15, 16, 17, 63, 64, 65, 100, 785, 23860);
  const std::size_t offset = GENERATE(0, 1);
  nn::rng r(7 * n + offset);
  std::vector<T> x(n + 1);
  for (auto& v : x) v = static_cast<T>(r.normal());
  const std::span<const T> part(x.data() + offset, n + 1 - offset);
  const long double want = ref::l2_norm<T, long double>(part);
  // The kernel sums the squares (each fma rounds once) in 4 register accumulators of W lanes, adds those,
  // then the lanes, then the scalar tail. A positive term's error is at most u·term per addition on its
  // path to the result, so the sum's relative error is at most u times the longest path, D; the square
  // root halves it and rounds once more. (A term left out changes the norm by about 1/(2n): 2e-5 at
  // n = 23860, above this bound in float with AVX-512, u·D/2 ≈ 1.2e-5, and far above it at smaller n.)
  constexpr std::size_t W = nn::simd::width<T>;
  const std::size_t m = part.size();
  const long double depth = static_cast<long double>((m + 4 * W - 1) / (4 * W) + 4 + 2 + W) + std::log2(static_cast<long double>(W));
  const long double bound = ((depth / 2 + 1.01L) * ref::unit_roundoff<T> + static_cast<long double>(m + 2) * ref::unit_roundoff<long double>) * want;
  REQUIRE(ref::diff(nn::simd::l2_norm(part), want) <= bound);
  // Scaled by 2^±90 (float) or 2^±600 (double): the squares overflow or underflow T, the norm does not.
  const int e = sizeof(T) == 4 ? 90 : 600;
  for (const int sign : {1, -1}) {
    std::vector<T> y(part.begin(), part.end());
    for (auto& v : y) v = std::ldexp(v, sign * e);
    const long double got = std::ldexp(static_cast<long double>(nn::simd::l2_norm(std::span<const T>(y))), -sign * e);
    INFO("scaled by 2^" << sign * e);
    REQUIRE(ref::diff(got, want) <= bound);
  }
  if (n) {
    // A NaN anywhere, also as the last value before zeros (a network's gradient ends in zero padding).
    x[offset + n / 2] = std::numeric_limits<T>::quiet_NaN();
    REQUIRE(std::isnan(nn::simd::l2_norm(part)));
    std::vector<T> tail(part.size() + 16, T(0));
    tail[part.size() - 1] = std::numeric_limits<T>::quiet_NaN();
    REQUIRE(std::isnan(nn::simd::l2_norm(std::span<const T>(tail))));
  }
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
