// The hot kernels of a dense layer, written with xsimd and unrolled over SIMD registers.
//
// Layout (see docs/design.md): a mini-batch is a matrix with one sample per row; a layer's weights are
// stored input-major, Wt[i][o] = weight from input i to neuron o (the course's w_oi), so a row of Wt
// holds one input's weights to every neuron of the layer. Every row is padded to 64 bytes (whole
// registers) and the padding is zero; kernels keep it zero. In a build without AVX-512 the float products
// go to nn/simd/f32.hpp's kernels, chosen at run time (NN_DISPATCH below).
//
// Each kernel keeps a block of accumulators in registers (sample rows x output registers) and streams
// the shared operand once per block. Block sizes are compile-time, chosen from the register count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include "nn/matrix.hpp"
#include "nn/simd/f32.hpp"
#include "nn/simd/unroll.hpp"
#include "nn/simd/xsimd_compat.hpp"

// NN_DISPATCH: 1 when the float products of the dense kernels below go to nn/simd/f32.hpp's kernels, chosen
// at run time; 0 when they are compiled for this translation unit's instruction set (xsimd's). By default
// 1 on x86-64 (GCC, clang) when the build does not enable AVX-512 (a program built for any x86-64 then runs
// AVX-512 or AVX2 kernels where the CPU has them), else 0 (-march=native on an AVX-512 CPU keeps its
// compile-time kernels and their speed). A build may set it either way (docs/portable.md).
#ifndef NN_DISPATCH
#if defined(NN_SIMD_X86) && !defined(__AVX512F__)
#define NN_DISPATCH 1
#else
#define NN_DISPATCH 0
#endif
#endif

