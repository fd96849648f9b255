// The kernels of a layer's forward and backward passes (dense_forward, activate, output_delta,
// dense_backward_input) against their scalar twins in reference.hpp (summing in long double), in float and
// double, for the sizes 1, 3, 10, 30, 100 and 784 in the padded dimension (multiples of the SIMD width
// and not) and mini-batches of 1, 3, 10, 13, 19 and 64 rows (every remainder of the kernels' row blocks).
// Each tolerance is a bound on rounding error computed from the values summed (reference.hpp), so one
// dropped term, a tail off by one or a wrong activation fails at every size, 784 included. The update
// kernels are in kernels_update_test.cpp (one file would take over a minute to compile).
#include <nn/activation.hpp>
#include <nn/cost.hpp>
#include <nn/simd/kernels.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "catch.hpp"
#include "reference.hpp"

namespace {

template <class T, std::size_t N>
using bm = nn::matrix<T, nn::dynamic, N>;

// Whether this build's compile-time kernels multiply-add with FMAs (AVX2 with FMA, AVX-512).
#if defined(__FMA__) || defined(__AVX512F__)
constexpr bool defined_fma = true;
#else
constexpr bool defined_fma = false;
#endif

template <class T>
constexpr long double u = ref::unit_roundoff<T>;

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

TEMPLATE_TEST_CASE_SIG("dense_forward matches the scalar W·x + b and sigmoid", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_LAYERS(float),
                       NN_KERNEL_LAYERS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
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
  ref::worst_error z_err, a_err;
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < Out; ++o) {
      ref::sum_error<T> sum(b(0, o));
      for (std::size_t i = 0; i < In; ++i) sum.add(static_cast<long double>(x(s, i)) * w(i, o));
      // z is the kernel's accumulator itself; the reference rounds its sum to T once.
      z_err.check(z(s, o), z_ref(s, o), sum.bound() + ref::rounding<T>(z_ref(s, o)), s, o);
      // σ' ≤ 1/4 carries z's error into a, then sigmoid's own error and the reference's rounding.
      a_err.check(a(s, o), a_ref(s, o), sum.bound() / 4 + ref::rounding<T>(a_ref(s, o), ref::function_error + 1), s, o);
    }
  REQUIRE_WITHIN(z_err);
  REQUIRE_WITHIN(a_err);
  CHECK(ref::padding_is_zero(z));
  CHECK(ref::padding_is_zero(a));

  // Inference form: no z, same a.
  bm<T, Out> a2(m);
  nn::simd::dense_forward<T, In, Out>(x, w, b.data(), nullptr, a2, nn::sigmoid{});
  CHECK(std::equal(a2.data(), a2.data() + m * a2.stride, a.data()));
}

// Weights larger than 512 KB take panels of 128 inputs (each sum stored between panels and loaded back),
// in chunks of row blocks: every sum must still be the FMA chain of its inputs in order from the bias.
// To the bit where the build's kernels are FMAs (the compile-time kernels of an AVX2 or AVX-512 build);
// elsewhere within the rounding bound. 1200 x 100: the same with the last register of each row (4 of its
// 16 lanes with AVX-512) computed in half a register, stored and loaded back between panels too.
TEMPLATE_TEST_CASE_SIG("dense_forward of weights larger than L2: each sum the chain of its FMAs in order", "[kernels]",
                       ((std::size_t In, std::size_t Out), In, Out), (784, 512), (1200, 100)) {
  constexpr bool exact = NN_DISPATCH == 0 && (defined_fma);
  nn::rng r(11);
  nn::matrix<float, In, Out> w;
  nn::vector<float, Out> b;
  ref::fill(w, r);
  ref::fill(b, r);
  for (const std::size_t m : {1, 7, 48, 61, 100}) {  // 100: two chunks of 8 row blocks and a remainder
    INFO("rows " << m);
    bm<float, In> x(m);
    ref::fill(x, r);
    bm<float, Out> z(m), a(m);
    nn::simd::dense_forward<float, In, Out>(x, w, b.data(), z.data(), a, nn::sigmoid{});
    std::size_t wrong = 0;
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t o = 0; o < Out; ++o) {
        float want = b.data()[o];
        long double sum = b.data()[o], mag = std::fabs(static_cast<long double>(b.data()[o]));
        for (std::size_t i = 0; i < In; ++i) {
          want = std::fma(x(s, i), w(i, o), want);
          sum += static_cast<long double>(x(s, i)) * w(i, o);
          mag += std::fabs(static_cast<long double>(x(s, i)) * w(i, o));
        }
        if (exact) wrong += z(s, o) != want;
        else wrong += std::fabs(z(s, o) - sum) > (In + 1) * u<float> * mag;
      }
    CHECK(wrong == 0);
    CHECK(ref::padding_is_zero(z));
    CHECK(ref::padding_is_zero(a));
  }
}

