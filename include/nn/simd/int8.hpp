// The int8 kernels of quantized inference (nn/quantize.hpp): unsigned 8-bit activations times signed 8-bit
// weights, summed exactly in int32, and the quantization of float rows into bytes.
//
// One program holds every instruction set's version, chosen at run time (nn::simd::select, nn/simd/isa.hpp):
// AVX-512 VNNI (vpdpbusd: 64 products an instruction), AVX-VNNI (its 256-bit VEX form), AVX2 and SSE2
// (bytes widened to 16 bits, pmaddwd: no saturation, unlike pmaddubsw), and plain C++ (every CPU; the twin
// the tests hold the others to). The environment variable NN_ISA forces one ("avx512-vnni", "avx-vnni",
// "avx2", "sse2", "scalar"; "avx512", AVX-512 without VNNI, takes AVX2's product). Integer sums are exact,
// so every path gives the same bits; each function here carries its own target attribute, so none of this
// depends on the flags the program is built with.
//
// The layouts, the same for every path (so a file or a buffer made on one CPU serves another):
// - activations: rows of u8, row_bytes(n) per row; bytes [n, row_bytes(n)) are zero.
// - weights, packed in panels of 16 outputs: panel p's quad q (inputs 4q..4q+3) is 64 bytes at
//   (p·quads + q)·64, byte 4o + j holding w[4q + j][16p + o]; weights past the last input or output are 0.
// - results: rows of int32, 16·panels per row.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "nn/simd/isa.hpp"
#include "nn/simd/kernels.hpp"  // NN_UNROLL

// (x86-64 only: 32-bit x86 may compute the scalar twin's x · inv in x87's extended precision, and so round
// differently from the SIMD paths; it takes the scalar twin alone.)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NN_INT8_X86 1
#include <immintrin.h>
#endif