namespace nn::simd {

// Whether the dense kernels take nn/simd/f32.hpp's run-time paths for T.
template <class T>
inline constexpr bool runtime_paths = NN_DISPATCH && std::is_same_v<T, float>;

namespace detail {

// Architectural vector registers: 32 with AVX-512, else 16.
template <class T>
inline constexpr std::size_t register_count = sizeof(batch<T>) >= 64 ? 32 : 16;

// f(integral_constant<i>) for i in [0, N): for what needs the index as a constant (a layer of a model).
template <std::size_t N, class F>
NN_INLINE inline void static_for(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) NN_INLINE {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
}

// Calls f(block_start, integral_constant<block>) over [0, n) in blocks of Block, then once for the
// remainder (compile-time n).
template <std::size_t N, std::size_t Block, class F>
NN_INLINE inline void static_blocks(F&& f) {
  std::size_t start = 0;
  for (; start + Block <= N; start += Block) f(start, std::integral_constant<std::size_t, Block>{});
  if constexpr (N % Block != 0) f(start, std::integral_constant<std::size_t, N % Block>{});
}

// The same over a run-time n. The remainder runs as blocks of 8, 4, 2 and 1 (those below Block), so every
// block size is a compile-time constant while a kernel has only about log2(Block) + 1 instantiations.
template <std::size_t Block, class F>
NN_INLINE inline void dynamic_blocks(std::size_t n, F&& f) {
  static_assert(Block <= 16, "remainders are split into blocks of 8, 4, 2 and 1");
  std::size_t start = 0;
  for (; start + Block <= n; start += Block) f(start, std::integral_constant<std::size_t, Block>{});
  const auto part = [&](auto size) NN_INLINE {
    if constexpr (decltype(size)::value < Block) {
      if (n - start >= size) {
        f(start, size);
        start += size;
      }
    }
  };
  part(std::integral_constant<std::size_t, 8>{});
  part(std::integral_constant<std::size_t, 4>{});
  part(std::integral_constant<std::size_t, 2>{});
  part(std::integral_constant<std::size_t, 1>{});
}

// static_blocks' blocks in its order, each also told (bool_constant) whether it holds the last index, N − 1.
// Only when Mark: otherwise every block is told false, through static_blocks' own loop, so that the last
// block is not compiled a second time for nothing.
template <std::size_t N, std::size_t Block, bool Mark, class F>
NN_INLINE inline void static_blocks_last(F&& f) {
  if constexpr (!Mark) {
    static_blocks<N, Block>([&](std::size_t start, auto size) NN_INLINE { f(start, size, std::false_type{}); });
  } else {
    constexpr std::size_t before = (N - 1) / Block;  // the whole blocks ahead of the one holding N − 1
    for (std::size_t b = 0; b < before; ++b) f(b * Block, std::integral_constant<std::size_t, Block>{}, std::false_type{});
    f(before * Block, std::integral_constant<std::size_t, N - before * Block>{}, std::true_type{});
  }
}

template <class T>
NN_INLINE inline batch<T> load(const T* p) noexcept { return batch<T>::load_aligned(p); }

template <class T>
NN_INLINE inline void store(T* p, const batch<T>& v) noexcept { v.store_aligned(p); }

// Sums from zero over a short run (rank_update: the samples of a mini-batch) start their accumulators from
// the first products, x·y, not from FMAs into zeros: on Zen 4 784 × 30 at mini-batch 10 ran 9–11 % faster
// (docs/benchmarks.md, "The first sample multiplied"; over long runs, the convolution's products, it
// changed nothing). x·y differs from fma(x, y, +0) only where the product is an exact −0 (a zero times a
// negative number), which the FMA makes +0; every later FMA keeps that difference a −0 where the chain
// from +0 has +0, and settle, + 0 at the end, takes it back: the same bits as the FMA chain from +0, the
// sign of a zero included, except for a sum whose last FMA rounded a negative number to −0 (a result
// below 2^−149 in magnitude in float, 2^−1074 in double, or below the normal range under flush-to-zero,
// the trainer's default), which becomes +0. (-ffast-math, which drops signed zeros, drops the + 0 too.)
template <class R>
NN_INLINE inline R settle(const R& v) noexcept { return v + R(0); }

// The last register of a row, when it holds at most half of a 512-bit register's lanes (100 outputs:
// six registers of 16 floats and 4), is computed in a 256-bit one, lanes [0, 8) of it. The AMD Zen 4
// splits every 512-bit FMA into two 256-bit halves on its two FMA units, so the narrow register costs half
// as much: 784 → 100 forward from 101 to 109 GFLOP/s (docs/benchmarks.md, "Half a register for the
// tail"). Intel's 512-bit units take either at the same rate. Each lane has the same operations in the same
// order, so the bits are those of the full register; lanes past the half are padding, which stays as it
// was (zero: the kernels keep it so).
// Only where the 256-bit FMA is compiled in too: GCC's -mavx512f alone does not enable it (-mfma).
#if defined(NN_SIMD_X86) && defined(__AVX512F__) && defined(__FMA__)
#define NN_HALF_REGISTERS 1
#else
#define NN_HALF_REGISTERS 0
#endif
template <class T, std::size_t Cols>
inline constexpr bool half_tail = NN_HALF_REGISTERS && sizeof(batch<T>) == 64 &&
                                  row_layout<T, Cols>::tail * 2 <= row_layout<T, Cols>::simd_width;

// The full register's operations under the half register's names: never run (half_tail is false where
// this is the one), but the kernels' discarded half-tail branches name them (clang checks the names once
// they no longer depend on a template parameter).
template <class T>
struct half_register {
  using reg = batch<T>;
  NN_INLINE static reg load(const T* p) noexcept { return detail::load(p); }
  NN_INLINE static void store(T* p, const reg& v) noexcept { detail::store(p, v); }
  NN_INLINE static reg low(const batch<T>& v) noexcept { return v; }
  NN_INLINE static reg fma(const reg& a, const reg& b, const reg& c) noexcept { return simd::fma(a, b, c); }
  NN_INLINE static reg mul(const reg& a, const reg& b) noexcept { return a * b; }
  NN_INLINE static reg add(const reg& a, const reg& b) noexcept { return a + b; }
  NN_INLINE static reg zero() noexcept { return batch<T>(T(0)); }
};
#if NN_HALF_REGISTERS
template <>
struct half_register<float> {
  using reg = __m256;
  NN_INLINE static reg load(const float* p) noexcept { return _mm256_load_ps(p); }
  NN_INLINE static void store(float* p, reg v) noexcept { _mm256_store_ps(p, v); }
  NN_INLINE static reg low(const batch<float>& v) noexcept { return _mm512_castps512_ps256(v); }
  NN_INLINE static reg fma(reg a, reg b, reg c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  NN_INLINE static reg mul(reg a, reg b) noexcept { return _mm256_mul_ps(a, b); }
  NN_INLINE static reg add(reg a, reg b) noexcept { return _mm256_add_ps(a, b); }
  NN_INLINE static reg zero() noexcept { return _mm256_setzero_ps(); }
};
template <>
struct half_register<double> {
  using reg = __m256d;
  NN_INLINE static reg load(const double* p) noexcept { return _mm256_load_pd(p); }
  NN_INLINE static void store(double* p, reg v) noexcept { _mm256_store_pd(p, v); }
  NN_INLINE static reg low(const batch<double>& v) noexcept { return _mm512_castpd512_pd256(v); }
  NN_INLINE static reg fma(reg a, reg b, reg c) noexcept { return _mm256_fmadd_pd(a, b, c); }
  NN_INLINE static reg mul(reg a, reg b) noexcept { return _mm256_mul_pd(a, b); }
  NN_INLINE static reg add(reg a, reg b) noexcept { return _mm256_add_pd(a, b); }
  NN_INLINE static reg zero() noexcept { return _mm256_setzero_pd(); }
};
#endif

}  // namespace detail

// Softmax of every row: a[s][o] = e^(z[s][o] − m_s) / Σ_k e^(z[s][k] − m_s), m_s = max_k z[s][k], so no
// exponent overflows however large z is; padding stays zero. a may be z (in place).
template <class T, std::size_t N>
void softmax_rows(matrix_ref<const T, dynamic, N> z, matrix_ref<T, dynamic, N> a) noexcept {
  using L = row_layout<T, N>;
  constexpr std::size_t C = L::registers, W = L::simd_width;
  const batch_bool<T> tail = first_lanes<T>(L::tail);
  const batch<T> lowest(std::numeric_limits<T>::lowest()), zero(T(0));
  for (std::size_t s = 0; s < z.rows(); ++s) {
    const T* zr = z.data() + s * L::stride;
    T* ar = a.data() + s * L::stride;
    batch<T> mx = lowest;
    for (std::size_t c = 0; c < C; ++c) {
      const batch<T> v = detail::load(zr + c * W);
      mx = xsimd::max(mx, c == C - 1 ? xsimd::select(tail, v, lowest) : v);
    }
    const batch<T> m(reduce_max(mx));
    batch<T> sum = zero;
    for (std::size_t c = 0; c < C; ++c) {
      batch<T> e = simd::exp(detail::load(zr + c * W) - m);
      if (c == C - 1) e = xsimd::select(tail, e, zero);
      detail::store(ar + c * W, e);
      sum += e;
    }
    const batch<T> inv(T(1) / reduce_add(sum));  // the largest term is e^0 = 1, so sum >= 1
    for (std::size_t c = 0; c < C; ++c) detail::store(ar + c * W, detail::load(ar + c * W) * inv);
  }
}

// a[s][o] = act.f(z[s][o]) for every row; padding stays zero. A row-wise activation (one with a member
// rows(z, a), like nn::softmax) computes whole rows itself.
template <class T, std::size_t N, class Act>
void activate(matrix_ref<const T, dynamic, N> z, matrix_ref<T, dynamic, N> a, const Act& act) noexcept {
  if constexpr (requires { act.template rows<T, N>(z, a); }) {
    act.template rows<T, N>(z, a);
  } else {
    using L = row_layout<T, N>;
    const batch_bool<T> tail_mask = first_lanes<T>(L::tail);
    for (std::size_t s = 0; s < z.rows(); ++s) {
      for (std::size_t c = 0; c < L::registers; ++c) {
        const std::size_t off = s * L::stride + c * L::simd_width;
        batch<T> v = act.f(detail::load(z.data() + off));
        if (c == L::registers - 1) v = xsimd::select(tail_mask, v, batch<T>(T(0)));
        detail::store(a.data() + off, v);
      }
    }
  }
}

// Forward pass of a dense layer for a mini-batch, with the bias and the activation fused:
//   z[s][o] = b[o] + Σ_i x[s][i]·Wt[i][o],   a[s][o] = act.f(z[s][o]).
// z may be null (inference: only a is written). x and a have the same number of rows.
template <class T, std::size_t In, std::size_t Out, class Act>
void dense_forward(matrix_ref<const T, dynamic, In> x, matrix_ref<const T, In, Out> w, const T* b,
                   T* z, matrix_ref<T, dynamic, Out> a, const Act& act) noexcept {
  using L = row_layout<T, Out>;
  constexpr std::size_t W = L::simd_width, C = L::registers, SO = L::stride, SI = row_layout<T, In>::stride;
  constexpr std::size_t CB = C < 4 ? C : 4;
  constexpr std::size_t rows_max = (detail::register_count<T> - CB - 1) / CB;
  // At most 10 samples a block: the course's mini-batch of 10 is then one block, where 12 had split it
  // into blocks of 8 and 2, and the block of 2 loaded every weight again for 4 FMAs (784 → 30 at
  // mini-batch 10: 97 → 106 GFLOP/s on the Zen 4; docs/benchmarks.md, "A block of ten samples").
  constexpr std::size_t SB = rows_max < 10 ? rows_max : 10;
  constexpr std::size_t line = 64 / sizeof(T);
  T* const out = z ? z : a.data();  // W·x + b goes here first; a = f(out) in place when there is no z

  if constexpr (runtime_paths<T>) {
    f32::active().product({x.rows(), In, Out, x.data(), SI, 1, w.data(), SO, b, out, SO});
  } else {
    // Samples [s0, s0 + sb_n) × output registers [c0, c0 + cb_n), inputs [k0, k1): from the bias when k0
    // is 0, else from what the previous panel of inputs stored, so every sum has the same additions in
    // the same order whatever the panels.
    // With half_tail, the block holding the row's last register (half_c) computes it in 256 bits.
    const auto block = [&](std::size_t s0, auto sb_c, std::size_t c0, auto cb_c, auto half_c, std::size_t k0, std::size_t k1) NN_INLINE {
      constexpr std::size_t sb_n = decltype(sb_c)::value, cb_n = decltype(cb_c)::value;
      constexpr bool half = decltype(half_c)::value;
      constexpr std::size_t cf = cb_n - (half ? 1 : 0);  // full registers
      using H = detail::half_register<T>;
      const std::size_t ch = (c0 + cf) * W;  // the half register's column
      batch<T> acc[sb_n][cf ? cf : 1];
      [[maybe_unused]] typename H::reg acc_h[sb_n];
      if (k0 == 0) {
        NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) {
          const batch<T> bias = detail::load(b + (c0 + cb) * W);
          NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) { acc[sb][cb] = bias; }
        }
        if constexpr (half) {
          const auto bias = H::load(b + ch);
          NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) { acc_h[sb] = bias; }
        }
      } else {
        NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
          NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { acc[sb][cb] = detail::load(out + (s0 + sb) * SO + (c0 + cb) * W); }
          if constexpr (half) acc_h[sb] = H::load(out + (s0 + sb) * SO + ch);
        }
      }
      const T* xr = x.row_data(s0);
      const T* wr = w.data() + k0 * SO + c0 * W;
      for (std::size_t i = k0; i < k1; ++i, wr += SO) {
        // The first column block asks for the next row block's inputs, a cache line per row every 64
        // bytes of i: when x comes from memory (predict), they arrive while this block computes.
        if (c0 == 0 && i % line == 0)
          NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
            if (s0 + sb_n + sb < x.rows()) __builtin_prefetch(xr + (sb_n + sb) * SI + i, 0, 3);
          }
        batch<T> wv[cf ? cf : 1];
        NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { wv[cb] = detail::load(wr + cb * W); }
        [[maybe_unused]] typename H::reg wh;
        if constexpr (half) wh = H::load(wr + cf * W);
        NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
          const batch<T> xv(xr[sb * SI + i]);
          NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { acc[sb][cb] = simd::fma(xv, wv[cb], acc[sb][cb]); }
          if constexpr (half) acc_h[sb] = H::fma(H::low(xv), wh, acc_h[sb]);
        }
      }
      NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
        NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { detail::store(out + (s0 + sb) * SO + (c0 + cb) * W, acc[sb][cb]); }
        if constexpr (half) H::store(out + (s0 + sb) * SO + ch, acc_h[sb]);
      }
    };
    if constexpr (In * SO * sizeof(T) <= (512u << 10)) {
      // Weights that stay in L2: each block of samples takes every column block in turn, its inputs in L1.
      detail::dynamic_blocks<SB>(x.rows(), [&](std::size_t s0, auto sb_c) NN_INLINE {
        detail::static_blocks_last<C, CB, detail::half_tail<T, Out>>([&](std::size_t c0, auto cb_c, auto last_c) NN_INLINE { block(s0, sb_c, c0, cb_c, last_c, 0, In); });
      });
    } else {
      // Larger weights (784 → 512: 1.6 MB): chunks of 8 row blocks (their inputs and outputs stay in L2),
      // in each panels of 128 inputs, and per panel each column block's weights (128 × up to 4 registers,
      // 32 KB) serve every row block of the chunk from L1, where they came from L2 or further for every
      // block of samples: 784 → 512 from 113–116 to 142–155 GFLOP/s (docs/benchmarks.md).
      constexpr std::size_t panel = 128, chunk = 8 * SB;
      for (std::size_t r0 = 0; r0 < x.rows(); r0 += chunk) {
        const std::size_t rn = std::min(chunk, x.rows() - r0);
        for (std::size_t k0 = 0; k0 < In; k0 += panel) {
          const std::size_t k1 = std::min(In, k0 + panel);
          detail::static_blocks_last<C, CB, detail::half_tail<T, Out>>([&](std::size_t c0, auto cb_c, auto last_c) NN_INLINE {
            detail::dynamic_blocks<SB>(rn, [&](std::size_t s0, auto sb_c) NN_INLINE { block(r0 + s0, sb_c, c0, cb_c, last_c, k0, k1); });
          });
        }
      }
    }
  }
  // The activation in a plain loop over the (L1-resident) results: inlining exp into every unrolled
  // block would multiply the compile time and code size for no speed.
  activate<T, Out>(matrix_ref<const T, dynamic, Out>(out, x.rows()), a, act);
}