// (1200, 100): weights over 512 KB whose errors' chunks (36 rows of 112 floats in 16 KB) hold several
// blocks of samples: m = 64 is a chunk and a part (784 × 784 has chunks of one block).
TEMPLATE_TEST_CASE_SIG("dense_backward_input matches (W^T delta) times the activation's derivative", "[kernels]",
                       ((class T, std::size_t In, std::size_t Out), T, In, Out), NN_KERNEL_LAYERS(float),
                       NN_KERNEL_LAYERS(double), (float, 1200, 100)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
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
  ref::worst_error dp_err;
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t i = 0; i < In; ++i) {
      ref::sum_error<T> in_order;
      ref::lane_sum_error<T> by_lane(nn::simd::width<T>);
      for (std::size_t o = 0; o < Out; ++o) {
        const long double p = static_cast<long double>(w(i, o)) * delta(s, o);
        in_order.add(p);
        by_lane.add(o, p);
      }
      // The kernel sums in the formula's order when the next layer fits one register (it transposes the
      // weights), else lane by lane and then across lanes: the larger bound covers both.
      const long double sum_err = std::max(in_order.bound(), by_lane.bound());
      // tanh's derivative 1 − a·a, computed in T from the same a: at most u·(a² + |1 − a²|) off.
      const long double av = ap(s, i), df = 1 - av * av;
      const long double df_err = (av * av + std::fabs(df)) * u<T> * 1.01L;
      const long double tol = (std::fabs(df) + df_err) * sum_err + std::fabs(in_order.sum()) * df_err +
                              ref::rounding<T>(dp_ref(s, i), 2);
      dp_err.check(dp(s, i), dp_ref(s, i), tol, s, i);
    }
  REQUIRE_WITHIN(dp_err);
  CHECK(ref::padding_is_zero(dp));
}

TEMPLATE_TEST_CASE_SIG("output_delta matches the quadratic cost's value and (a − y)·σ'(z)", "[kernels]",
                       ((class T, std::size_t N), T, N), NN_KERNEL_WIDTHS(float), NN_KERNEL_WIDTHS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
  nn::rng r(11 * N + m);
  bm<T, N> z(m), a(m), y(m), delta(m), delta_ref(m);
  ref::fill(z, r, -4, 4);
  ref::fill(y, r, 0, 1);
  nn::simd::activate<T, N>(z, a, nn::sigmoid{});

  // Runs the kernel with `cost` and checks the row costs and the total against the twin's: each row is
  // summed lane by lane and then across lanes, the rows' sums added in order in T. `value` is one
  // output's cost, which T computes with 3 roundings.
  auto run = [&](const auto& cost, auto value) {
    std::vector<T> rows(m);
    std::vector<long double> rows_ref(m);
    const T total = nn::simd::output_delta<T, N>(z.data(), a, y, delta, cost, nn::sigmoid{}, rows.data());
    const long double expect =
        ref::output_delta<T, N, long double>(z.data(), a, y, delta_ref, cost, nn::sigmoid{}, rows_ref.data());
    ref::worst_error row_err, total_err;
    ref::sum_error<T> over_rows;
    long double rows_bound = 0;
    for (std::size_t s = 0; s < m; ++s) {
      ref::lane_sum_error<T> row(nn::simd::width<T>);
      for (std::size_t o = 0; o < N; ++o) row.add(o, value(static_cast<long double>(a(s, o)) - y(s, o)), 3);
      row_err.check(rows[s], rows_ref[s], row.bound(), s, 0);
      over_rows.add(row.sum(), 0);
      rows_bound += row.bound();
    }
    total_err.check(total, expect, over_rows.bound() + rows_bound, 0, 0);
    REQUIRE_WITHIN(row_err);
    REQUIRE_WITHIN(total_err);
    // However threads split the rows, their costs add up to this total exactly.
    T again = 0;
    for (const T c : rows) again += c;
    CHECK(total == again);
  };

  run(nn::quadratic_cost{}, [](long double d) { return d * d / 2; });
  ref::worst_error delta_err;
  // (a − y)·(a·(1 − a)): four roundings in the kernel, one in the reference.
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < N; ++o)
      delta_err.check(delta(s, o), delta_ref(s, o), ref::rounding<T>(delta_ref(s, o), 5), s, o);
  REQUIRE_WITHIN(delta_err);
  CHECK(ref::padding_is_zero(delta));

  // Padding lanes are excluded even when the cost is not zero there.
  run(offset_cost{}, [](long double d) { return d * d + 1; });
  ref::worst_error offset_delta_err;
  // (a − y) + 1: the difference's rounding, the sum's, the reference's.
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t o = 0; o < N; ++o) {
      const long double d = static_cast<long double>(a(s, o)) - y(s, o);
      const long double tol = ref::rounding<T>(d) + ref::rounding<T>(delta_ref(s, o), 2);
      offset_delta_err.check(delta(s, o), delta_ref(s, o), tol, s, o);
    }
  REQUIRE_WITHIN(offset_delta_err);
  CHECK(ref::padding_is_zero(delta));
}