namespace nn::simd::int8 {

inline constexpr std::size_t panel = 16;  // outputs per panel: one 512-bit register of int32
constexpr std::size_t row_bytes(std::size_t n) { return (n + 63) / 64 * 64; }
constexpr std::size_t quads(std::size_t n) { return (n + 3) / 4; }
constexpr std::size_t panels(std::size_t n) { return (n + panel - 1) / panel; }

// out[s][o] = Σ_k x[s][k]·w[k][o] for s < rows, o < 16·panels, k < 4·quads (x: u8 rows, w: packed).
struct gemm_args {
  const std::uint8_t* x;
  std::size_t x_stride;  // bytes from row to row, a multiple of 4
  std::size_t rows;
  const std::int8_t* w;  // 64-byte aligned
  std::size_t quads, panels;
  std::int32_t* out;     // 64-byte aligned rows
  std::size_t out_stride;  // int32s from row to row, a multiple of 16
};

// out[s][k] = clamp(round(x[s][k]·inv_scale), −zero, 255 − zero) + zero for k < n (round to nearest even; a
// NaN gives 0, the same as −∞), and 0 for k in [n, row_bytes(n)).
struct quantize_args {
  const float* x;
  std::size_t x_stride;  // floats from row to row
  std::size_t rows, n;
  float inv_scale;
  std::int32_t zero;  // 0..255
  std::uint8_t* out;
  std::size_t out_stride;  // bytes from row to row, at least row_bytes(n)
};

// The levels of nn/simd/isa.hpp, which int8 shares with the fp32 kernels.
using simd::best;
using simd::isa;
using simd::name;
using simd::select;
using simd::supported;

namespace detail {

inline std::uint8_t quantize_one(float x, float inv, std::int32_t zero) noexcept {
  float t = x * inv;
  const float lo = static_cast<float>(-zero), hi = static_cast<float>(255 - zero);
  t = t > lo ? t : lo;  // (a NaN fails the test: lo)
  t = t < hi ? t : hi;
  return static_cast<std::uint8_t>(static_cast<std::int32_t>(std::nearbyint(t)) + zero);
}

// The plain C++ twins.
inline void quantize_scalar(const quantize_args& a) noexcept {
  const std::size_t end = row_bytes(a.n);
  for (std::size_t s = 0; s < a.rows; ++s) {
    const float* x = a.x + s * a.x_stride;
    std::uint8_t* o = a.out + s * a.out_stride;
    for (std::size_t k = 0; k < a.n; ++k) o[k] = quantize_one(x[k], a.inv_scale, a.zero);
    for (std::size_t k = a.n; k < end; ++k) o[k] = 0;
  }
}

inline void gemm_scalar(const gemm_args& a) noexcept {
  for (std::size_t s = 0; s < a.rows; ++s) {
    const std::uint8_t* x = a.x + s * a.x_stride;
    std::int32_t* o = a.out + s * a.out_stride;
    for (std::size_t p = 0; p < a.panels; ++p) {
      std::int32_t acc[panel] = {};
      const std::int8_t* w = a.w + p * a.quads * 64;
      for (std::size_t q = 0; q < a.quads; ++q, w += 64)
        for (std::size_t j = 0; j < panel; ++j)
          for (std::size_t b = 0; b < 4; ++b) acc[j] += std::int32_t{x[4 * q + b]} * std::int32_t{w[4 * j + b]};
      for (std::size_t j = 0; j < panel; ++j) o[p * panel + j] = acc[j];
    }
  }
}

// The row and panel blocks of every path: Block rows at a time, then 4, 2 and 1 for the rest (so each
// kernel has four row counts, each a compile-time constant).
template <std::size_t Block, class F>
inline void row_blocks(std::size_t n, F&& f) {
  std::size_t s = 0;
  for (; s + Block <= n; s += Block) f(s, std::integral_constant<std::size_t, Block>{});
  if constexpr (Block > 4) if (n - s >= 4) { f(s, std::integral_constant<std::size_t, 4>{}); s += 4; }
  if constexpr (Block > 2) if (n - s >= 2) { f(s, std::integral_constant<std::size_t, 2>{}); s += 2; }
  if (n - s >= 1) f(s, std::integral_constant<std::size_t, 1>{});
}

inline std::int32_t quad_at(const std::uint8_t* p) noexcept {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

#ifdef NN_INT8_X86

// SSE2 and AVX2: u8 × s8 without saturation. A 32-bit lane of w holds 4 weights of one output; their even
// and odd bytes, sign-extended to 16 bits, meet the sample's even and odd bytes, zero-extended, in two
// pmaddwd (two products summed per 32-bit lane each), added into the lane's int32.
#define NN_INT8_WIDEN_KERNEL(NAME, TARGET, VEC, LANES, SET1, LOAD, STORE, ZERO, SLLI, SRAI, SRLI, AND, MADD, ADD)      \
  template <std::size_t SB>                                                                                           \
  __attribute__((target(TARGET))) inline void NAME##_block(const gemm_args& a, std::size_t s0, std::size_t part) {   \
    constexpr std::size_t regs = 64 / (LANES * 4), CH = 2; /* a panel's quad takes regs registers; CH at a time */  \
    const std::size_t p = part / (regs / CH), c0 = part % (regs / CH) * CH;                                           \
    VEC acc[SB][CH];                                                                                                  \
    NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) NN_UNROLL for (std::size_t c = 0; c < CH; ++c) acc[sb][c] = ZERO(); \
    const std::int8_t* w = a.w + p * a.quads * 64 + c0 * LANES * 4;                                                   \
    const std::uint8_t* x = a.x + s0 * a.x_stride;                                                                    \
    const VEC low = SET1(0x00ff00ff);                                                                                   \
    for (std::size_t q = 0; q < a.quads; ++q, w += 64) {                                                              \
      VEC we[CH], wo[CH];                                                                                             \
      NN_UNROLL for (std::size_t c = 0; c < CH; ++c) {                                                                \
        const VEC v = LOAD(reinterpret_cast<const VEC*>(w + c * LANES * 4));                                          \
        we[c] = SRAI(SLLI(v, 8), 8);                                                                                  \
        wo[c] = SRAI(v, 8);                                                                                           \
      }                                                                                                               \
      NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) {                                                             \
        const VEC xv = SET1(quad_at(x + sb * a.x_stride + 4 * q));                                                    \
        const VEC xe = AND(xv, low), xo = SRLI(xv, 8);                                                                \
        NN_UNROLL for (std::size_t c = 0; c < CH; ++c) acc[sb][c] = ADD(acc[sb][c], ADD(MADD(xe, we[c]), MADD(xo, wo[c]))); \
      }                                                                                                               \
    }                                                                                                                 \
    NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) NN_UNROLL for (std::size_t c = 0; c < CH; ++c)                 \
      STORE(reinterpret_cast<VEC*>(a.out + (s0 + sb) * a.out_stride + p * panel + (c0 + c) * LANES), acc[sb][c]);      \
  }                                                                                                                   \
  __attribute__((target(TARGET))) inline void NAME(const gemm_args& a) noexcept {                                    \
    const std::size_t parts = a.panels * (64 / (LANES * 4) / 2);                                                      \
    for (std::size_t part = 0; part < parts; ++part)                                                                  \
      row_blocks<4>(a.rows, [&](std::size_t s0, auto sb) { NAME##_block<decltype(sb)::value>(a, s0, part); });       \
  }

// (the lambdas inherit no target attribute: they only call the blocks, which are not inlined into them)
NN_INT8_WIDEN_KERNEL(gemm_sse2, "sse2", __m128i, 4, _mm_set1_epi32, _mm_load_si128, _mm_store_si128, _mm_setzero_si128,
                     _mm_slli_epi16, _mm_srai_epi16, _mm_srli_epi16, _mm_and_si128, _mm_madd_epi16, _mm_add_epi32)
NN_INT8_WIDEN_KERNEL(gemm_avx2, "avx2", __m256i, 8, _mm256_set1_epi32, _mm256_load_si256, _mm256_store_si256,
                     _mm256_setzero_si256, _mm256_slli_epi16, _mm256_srai_epi16, _mm256_srli_epi16, _mm256_and_si256,
                     _mm256_madd_epi16, _mm256_add_epi32)
#undef NN_INT8_WIDEN_KERNEL

// AVX-512 VNNI: a block of SB rows × CB panels of int32 accumulators (at most 6 × 4 = 24 of the 32
// registers), the panels' quads loaded once per block and each row's 4 bytes broadcast to every lane.
template <std::size_t SB, std::size_t CB>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline void vnni_block(const gemm_args& a, std::size_t s0, std::size_t p0) {
  __m512i acc[SB][CB];
  NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) NN_UNROLL for (std::size_t cb = 0; cb < CB; ++cb) acc[sb][cb] = _mm512_setzero_si512();
  const std::int8_t* w = a.w + p0 * a.quads * 64;
  const std::uint8_t* x = a.x + s0 * a.x_stride;
  const std::size_t pstride = a.quads * 64;
  for (std::size_t q = 0; q < a.quads; ++q, w += 64) {
    __m512i wv[CB];
    NN_UNROLL for (std::size_t cb = 0; cb < CB; ++cb) wv[cb] = _mm512_load_si512(w + cb * pstride);
    NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) {
      const __m512i xv = _mm512_set1_epi32(quad_at(x + sb * a.x_stride + 4 * q));
      NN_UNROLL for (std::size_t cb = 0; cb < CB; ++cb) acc[sb][cb] = _mm512_dpbusd_epi32(acc[sb][cb], xv, wv[cb]);
    }
  }
  NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) NN_UNROLL for (std::size_t cb = 0; cb < CB; ++cb)
    _mm512_store_si512(a.out + (s0 + sb) * a.out_stride + (p0 + cb) * panel, acc[sb][cb]);
}