// Output layer error and cost of a mini-batch:
//   delta[s][o] = cost.delta(z, a, y, act),  returns Σ_s Σ_o cost.value(a, y) (padding excluded),
// summed row by row in order; with row_costs, each row's Σ_o is also written there (so rows computed by
// different threads add up to exactly the same total).
template <class T, std::size_t Out, class Cost, class Act>
T output_delta(const T* z, matrix_ref<const T, dynamic, Out> a, matrix_ref<const T, dynamic, Out> y,
               matrix_ref<T, dynamic, Out> delta, const Cost& cost, const Act& act, T* row_costs = nullptr) noexcept {
  if constexpr (requires { Cost::classes; })
    static_assert(Cost::classes == Out, "this cost is written for a different number of outputs (Cost::classes)");
  using L = row_layout<T, Out>;
  constexpr std::size_t W = L::simd_width, C = L::registers, SO = L::stride;
  const batch_bool<T> tail_mask = first_lanes<T>(L::tail);
  const batch<T> zero(T(0));
  T total(0);
  for (std::size_t s = 0; s < a.rows(); ++s) {
    batch<T> row(T(0));
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t off = s * SO + c * W;
      const batch<T> av = detail::load(a.data() + off), yv = detail::load(y.data() + off);
      batch<T> d = cost.delta(detail::load(z + off), av, yv, act);
      batch<T> v = cost.value(av, yv);
      if (c == C - 1) {
        d = xsimd::select(tail_mask, d, zero);
        v = xsimd::select(tail_mask, v, zero);
      }
      detail::store(delta.data() + off, d);
      row += v;
    }
    const T r = reduce_add(row);
    if (row_costs) row_costs[s] = r;
    total += r;
  }
  return total;
}