TEMPLATE_TEST_CASE_SIG("activate matches each activation's scalar form", "[kernels]", ((class T, std::size_t N), T, N),
                       NN_KERNEL_WIDTHS(float), NN_KERNEL_WIDTHS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
  nn::rng r(N + 100 * m);
  bm<T, N> z(m), a(m), expect(m);
  ref::fill(z, r, -20, 20);
  // `roundings`: the function's own error in units of u, plus the reference's rounding; 0 demands
  // the exact value.
  auto check = [&](const char* name, auto act, auto math, long double roundings) {
    INFO(name);
    nn::simd::activate<T, N>(z, a, act);
    ref::activate<T, N, long double>(z, expect, math);
    ref::worst_error err;
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t o = 0; o < N; ++o)
        err.check(a(s, o), expect(s, o), ref::rounding<T>(expect(s, o), roundings), s, o);
    REQUIRE_WITHIN(err);
    CHECK(ref::padding_is_zero(a));
  };
  check("sigmoid", nn::sigmoid{}, formula{[](long double v) { return sig(v); }}, ref::function_error + 1);
  check("tanh", nn::tanh{}, formula{[](long double v) { return std::tanh(v); }}, ref::function_error + 1);
  check("relu", nn::relu{}, formula{[](long double v) { return v > 0 ? v : 0.0L; }}, 0);
  check("identity", nn::identity{}, formula{[](long double v) { return v; }}, 0);
  check("step", nn::step{}, formula{[](long double v) { return v > 0 ? 1.0L : 0.0L; }}, 0);
}


// Softmax of each row. With d_j = z_j − max z: the kernel rounds d_j (relative error u, which exp turns
// into |d_j|·u), exp adds function_error·u, the sum of N such terms N·u more, and the division and the
// final product 2·u; the bound is the sum of those for a_j and for the largest term of the sum.
TEMPLATE_TEST_CASE_SIG("softmax_rows matches e^(z − max) / Σ e^(z − max), in place too", "[kernels]",
                       ((class T, std::size_t N), T, N), NN_KERNEL_WIDTHS(float), NN_KERNEL_WIDTHS(double)) {
  const std::size_t m = GENERATE(NN_KERNEL_BATCHES);
  nn::rng r(N + 100 * m);
  bm<T, N> z(m), a(m);
  ref::fill(z, r, -20, 20);
  nn::simd::softmax_rows<T, N>(z, a);
  bm<T, N> in_place = z;
  nn::simd::softmax_rows<T, N>(in_place, in_place);
  ref::worst_error err;
  for (std::size_t s = 0; s < m; ++s) {
    long double mx = z(s, 0), spread = 0, sum = 0;
    for (std::size_t o = 0; o < N; ++o) mx = std::max<long double>(mx, z(s, o));
    for (std::size_t o = 0; o < N; ++o) {
      spread = std::max(spread, mx - z(s, o));
      sum += std::exp(static_cast<long double>(z(s, o)) - mx);
    }
    long double total = 0;
    for (std::size_t o = 0; o < N; ++o) {
      const long double d = mx - z(s, o), want = std::exp(-d) / sum;
      const long double tol = (d + spread + 2 * ref::function_error + N + 3) * u<T> * want;
      err.check(a(s, o), want, tol, s, o);
      REQUIRE(in_place(s, o) == a(s, o));
      total += a(s, o);
    }
    REQUIRE(std::fabs(total - 1) < (N + 2 * ref::function_error + 40) * u<T>);
  }
  REQUIRE_WITHIN(err);
  CHECK(ref::padding_is_zero(a));
}

