// The float kernels chosen at run time: one program holds them for AVX-512, AVX2 + FMA, SSE2 and plain
// C++ (every CPU; the twin the tests hold the others to), and takes the fastest this CPU runs, or the one
// NN_ISA names (nn/simd/isa.hpp). nn's dense kernels (nn/simd/kernels.hpp) call them for float in a build
// whose instruction set stops short of AVX-512 (NN_DISPATCH, docs/portable.md): a program built for any
// x86-64 then trains at AVX-512 speed where the CPU has it. A build with AVX-512 enabled keeps its own
// compile-time kernels.
//
// Two kernels serve the dense layer's products; both read and write rows whose stride is a multiple of 64
// bytes (nn's layout on every instruction set, simd::layout_width), so a path with wider registers than the
// build's runs over the same data:
// - product: out[i][0..cols) = finish(init[0..cols) + Σ_k a[i·ars + k·acs] · b[k][0..cols)), a broadcast
//   of a times rows of b into a block of accumulators (dense_forward: x times Wt plus the bias;
//   rank_update: xᵀ times the error; the error at the inputs of a narrow layer; a convolution's
//   products, nn/simd/conv.hpp);
// - dot: out[s][i] = Σ_c a[i][c] · b[s][c], dot products along whole rows (the error at the inputs of a
//   wide layer).
// Each writes columns [0, cols) and may write on to the end of its last register (never past the row's
// 64-byte stride), the same formula over the rows' zero padding (0 when init's padding is 0): which lanes
// past `cols` are written depends on the path (the plain C++ twin writes none), so a caller that needs the
// padding written (a gradient's) writes it itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include "nn/simd/isa.hpp"
#include "nn/simd/unroll.hpp"

#ifdef NN_SIMD_X86
#include <immintrin.h>
#endif