// For dense_backward_input: the error with respect to the layer's inputs only, not multiplied by the
// derivative of whatever made them (a layer applies its own activation's derivative: times_derivative).
struct no_derivative {};

// g[s][o] ← g[s][o] · act.df(z[s][o], a[s][o]) for every row: an error with respect to a layer's
// outputs a = f(z) becomes the error with respect to z. Padding stays zero.
template <class T, std::size_t N, class Act>
void times_derivative(matrix_ref<const T, dynamic, N> z, matrix_ref<const T, dynamic, N> a, matrix_ref<T, dynamic, N> g,
                      const Act& act) noexcept {
  using L = row_layout<T, N>;
  const batch_bool<T> tail_mask = first_lanes<T>(L::tail);
  for (std::size_t s = 0; s < g.rows(); ++s) {
    for (std::size_t c = 0; c < L::registers; ++c) {
      const std::size_t off = s * L::stride + c * L::simd_width;
      batch<T> d = detail::load(g.data() + off) * act.df(detail::load(z.data() + off), detail::load(a.data() + off));
      if (c == L::registers - 1) d = xsimd::select(tail_mask, d, batch<T>(T(0)));
      detail::store(g.data() + off, d);
    }
  }
}

// Error of a hidden layer from the error of the layer after it (before that layer's weights change):
//   dp[s][i] = (Σ_o Wt[i][o]·delta[s][o]) · act.df(zp[s][i], ap[s][i]),
// or without the derivative when Act is no_derivative.
// A narrow next layer (one register of outputs, e.g. the 10 outputs of MNIST) is transposed into a small
// buffer first, so each sample's error is a broadcast-FMA over its In values and needs no horizontal sum;
// wider layers take dot products along the rows of Wt, a horizontal sum per (sample, input).
template <class T, std::size_t In, std::size_t Out, class Act>
void dense_backward_input(matrix_ref<const T, In, Out> w, matrix_ref<const T, dynamic, Out> delta,
                          const T* zp, matrix_ref<const T, dynamic, In> ap, matrix_ref<T, dynamic, In> dp,
                          const Act& act) noexcept {
  using LO = row_layout<T, Out>;
  using LI = row_layout<T, In>;
  constexpr std::size_t W = LO::simd_width, C = LO::registers, SO = LO::stride, SI = LI::stride;
  constexpr std::size_t CI = LI::registers;
  const batch_bool<T> tail_mask = first_lanes<T>(LI::tail);
  // Times the activation's derivative (none for no_derivative: zp and ap are not read), one register;
  // padding stays zero.
  const auto finish = [&](std::size_t off, std::size_t c, batch<T> sum) NN_INLINE {
    batch<T> d = sum;
    if constexpr (!std::is_same_v<Act, no_derivative>) d = sum * act.df(detail::load(zp + off), detail::load(ap.data() + off));
    if (c == CI - 1) d = xsimd::select(tail_mask, d, batch<T>(T(0)));
    detail::store(dp.data() + off, d);
  };

  // wt[o][i] = Wt[i][o], padding zero (for a narrow next layer).
  const auto transpose = [&](T* wt) {
    for (std::size_t o = 0; o < Out; ++o) {
      for (std::size_t i = 0; i < In; ++i) wt[o * SI + i] = w.data()[i * SO + o];
      for (std::size_t i = In; i < SI; ++i) wt[o * SI + i] = T(0);
    }
  };

  if constexpr (runtime_paths<T>) {
    // (a narrow layer: the transposed weights times the error, as below; else dot products along Wt's rows)
    if constexpr (Out <= 16 && Out * SI * sizeof(T) <= 32768) {
      alignas(alignment) T wt[Out * SI];
      transpose(wt);
      f32::active().product({dp.rows(), Out, In, delta.data(), SO, 1, wt, SI, nullptr, dp.data(), SI});
    } else {
      f32::active().dot({dp.rows(), In, Out, w.data(), SO, delta.data(), SO, dp.data(), SI});
    }
    for (std::size_t s = 0; s < dp.rows(); ++s)
      for (std::size_t c = 0; c < CI; ++c) finish(s * SI + c * W, c, detail::load(dp.data() + s * SI + c * W));
  } else if constexpr (C == 1 && Out * SI * sizeof(T) <= 32768) {
    alignas(alignment) T wt[Out * SI];
    transpose(wt);
    for (std::size_t s = 0; s < dp.rows(); ++s) {
      const T* ds = delta.data() + s * SO;
      detail::static_blocks<CI, 8>([&](std::size_t c0, auto cb_c) NN_INLINE {
        constexpr std::size_t cb_n = decltype(cb_c)::value;
        batch<T> acc[cb_n];
        NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { acc[cb] = batch<T>(T(0)); }
        for (std::size_t o = 0; o < Out; ++o) {
          const batch<T> dv(ds[o]);
          NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) {
            acc[cb] = simd::fma(dv, detail::load(wt + o * SI + (c0 + cb) * W), acc[cb]);
          }
        }
        NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { finish(s * SI + (c0 + cb) * W, c0 + cb, acc[cb]); }
      });
    }
  } else {
    constexpr std::size_t B = detail::register_count<T> >= 32 ? 4 : 3;
    // A block of B samples × B inputs: the B weight rows' dot products with the B samples' errors.
    const auto block = [&](std::size_t s0, auto sb_c, std::size_t i0, auto ib_c) NN_INLINE {
      constexpr std::size_t sb_n = decltype(sb_c)::value, ib_n = decltype(ib_c)::value;
      batch<T> acc[sb_n][ib_n];
      NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
        NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) { acc[sb][ib] = batch<T>(T(0)); }
      }
      for (std::size_t c = 0; c < C; ++c) {
        batch<T> wv[ib_n];
        NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) { wv[ib] = detail::load(w.data() + (i0 + ib) * SO + c * W); }
        NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
          const batch<T> dv = detail::load(delta.data() + (s0 + sb) * SO + c * W);
          NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) { acc[sb][ib] = simd::fma(wv[ib], dv, acc[sb][ib]); }
        }
      }