// simd::exp beyond the range of T: 0 and +inf as std::exp gives (within the range the activations' tests
// hold it to the reference), and NaN kept. xsimd's own exp converts such arguments to an integer, which is
// undefined: the clang sanitizer suite fails here without nn's guard.
TEMPLATE_TEST_CASE("simd::exp is 0 below the range, +inf above it and keeps NaN", "[kernels]", float, double) {
  using T = TestType;
  using B = nn::simd::batch<T>;
  constexpr T inf = std::numeric_limits<T>::infinity(), huge = std::numeric_limits<T>::max();
  const T below[] = {-huge, T(-1e30), T(-1000), T(-746), -inf};
  const T above[] = {huge, T(1e30), T(1000), T(710), inf};
  for (const T x : below) REQUIRE(nn::simd::exp(B(x)).get(0) == 0);
  for (const T x : above) REQUIRE(nn::simd::exp(B(x)).get(0) == inf);
  REQUIRE(std::isnan(nn::simd::exp(B(std::numeric_limits<T>::quiet_NaN())).get(0)));
  for (const T x : {T(-80), T(-1), T(0), T(0.5), T(80)}) REQUIRE(nn::simd::exp(B(x)).get(0) == Approx(std::exp(x)).epsilon(1e-6));
}

// exp takes a shorter road when every lane is in range: a lane out of range (or NaN) must not change the
// others' bits, nor an in-range lane's result depend on which road its batch took.
TEMPLATE_TEST_CASE("simd::exp gives every lane the same bits whatever its neighbours", "[kernels]", float, double) {
  using T = TestType;
  using B = nn::simd::batch<T>;
  constexpr std::size_t W = nn::simd::width<T>;
  alignas(64) T in[W], out[W], mixed[W], base[W];
  for (std::size_t i = 0; i < W; ++i) in[i] = T(-60) + T(7.3) * static_cast<T>(i) / T(W) * T(16);  // -60 .. 57
  nn::simd::exp(B::load_aligned(in)).store_aligned(base);
  constexpr bool f = std::is_same_v<T, float>;
  for (const T odd : {T(-1e6), T(1e6), T(f ? -110 : -760), T(f ? 95 : 720), std::numeric_limits<T>::quiet_NaN()})
    for (std::size_t lane = 0; lane < W; ++lane) {
      std::copy(in, in + W, mixed);
      mixed[lane] = odd;
      nn::simd::exp(B::load_aligned(mixed)).store_aligned(out);
      for (std::size_t i = 0; i < W; ++i)
        if (i != lane) REQUIRE(std::memcmp(&out[i], &base[i], sizeof(T)) == 0);
      if (odd != odd) REQUIRE(std::isnan(out[lane]));
      else REQUIRE(out[lane] == (odd < 0 ? T(0) : std::numeric_limits<T>::infinity()));
    }
}

TEMPLATE_TEST_CASE("softmax_rows is finite for inputs that overflow exp", "[kernels]", float, double) {
  using T = TestType;
  constexpr T big = std::numeric_limits<T>::max() / 4;
  bm<T, 5> z(3), a(3);
  const T rows[3][5] = {{big, 0, -big, T(1000), T(89)},  // e^1000 and e^89 overflow float
                        {T(-1000), T(-1000), T(-1001), T(-2000), -big},  // every e^z underflows to 0
                        {T(7), T(7), T(7), T(7), T(7)}};
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t o = 0; o < 5; ++o) z(s, o) = rows[s][o];
  nn::simd::softmax_rows<T, 5>(z, a);
  for (std::size_t s = 0; s < 3; ++s) {
    T total = 0;
    for (std::size_t o = 0; o < 5; ++o) {
      REQUIRE(std::isfinite(a(s, o)));
      REQUIRE(a(s, o) >= 0);
      total += a(s, o);
    }
    REQUIRE(total == Approx(1).epsilon(1e-6));
  }
  REQUIRE(a(0, 0) == 1);
  REQUIRE(a(0, 1) == 0);
  REQUIRE(a(1, 0) == Approx(1 / (2 + std::exp(T(-1)))).epsilon(1e-6));
  REQUIRE(a(2, 3) == Approx(0.2).epsilon(1e-6));
}