namespace nn::simd::f32 {

// What product does with the sum: out = sum, out = alpha · sum, or out += alpha · sum (as one FMA where the
// path has them, as the compile-time kernels do).
enum class product_finish { store, scale, add };

struct product_args {
  std::size_t rows, inner, cols;
  const float* a;
  std::size_t ars, acs;  // a[i][k] at a[i·ars + k·acs]
  const float* b;        // row k at b + k·b_stride, 64-byte aligned
  std::size_t b_stride;
  const float* init;  // a row added to every sum (a bias), or null
  float* out;         // row i at out + i·out_stride, 64-byte aligned
  std::size_t out_stride;
  product_finish finish = product_finish::store;
  float alpha = 1.0f;
  const float* init_rows = nullptr;      // or init_rows[i] added to every sum of row i (a map's bias)
  const std::uint32_t* b_rows = nullptr;  // gathered(): row k at b + b_rows[k], any alignment (conv_forward's taps)
};

struct dot_args {
  std::size_t rows, n, cols;  // out: rows × n sums of cols products
  const float* a;             // row i at a + i·a_stride (n rows), 64-byte aligned
  std::size_t a_stride;
  const float* b;  // row s at b + s·b_stride (rows rows), 64-byte aligned
  std::size_t b_stride;
  float* out;  // out[s][i] at out + s·out_stride + i
  std::size_t out_stride;
};

using product_fn = void (*)(const product_args&) noexcept;

namespace scalar {
// The plain C++ twins: product's sums in the same order as the SIMD paths' (each product added separately);
// dot's straight along the row (the SIMD paths sum lane by lane, then the lanes in a tree).
inline void product(const product_args& p) noexcept {
  for (std::size_t i = 0; i < p.rows; ++i)
    for (std::size_t c = 0; c < p.cols; ++c) {
      float acc = p.init ? p.init[c] : p.init_rows ? p.init_rows[i] : 0.0f;
      for (std::size_t k = 0; k < p.inner; ++k)
        acc += p.a[i * p.ars + k * p.acs] * p.b[(p.b_rows ? p.b_rows[k] : k * p.b_stride) + c];
      float* o = p.out + i * p.out_stride + c;
      *o = p.finish == product_finish::store ? acc : p.finish == product_finish::scale ? p.alpha * acc : *o + p.alpha * acc;
    }
}
inline void product_gathered(const product_args& p) noexcept { product(p); }
inline void dot(const dot_args& p) noexcept {
  for (std::size_t s = 0; s < p.rows; ++s)
    for (std::size_t i = 0; i < p.n; ++i) {
      float acc = 0.0f;
      for (std::size_t c = 0; c < p.cols; ++c) acc += p.a[i * p.a_stride + c] * p.b[s * p.b_stride + c];
      p.out[s * p.out_stride + i] = acc;
    }
}
}  // namespace scalar

#ifdef NN_SIMD_X86

// Each set's region: every function defined in it gets the set's target attribute (GCC: the pragma;
// clang: an attribute on every function, lambdas included).
#define NN_F32_PRAGMA(X) _Pragma(#X)
#if defined(__clang__)
#define NN_F32_BEGIN(TARGET) NN_F32_PRAGMA(clang attribute push(__attribute__((target(TARGET))), apply_to = function))
#define NN_F32_END NN_F32_PRAGMA(clang attribute pop)
#else
#define NN_F32_BEGIN(TARGET) NN_F32_PRAGMA(GCC push_options) NN_F32_PRAGMA(GCC target(TARGET))
#define NN_F32_END NN_F32_PRAGMA(GCC pop_options)
#endif

// A register's lanes summed in pairs: (l0 + l1) + (l2 + l3) ..., the same tree on every path.
template <std::size_t N>
inline float pairwise(const float* l) noexcept {
  if constexpr (N == 1) return l[0];
  else return pairwise<N / 2>(l) + pairwise<N / 2>(l + N / 2);
}

NN_F32_BEGIN("sse2")
namespace sse2 {
struct ops {
  using reg = __m128;
  static constexpr std::size_t width = 4, registers = 16;
  static constexpr bool joint_sums = false;
  NN_INLINE static reg zero() noexcept { return _mm_setzero_ps(); }
  NN_INLINE static reg set1(float v) noexcept { return _mm_set1_ps(v); }
  NN_INLINE static reg load(const float* p) noexcept { return _mm_load_ps(p); }
  NN_INLINE static reg loadu(const float* p) noexcept { return _mm_loadu_ps(p); }
  NN_INLINE static void store(float* p, reg v) noexcept { _mm_store_ps(p, v); }
  NN_INLINE static reg mul(reg a, reg b) noexcept { return _mm_mul_ps(a, b); }
  NN_INLINE static reg add(reg a, reg b) noexcept { return _mm_add_ps(a, b); }
  NN_INLINE static reg fma(reg a, reg b, reg c) noexcept { return _mm_add_ps(_mm_mul_ps(a, b), c); }  // (no FMA)
  NN_INLINE static float sum(reg v) noexcept {
    alignas(16) float l[4];
    _mm_store_ps(l, v);
    return pairwise<4>(l);
  }
};
}  // namespace sse2
#define NN_F32_PATH sse2
#include "nn/simd/f32_paths.inc"
#undef NN_F32_PATH
NN_F32_END

NN_F32_BEGIN("avx2,fma")
namespace avx2 {
struct ops {
  using reg = __m256;
  static constexpr std::size_t width = 8, registers = 16;
  static constexpr bool joint_sums = false;
  NN_INLINE static reg zero() noexcept { return _mm256_setzero_ps(); }
  NN_INLINE static reg set1(float v) noexcept { return _mm256_set1_ps(v); }
  NN_INLINE static reg load(const float* p) noexcept { return _mm256_load_ps(p); }
  NN_INLINE static reg loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  NN_INLINE static void store(float* p, reg v) noexcept { _mm256_store_ps(p, v); }
  NN_INLINE static reg mul(reg a, reg b) noexcept { return _mm256_mul_ps(a, b); }
  NN_INLINE static reg add(reg a, reg b) noexcept { return _mm256_add_ps(a, b); }
  NN_INLINE static reg fma(reg a, reg b, reg c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  NN_INLINE static float sum(reg v) noexcept {
    alignas(32) float l[8];
    _mm256_store_ps(l, v);
    return pairwise<8>(l);
  }
};
}  // namespace avx2
#define NN_F32_PATH avx2
#include "nn/simd/f32_paths.inc"
#undef NN_F32_PATH
NN_F32_END

NN_F32_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
namespace avx512 {
struct ops {
  using reg = __m512;
  static constexpr std::size_t width = 16, registers = 32;
  NN_INLINE static reg zero() noexcept { return _mm512_setzero_ps(); }
  NN_INLINE static reg set1(float v) noexcept { return _mm512_set1_ps(v); }
  NN_INLINE static reg load(const float* p) noexcept { return _mm512_load_ps(p); }
  NN_INLINE static reg loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  NN_INLINE static void store(float* p, reg v) noexcept { _mm512_store_ps(p, v); }
  NN_INLINE static reg mul(reg a, reg b) noexcept { return _mm512_mul_ps(a, b); }
  NN_INLINE static reg add(reg a, reg b) noexcept { return _mm512_add_ps(a, b); }
  NN_INLINE static reg fma(reg a, reg b, reg c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  // A register's sum in the order of xsimd 8.1's AVX-512 hadd, which nn's compile-time kernels use too:
  // lanes i and i + 8, then i and i + 4, then neighbours, then the two pairs.
  NN_INLINE static float sum(reg v) noexcept {
    const __m256 s = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
    const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    const __m128 u = _mm_hadd_ps(t, t);
    return _mm_cvtss_f32(_mm_hadd_ps(u, u));
  }
  // The sums of a 4 × 4 block of registers in one register, lane 4k + m holding a[k][m]'s, each in
  // sum()'s order: a tree of shuffles that does the four steps for sixteen registers at once (the
  // horizontal sums of dot products cost as much as their FMAs when summed one by one).
  static constexpr bool joint_sums = true;
  NN_INLINE static reg sums_4x4(const reg (&a)[4][4]) noexcept {
    // Register j = 4m + k of the tree is a[k][m]; it ends in lane 4k + m.
    reg q[4];
    for (std::size_t m = 0; m < 4; ++m) q[m] = quarters(halves(a[0][m], a[1][m]), halves(a[2][m], a[3][m]));
    return pairs(pairs(q[0], q[1]), pairs(q[2], q[3]));
  }
  // Those sums written out: row k's four at out + k·stride (any alignment).
  NN_INLINE static void write_sums_4x4(const reg (&a)[4][4], float* out, std::size_t stride) noexcept {
    alignas(64) float l[16];
    store(l, sums_4x4(a));
    for (std::size_t k = 0; k < 4; ++k) std::memcpy(out + k * stride, l + 4 * k, 4 * sizeof(float));
  }
  // The tree's steps on two registers x and y (sums_4x4's order: xsimd's hadd's, operand for operand).
  NN_INLINE static reg halves(reg x, reg y) noexcept {  // x's lanes i + (i + 8) in lanes 0-7, y's in 8-15
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0xEE), _mm512_shuffle_f32x4(x, y, 0x44));
  }
  NN_INLINE static reg quarters(reg x, reg y) noexcept {  // each register's i + (i + 4), a quarter each
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
  }
  NN_INLINE static reg pairs(reg x, reg y) noexcept {  // neighbours, in every 128-bit lane
    return _mm512_add_ps(_mm512_shuffle_ps(x, y, 0x88), _mm512_shuffle_ps(x, y, 0xDD));
  }
};
}  // namespace avx512
#define NN_F32_PATH avx512
#include "nn/simd/f32_paths.inc"
#undef NN_F32_PATH
NN_F32_END

#endif  // NN_SIMD_X86

// One path's kernels.
struct kernels {
  isa id;  // scalar, sse2, avx2 or avx512
  void (*product)(const product_args&) noexcept;
  void (*dot)(const dot_args&) noexcept;
};

// The kernels of the fastest path at or below level i (AVX-512 for avx512 and avx512-vnni, AVX2 for avx2
// and avx-vnni); std::invalid_argument when this CPU cannot run level i.
inline kernels kernels_for(isa i) {
  if (!supported(i)) throw std::invalid_argument(std::string("nn: this CPU cannot run the ") + name(i) + " fp32 kernels");
#ifdef NN_SIMD_X86
  switch (i) {
    case isa::sse2: return {isa::sse2, sse2::product, sse2::dot};
    case isa::avx2:
    case isa::avx_vnni: return {isa::avx2, avx2::product, avx2::dot};
    case isa::avx512:
    case isa::avx512_vnni: return {isa::avx512, avx512::product, avx512::dot};
    default: break;
  }
#endif
  return {isa::scalar, scalar::product, scalar::dot};
}

// The kernels this program takes: chosen once, at the first call (nn::simd::select: NN_ISA, else the
// fastest). Every model's constructor calls select() first, so a wrong NN_ISA is a std::invalid_argument
// there. A program that makes no model (inference through an nn::network_view alone) meets it here, in
// a kernel that cannot throw: it is said on stderr, and the fastest path is taken.
inline const kernels& active() noexcept {
  static const kernels k = [] {
    try {
      return kernels_for(select());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s; taking %s\n", e.what(), name(best()));
      return kernels_for(best());
    }
  }();
  return k;
}

// The product whose rows of b are gathered (b_rows), for path kernels_for(i).id: apart from `kernels`,
// so that only a program with a convolution compiles it (a third of the float kernels' compile time).
inline product_fn gathered_for(isa i) {
  const isa path = kernels_for(i).id;
  switch (path) {
#ifdef NN_SIMD_X86
    case isa::sse2: return sse2::product_gathered;
    case isa::avx2: return avx2::product_gathered;
    case isa::avx512: return avx512::product_gathered;
#endif
    default: return scalar::product_gathered;
  }
}
inline product_fn gathered() noexcept {
  static const product_fn f = gathered_for(active().id);  // (active().id is one this CPU runs: no throw)
  return f;
}

}  // namespace nn::simd::f32