#if defined(NN_SIMD_X86) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
      // AVX-512 floats: a 4 × 4 block's sums at once (f32.hpp), the same bits as one by one. (Only with
      // every extension f32.hpp's AVX-512 path is compiled for: a build with -mavx512f alone sums one by one.)
      if constexpr (std::is_same_v<T, float> && width<T> == 16) {
        using ops = f32::avx512::ops;
        if constexpr (sb_n == 4 && ib_n == 4) {
          ops::reg a[4][4];
          NN_UNROLL for (std::size_t sb = 0; sb < 4; ++sb) NN_UNROLL for (std::size_t ib = 0; ib < 4; ++ib) a[sb][ib] = acc[sb][ib];
          ops::write_sums_4x4(a, dp.data() + s0 * SI + i0, SI);
        } else {
          NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
            NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) { dp.data()[(s0 + sb) * SI + i0 + ib] = ops::sum(acc[sb][ib]); }
          }
        }
        return;
      }
#endif
      NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
        NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) { dp.data()[(s0 + sb) * SI + i0 + ib] = reduce_add(acc[sb][ib]); }
      }
    };
    if constexpr (In * SO * sizeof(T) <= (512u << 10)) {
      // Weights that stay in L2: each block of samples takes every block of inputs in turn.
      detail::dynamic_blocks<B>(delta.rows(), [&](std::size_t s0, auto sb_c) NN_INLINE {
        detail::static_blocks<In, B>([&](std::size_t i0, auto ib_c) NN_INLINE { block(s0, sb_c, i0, ib_c); });
      });
    } else {
      // Larger weights (chapter 6's 2880 → 100: 1.3 MB, more than the L2): each block of inputs' weight
      // rows serves every block of samples of a chunk, whose errors (at most 16 KB) stay in L1, so the
      // weights come from memory once per chunk instead of once per block of samples. Every value is the
      // same block's same sums whatever the order of the blocks: the same bits.
      constexpr std::size_t fit = (16u << 10) / (SO * sizeof(T)) / B * B, chunk = fit > B ? fit : B;
      for (std::size_t r0 = 0; r0 < delta.rows(); r0 += chunk) {
        const std::size_t rn = std::min(chunk, delta.rows() - r0);
        detail::static_blocks<In, B>([&](std::size_t i0, auto ib_c) NN_INLINE {
          detail::dynamic_blocks<B>(rn, [&](std::size_t s0, auto sb_c) NN_INLINE { block(r0 + s0, sb_c, i0, ib_c); });
        });
      }
    }
    for (std::size_t s = 0; s < dp.rows(); ++s)
      for (std::size_t c = 0; c < CI; ++c) finish(s * SI + c * W, c, detail::load(dp.data() + s * SI + c * W));
  }
}