template <std::size_t CB>
inline void vnni_panels(const gemm_args& a, std::size_t p0) {
  row_blocks<6>(a.rows, [&](std::size_t s0, auto sb) { vnni_block<decltype(sb)::value, CB>(a, s0, p0); });
}

inline void gemm_vnni(const gemm_args& a) noexcept {
  std::size_t p = 0;
  for (; p + 4 <= a.panels; p += 4) vnni_panels<4>(a, p);
  if (a.panels - p >= 2) { vnni_panels<2>(a, p); p += 2; }
  if (a.panels - p >= 1) vnni_panels<1>(a, p);
}

// AVX-VNNI (the VEX form of vpdpbusd, on CPUs with AVX2 and no AVX-512, e.g. Intel's since Alder Lake): a
// panel is two registers of 8 outputs; blocks of SB rows × one panel (12 of the 16 registers for 6 rows).
template <std::size_t SB>
__attribute__((target("avx2,avxvnni"))) inline void avx_vnni_block(const gemm_args& a, std::size_t s0, std::size_t p) {
  __m256i acc[SB][2];
  NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) acc[sb][0] = acc[sb][1] = _mm256_setzero_si256();
  const std::int8_t* w = a.w + p * a.quads * 64;
  const std::uint8_t* x = a.x + s0 * a.x_stride;
  for (std::size_t q = 0; q < a.quads; ++q, w += 64) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32));
    NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) {
      const __m256i xv = _mm256_set1_epi32(quad_at(x + sb * a.x_stride + 4 * q));
      acc[sb][0] = _mm256_dpbusd_avx_epi32(acc[sb][0], xv, w0);
      acc[sb][1] = _mm256_dpbusd_avx_epi32(acc[sb][1], xv, w1);
    }
  }
  NN_UNROLL for (std::size_t sb = 0; sb < SB; ++sb) {
    std::int32_t* o = a.out + (s0 + sb) * a.out_stride + p * panel;
    _mm256_store_si256(reinterpret_cast<__m256i*>(o), acc[sb][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o + 8), acc[sb][1]);
  }
}

