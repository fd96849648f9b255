// The one place that knows about differences between xsimd releases (8.1 through 14.x).
// Everything else in nn uses nn::simd::batch, nn::simd::width and the helpers here.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace nn::simd {

using arch = xsimd::default_arch;

template <class T>
using batch = xsimd::batch<T, arch>;

template <class T>
using batch_bool = xsimd::batch_bool<T, arch>;

// Lanes of one register for T on the architecture this translation unit is compiled for.
template <class T>
inline constexpr std::size_t width = batch<T>::size;

// Alignment (bytes) of every buffer nn hands to a kernel. At least 64 so that data laid out by one
// build can be read by a build for a wider instruction set.
inline constexpr std::size_t alignment = arch::alignment() > 64 ? arch::alignment() : 64;

// Values of T per unit of every data layout: rows of a matrix and blocks of parameters are padded to a
// multiple of 64 bytes (16 floats, 8 doubles) whatever the instruction set, so a build with -march=native,
// one with -mavx2 and one with SSE2 alone lay out a matrix, a network and a workspace alike (and a
// program may run kernels for any of them on the same data). A multiple of every register's width.
template <class T>
inline constexpr std::size_t layout_width = 64 / sizeof(T);
static_assert(layout_width<float> % width<float> == 0 && layout_width<double> % width<double> == 0,
              "nn: a register wider than 64 bytes needs a wider layout unit");

template <class T>
inline T reduce_add(const batch<T>& v) noexcept {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(v);
#else
  return xsimd::hadd(v);
#endif
}

template <class T>
inline T reduce_max(const batch<T>& v) noexcept {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_max(v);
#else
  alignas(alignment) T lanes[width<T>];
  v.store_aligned(lanes);
  T m = lanes[0];
  for (std::size_t i = 1; i < width<T>; ++i) m = lanes[i] > m ? lanes[i] : m;
  return m;
#endif
}

// Lane mask {i < n} for i in [0, width): used to keep padding lanes at exactly zero.
template <class T>
inline batch_bool<T> first_lanes(std::size_t n) noexcept {
  alignas(alignment) T idx[width<T>];
  for (std::size_t i = 0; i < width<T>; ++i) idx[i] = static_cast<T>(i);
  return batch<T>::load_aligned(idx) < batch<T>(static_cast<T>(n));
}

// Element-wise math that works on plain scalars and on batches, so a policy (activation, cost) is
// written once as a template and used by both the SIMD kernels and the scalar tails and references.
//
// exp's argument is first held to where the result is still 0 or +inf: xsimd's exp converts x·log2(e) to an
// integer before it selects 0 or inf for such x, and that conversion is undefined (clang's UBSan reports
// it) for |x| beyond about 1e19 and for NaN. The results are the same bits; a NaN stays that NaN. When every
// lane is well inside the range (nearly always), one test sends x straight to xsimd's exp: holding every
// batch made the sigmoid 30 % slower (kernels_bench activate), so it is paid only when a lane needs it.
template <class T>
inline batch<T> exp(const batch<T>& x) noexcept {
  constexpr T safe = std::is_same_v<T, float> ? T(87) : T(708);  // |x| ≤ safe: no lane is held (NaN fails it)
  if (xsimd::all(xsimd::abs(x) <= batch<T>(safe))) return xsimd::exp(x);
  constexpr T lo = std::is_same_v<T, float> ? T(-104) : T(-746);  // exp(lo) rounds to 0
  constexpr T hi = std::is_same_v<T, float> ? T(89) : T(710);     // exp(hi) rounds to +inf
  const batch_bool<T> nan = x != x;
  const batch<T> held = xsimd::select(x < batch<T>(lo), batch<T>(lo), xsimd::select(x > batch<T>(hi), batch<T>(hi), x));
  return xsimd::select(nan, x, xsimd::exp(xsimd::select(nan, batch<T>(0), held)));
}
template <std::floating_point T>
inline T exp(T x) noexcept { return std::exp(x); }

template <class T>
inline batch<T> log(const batch<T>& x) noexcept {
#if XSIMD_VERSION_MAJOR < 9 && !defined(__OPTIMIZE__)
  // xsimd 8.1's log does not compile unoptimised on AVX-512BW: its select() casts in every branch of a
  // switch, and GCC defines those intrinsics as macros at -O0. Unoptimised builds go lane by lane.
  alignas(alignment) T v[width<T>];
  x.store_aligned(v);
  for (auto& e : v) e = std::log(e);
  return batch<T>::load_aligned(v);
#else
  return xsimd::log(x);
#endif
}
template <std::floating_point T>
inline T log(T x) noexcept { return std::log(x); }

template <class T>
inline batch<T> tanh(const batch<T>& x) noexcept { return xsimd::tanh(x); }
template <std::floating_point T>
inline T tanh(T x) noexcept { return std::tanh(x); }

template <class T>
inline batch<T> abs(const batch<T>& x) noexcept { return xsimd::abs(x); }
template <std::floating_point T>
inline T abs(T x) noexcept { return std::fabs(x); }

template <class T>
inline batch<T> max(const batch<T>& a, const batch<T>& b) noexcept { return xsimd::max(a, b); }
template <std::floating_point T>
inline T max(T a, T b) noexcept { return a > b ? a : b; }

template <class T>
inline batch<T> min(const batch<T>& a, const batch<T>& b) noexcept { return xsimd::min(a, b); }
template <std::floating_point T>
inline T min(T a, T b) noexcept { return a < b ? a : b; }

// a·b + c, rounded once: every kernel's multiply-add goes through here. xsimd before 11 has no AVX-512
// FMA: its fma there is a multiply and an add, two roundings and two instructions (an FMA only where the
// compiler contracts, and nn's own builds do not: -ffp-contract=off). On a CPU whose FMA units also do
// the multiplies and the adds (Intel's) that halved nn's speed, the same on Zen 4 (separate adders) only
// cost instructions; and the results depended on the xsimd release. So on AVX-512 nn asks for the
// instruction itself: the same one xsimd 11 and later use.
template <class T>
inline batch<T> fma(const batch<T>& a, const batch<T>& b, const batch<T>& c) noexcept {
#if XSIMD_VERSION_MAJOR < 11 && defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, arch> && std::is_same_v<T, float>)
    return batch<T>(_mm512_fmadd_ps(a, b, c));
  else if constexpr (std::is_base_of_v<xsimd::avx512f, arch> && std::is_same_v<T, double>)
    return batch<T>(_mm512_fmadd_pd(a, b, c));
  else
#endif
    return xsimd::fma(a, b, c);
}
template <std::floating_point T>
inline T fma(T a, T b, T c) noexcept { return std::fma(a, b, c); }

// where(cond, a, b): a where cond holds, else b. cond comes from comparing values of the same kind.
template <class T>
inline batch<T> where(const batch_bool<T>& c, const batch<T>& a, const batch<T>& b) noexcept {
  return xsimd::select(c, a, b);
}
template <class T>
inline T where(bool c, T a, T b) noexcept { return c ? a : b; }

// The scalar type of a value that is either T or batch<T>.
template <class V>
struct scalar_of { using type = V; };
template <class T, class A>
struct scalar_of<xsimd::batch<T, A>> { using type = T; };
template <class V>
using scalar_of_t = typename scalar_of<V>::type;

// A constant of the value kind V (scalar or batch).
template <class V>
inline V constant(scalar_of_t<V> c) noexcept { return V(c); }

}  // namespace nn::simd