// Weight gradient of a mini-batch as a rank-m update:
//   Accumulate = false:  g[i][o]  = alpha · Σ_s x[s][i]·delta[s][o]     (a gradient)
//   Accumulate = true:   g[i][o] += alpha · Σ_s x[s][i]·delta[s][o]     (e.g. SGD fused: g = Wt, alpha = −η/m)
// Only rows [first, last) of g are computed (threads split a layer's rows; each sum runs over the samples
// in the same order whatever the split). A gradient's every value is written: the padding past the
// registers that hold values (a row is 64 bytes long, and registers may be narrower) gets 0.
template <bool Accumulate, class T, std::size_t In, std::size_t Out>
void rank_update(matrix_ref<const T, dynamic, In> x, matrix_ref<const T, dynamic, Out> delta,
                 matrix_ref<T, In, Out> g, T alpha, std::size_t first = 0, std::size_t last = In) noexcept {
  using LO = row_layout<T, Out>;
  constexpr std::size_t W = LO::simd_width, C = LO::registers, SO = LO::stride, SI = row_layout<T, In>::stride;
  constexpr std::size_t CB = C < 4 ? C : 4;
  constexpr std::size_t rows_max = (detail::register_count<T> - CB - 1) / CB;
  constexpr std::size_t IB = rows_max < 8 ? rows_max : 8;
  const std::size_t m = x.rows();
  const batch<T> av(alpha);

  if constexpr (runtime_paths<T>) {
    f32::active().product({last - first, m, Out, x.data() + first, 1, SI, delta.data(), SO, nullptr, g.data() + first * SO, SO,
                           Accumulate ? f32::product_finish::add : f32::product_finish::scale, alpha});
  } else {
    detail::dynamic_blocks<IB>(last - first, [&](std::size_t i_start, auto ib_c) NN_INLINE {
      constexpr std::size_t ib_n = decltype(ib_c)::value;
      const std::size_t i0 = first + i_start;
      detail::static_blocks_last<C, CB, detail::half_tail<T, Out>>([&](std::size_t c0, auto cb_c, auto last_c) NN_INLINE {
        constexpr std::size_t cb_n = decltype(cb_c)::value;
        constexpr bool half = decltype(last_c)::value;  // (as in dense_forward)
        constexpr std::size_t cf = cb_n - (half ? 1 : 0);
        using H = detail::half_register<T>;
        const std::size_t ch = (c0 + cf) * W;
        // The sums start from the first sample's products and are settled at the end (detail::settle). (The
        // first sample's loop is written out beside the others': one lambda for both, told which it is, ran
        // 784 × 100 at mini-batch 10 2.5 % slower, from GCC's different scheduling.)
        batch<T> acc[ib_n][cf ? cf : 1];
        [[maybe_unused]] typename H::reg acc_h[ib_n];
        const T* dr = delta.data() + c0 * W;
        const T* xr = x.data() + i0;
        if (m == 0) {
          NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) {
            NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { acc[ib][cb] = batch<T>(T(0)); }
            if constexpr (half) acc_h[ib] = H::zero();
          }
        } else {
          batch<T> dv[cf ? cf : 1];
          NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { dv[cb] = detail::load(dr + cb * W); }
          [[maybe_unused]] typename H::reg dh;
          if constexpr (half) dh = H::load(dr + cf * W);
          NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) {
            const batch<T> xv(xr[ib]);
            NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { acc[ib][cb] = xv * dv[cb]; }
            if constexpr (half) acc_h[ib] = H::mul(H::low(xv), dh);
          }
          dr += SO;
          xr += SI;
        }
        for (std::size_t s = 1; s < m; ++s, dr += SO, xr += SI) {
          batch<T> dv[cf ? cf : 1];
          NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { dv[cb] = detail::load(dr + cb * W); }
          [[maybe_unused]] typename H::reg dh;
          if constexpr (half) dh = H::load(dr + cf * W);
          NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) {
            const batch<T> xv(xr[ib]);
            NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) { acc[ib][cb] = simd::fma(xv, dv[cb], acc[ib][cb]); }
            if constexpr (half) acc_h[ib] = H::fma(H::low(xv), dh, acc_h[ib]);
          }
        }
        NN_UNROLL for (std::size_t ib = 0; ib < ib_n; ++ib) {
          NN_UNROLL for (std::size_t cb = 0; cb < cf; ++cb) {
            T* p = g.data() + (i0 + ib) * SO + (c0 + cb) * W;
            const batch<T> sum = detail::settle(acc[ib][cb]);
            if constexpr (Accumulate)
              detail::store(p, simd::fma(av, sum, detail::load(p)));
            else
              detail::store(p, av * sum);
          }
          if constexpr (half) {
            T* p = g.data() + (i0 + ib) * SO + ch;
            const auto sum = H::add(acc_h[ib], H::zero());
            if constexpr (Accumulate)
              H::store(p, H::fma(H::low(av), sum, H::load(p)));
            else
              H::store(p, H::mul(H::low(av), sum));
          }
        }
      });
    });
  }
  // (from Out: a run-time path narrower than this build's registers, or the plain C++ one, leaves lanes of
  // [Out, C·W) unwritten)
  if constexpr (!Accumulate && Out < SO)
    for (std::size_t i = first; i < last; ++i) std::fill(g.data() + i * SO + Out, g.data() + (i + 1) * SO, T(0));
}