inline void gemm_avx_vnni(const gemm_args& a) noexcept {
  for (std::size_t p = 0; p < a.panels; ++p)
    row_blocks<6>(a.rows, [&](std::size_t s0, auto sb) { avx_vnni_block<decltype(sb)::value>(a, s0, p); });
}

// Quantization, a register of floats at a time; the rest of a row as the scalar twin does it.
#define NN_INT8_QUANTIZE(NAME, TARGET, LANES, BODY)                                                                   \
  __attribute__((target(TARGET))) inline void NAME(const quantize_args& a) noexcept {                                \
    const std::size_t end = row_bytes(a.n);                                                                           \
    for (std::size_t s = 0; s < a.rows; ++s) {                                                                        \
      const float* x = a.x + s * a.x_stride;                                                                          \
      std::uint8_t* o = a.out + s * a.out_stride;                                                                     \
      std::size_t k = 0;                                                                                              \
      for (; k + LANES <= a.n; k += LANES) { BODY }                                                                   \
      for (; k < a.n; ++k) o[k] = quantize_one(x[k], a.inv_scale, a.zero);                                            \
      for (; k < end; ++k) o[k] = 0;                                                                                  \
    }                                                                                                                 \
  }
// (max(t, lo) returns lo when t is NaN, as quantize_one does; cvtps rounds to nearest even)
NN_INT8_QUANTIZE(quantize_sse2, "sse2", 4, {
  const __m128 t = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_loadu_ps(x + k), _mm_set1_ps(a.inv_scale)),
                                         _mm_set1_ps(static_cast<float>(-a.zero))),
                              _mm_set1_ps(static_cast<float>(255 - a.zero)));
  const __m128i v = _mm_add_epi32(_mm_cvtps_epi32(t), _mm_set1_epi32(a.zero));
  const __m128i b = _mm_packus_epi16(_mm_packs_epi32(v, v), _mm_setzero_si128());
  const std::int32_t four = _mm_cvtsi128_si32(b);
  std::memcpy(o + k, &four, 4);
})
NN_INT8_QUANTIZE(quantize_avx2, "avx2", 8, {
  const __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), _mm256_set1_ps(a.inv_scale)),
                                               _mm256_set1_ps(static_cast<float>(-a.zero))),
                                 _mm256_set1_ps(static_cast<float>(255 - a.zero)));
  const __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(a.zero));
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(o + k), _mm_packus_epi16(w, w));
})
NN_INT8_QUANTIZE(quantize_avx512, "avx512f,avx512bw", 16, {
  // (the maskz forms: GCC 12 warns of the plain forms' undefined pass-through operand, bug 105593)
  const __m512 t = _mm512_maskz_min_ps(0xffff, _mm512_maskz_max_ps(0xffff, _mm512_mul_ps(_mm512_loadu_ps(x + k), _mm512_set1_ps(a.inv_scale)),
                                                                   _mm512_set1_ps(static_cast<float>(-a.zero))),
                                       _mm512_set1_ps(static_cast<float>(255 - a.zero)));
  const __m512i v = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(0xffff, t), _mm512_set1_epi32(a.zero));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k), _mm512_maskz_cvtepi32_epi8(0xffff, v));
})
#undef NN_INT8_QUANTIZE

#endif  // NN_INT8_X86

}  // namespace detail

// One instruction set's kernels.
struct kernels {
  isa id;
  void (*gemm)(const gemm_args&) noexcept;
  void (*quantize)(const quantize_args&) noexcept;
};

// A path's kernels; std::invalid_argument when this CPU cannot run it.
inline kernels kernels_for(isa i) {
  if (!supported(i)) throw std::invalid_argument(std::string("nn: this CPU cannot run the ") + name(i) + " int8 kernels");
#ifdef NN_INT8_X86
  switch (i) {
    case isa::sse2: return {i, detail::gemm_sse2, detail::quantize_sse2};
    case isa::avx2: return {i, detail::gemm_avx2, detail::quantize_avx2};
    case isa::avx_vnni: return {i, detail::gemm_avx_vnni, detail::quantize_avx2};
    case isa::avx512: return {i, detail::gemm_avx2, detail::quantize_avx512};
    case isa::avx512_vnni: return {i, detail::gemm_vnni, detail::quantize_avx512};
    default: break;
  }
#endif
  return {isa::scalar, detail::gemm_scalar, detail::quantize_scalar};
}

}  // namespace nn::simd::int8