// Bias gradient: g[o] (+)= alpha · Σ_s delta[s][o].
template <bool Accumulate, class T, std::size_t Out>
void column_sum(matrix_ref<const T, dynamic, Out> delta, T* g, T alpha) noexcept {
  using LO = row_layout<T, Out>;
  constexpr std::size_t W = LO::simd_width, C = LO::registers, SO = LO::stride;
  const batch<T> av(alpha);
  for (std::size_t c = 0; c < C; ++c) {
    batch<T> acc(T(0));
    for (std::size_t s = 0; s < delta.rows(); ++s) acc += detail::load(delta.data() + s * SO + c * W);
    if constexpr (Accumulate)
      detail::store(g + c * W, simd::fma(av, acc, detail::load(g + c * W)));
    else
      detail::store(g + c * W, av * acc);
  }
  if constexpr (!Accumulate && C * W < SO) std::fill(g + C * W, g + SO, T(0));  // (the padding's gradient)
}

// y += alpha · x over two spans of equal length (any alignment, any length).
template <class T>
void axpy(T alpha, std::span<const T> x, std::span<T> y) noexcept {
  constexpr std::size_t W = width<T>;
  const std::size_t n = x.size() < y.size() ? x.size() : y.size();
  const batch<T> av(alpha);
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    const batch<T> r = simd::fma(av, batch<T>::load_unaligned(x.data() + i), batch<T>::load_unaligned(y.data() + i));
    r.store_unaligned(y.data() + i);
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// ‖x‖ = sqrt(Σ x_i²) over any length and alignment (nn::normalized_sgd): four register accumulators,
// then the scalar tail. When the sum of squares overflows or sinks below T's normal range (gradients of
// 1e20 or 1e-25 in float), it is recomputed in long double scaled by the largest |x_i|, so the norm is
// accurate for every finite x whose norm T can hold; a NaN anywhere in x gives NaN.
template <class T>
T l2_norm(std::span<const T> x) noexcept {
  constexpr std::size_t W = width<T>;
  const std::size_t n = x.size();
  batch<T> acc[4] = {batch<T>(T(0)), batch<T>(T(0)), batch<T>(T(0)), batch<T>(T(0))};
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W)
    for (std::size_t k = 0; k < 4; ++k) {
      const batch<T> v = batch<T>::load_unaligned(x.data() + i + k * W);
      acc[k] = simd::fma(v, v, acc[k]);
    }
  for (; i + W <= n; i += W) {
    const batch<T> v = batch<T>::load_unaligned(x.data() + i);
    acc[0] = simd::fma(v, v, acc[0]);
  }
  T s = reduce_add((acc[0] + acc[1]) + (acc[2] + acc[3]));
  for (; i < n; ++i) s += x[i] * x[i];
  if (s >= std::numeric_limits<T>::min() && s <= std::numeric_limits<T>::max()) return std::sqrt(s);
  long double big = 0;
  for (const T v : x) {
    const long double a = std::fabs(static_cast<long double>(v));
    if (a != a) return std::numeric_limits<T>::quiet_NaN();
    if (a > big) big = a;
  }
  if (!(big > 0) || !(big <= std::numeric_limits<long double>::max())) return static_cast<T>(big);  // 0, NaN or ∞
  long double t = 0;
  for (const T v : x) {
    const long double q = static_cast<long double>(v) / big;
    t += q * q;
  }
  return static_cast<T>(big * std::sqrt(t));
}

// y ← y + c·x over whole aligned registers (sizes a multiple of the SIMD width, as padded rows are).
template <class T>
void axpy_registers(T c, std::span<const T> x, std::span<T> y) noexcept {
  const batch<T> cv(c);
  const T* xp = x.data();
  T* const end = y.data() + y.size();
  for (T* p = y.data(); p < end; p += width<T>, xp += width<T>) detail::store(p, simd::fma(cv, detail::load(xp), detail::load(p)));
}

// y ← m ⊙ y over whole aligned registers.
template <class T>
void multiply(std::span<const T> m, std::span<T> y) noexcept {
  const T* mp = m.data();
  T* const end = y.data() + y.size();
  for (T* p = y.data(); p < end; p += width<T>, mp += width<T>) detail::store(p, detail::load(mp) * detail::load(p));
}

// x ← c·x over whole aligned registers (x.size() a multiple of the SIMD width, as padded rows are).
template <class T>
void scale(T c, std::span<T> x) noexcept {
  const batch<T> cv(c);
  T* const end = x.data() + x.size();
  for (T* p = x.data(); p < end; p += width<T>) detail::store(p, cv * detail::load(p));
}

}  // namespace nn::simd
