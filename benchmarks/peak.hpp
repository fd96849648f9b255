// One core's fp32/fp64 FMA peak, measured in the run that quotes a share of it (train_bench,
// convnet_bench): the figures of docs/benchmarks.md are ratios to it, never to a number from elsewhere.
// And the median, the figure the benchmarks quote of their rounds.
#pragma once

#include <nn/simd/isa.hpp>
#include <nn/simd/kernels.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

namespace bench {

// "10,64" -> {10, 64}: the benchmarks' lists of sizes on the command line.
inline std::vector<std::size_t> numbers(const std::string& list) {
  std::vector<std::size_t> v;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    v.push_back(std::stoul(list.substr(at, comma - at)));
    at = comma + 1;
  }
  return v;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One core's FMA peak in GFLOP/s for T: K independent accumulator chains (more than FMA latency x
// FMA ports, so the ports never wait) and nothing but register FMAs in the loop. Without -ffast-math the
// compiler may not merge or reorder the chains.
template <class T>
[[gnu::noinline]] T fma_chains(std::size_t iterations) {
  using B = nn::simd::batch<T>;
  // (12 with 16 registers: 16 chains and two operands would spill; 12 still exceed latency × ports)
  constexpr std::size_t K = nn::simd::detail::register_count<T> >= 32 ? 16 : 12;
  B acc[K];
  nn::simd::detail::static_for<K>([&](auto k) { acc[k] = B(T(k.value) * T(1e-3)); });
  const B a(T(0.9999999)), b(T(1e-7));
  for (std::size_t it = 0; it < iterations; ++it)
    nn::simd::detail::static_for<K>([&](auto k) { acc[k] = nn::simd::fma(acc[k], a, b); });
  B sum(T(0));
  for (const auto& v : acc) sum += v;
  return nn::simd::reduce_add(sum);
}

#if defined(__x86_64__) && !defined(__AVX512F__)
// A build for an older instruction set (the portable build, whose float kernels are chosen at run time:
// docs/portable.md) measures the CPU's peak all the same, with the loop compiled for the widest set the
// CPU runs: 16 chains of 512-bit FMAs, or 12 of 256-bit ones.
template <class T>
[[gnu::noinline, gnu::target("avx512f")]] T fma_chains_avx512(std::size_t iterations) {
  alignas(64) T lanes[64 / sizeof(T)];
  if constexpr (std::is_same_v<T, float>) {
    __m512 acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k) * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
    for (std::size_t it = 0; it < iterations; ++it)
      for (int k = 0; k < 16; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    for (int k = 1; k < 16; ++k) acc[0] = _mm512_add_ps(acc[0], acc[k]);
    _mm512_store_ps(lanes, acc[0]);
  } else {
    __m512d acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = _mm512_set1_pd(static_cast<double>(k) * 1e-3);
    const __m512d a = _mm512_set1_pd(0.9999999), b = _mm512_set1_pd(1e-7);
    for (std::size_t it = 0; it < iterations; ++it)
      for (int k = 0; k < 16; ++k) acc[k] = _mm512_fmadd_pd(acc[k], a, b);
    for (int k = 1; k < 16; ++k) acc[0] = _mm512_add_pd(acc[0], acc[k]);
    _mm512_store_pd(lanes, acc[0]);
  }
  T sum = 0;
  for (const T v : lanes) sum += v;
  return sum;
}
template <class T>
[[gnu::noinline, gnu::target("avx2,fma")]] T fma_chains_avx2(std::size_t iterations) {
  alignas(32) T lanes[32 / sizeof(T)];
  if constexpr (std::is_same_v<T, float>) {
    __m256 acc[12];
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k) * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
    for (std::size_t it = 0; it < iterations; ++it)
      for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
    for (int k = 1; k < 12; ++k) acc[0] = _mm256_add_ps(acc[0], acc[k]);
    _mm256_store_ps(lanes, acc[0]);
  } else {
    __m256d acc[12];
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_pd(static_cast<double>(k) * 1e-3);
    const __m256d a = _mm256_set1_pd(0.9999999), b = _mm256_set1_pd(1e-7);
    for (std::size_t it = 0; it < iterations; ++it)
      for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_pd(acc[k], a, b);
    for (int k = 1; k < 12; ++k) acc[0] = _mm256_add_pd(acc[0], acc[k]);
    _mm256_store_pd(lanes, acc[0]);
  }
  T sum = 0;
  for (const T v : lanes) sum += v;
  return sum;
}
#endif

// The loop the peak is measured with: chains × lanes FMAs per iteration.
struct peak_loop {
  std::size_t chains, lanes;
};
template <class T>
peak_loop peak_loop_for() {
#if defined(__x86_64__) && !defined(__AVX512F__)
  if (nn::simd::supported(nn::simd::isa::avx512)) return {16, 64 / sizeof(T)};
  if (nn::simd::supported(nn::simd::isa::avx2)) return {12, 32 / sizeof(T)};
#endif
  return {nn::simd::detail::register_count<T> >= 32 ? 16u : 12u, nn::simd::width<T>};
}

// The best of several short runs: the peak is what the core can do, not what a shared machine let it do.
template <class T>
double fma_peak_gflops() {
  constexpr std::size_t iterations = 1 << 21;
  const peak_loop loop = peak_loop_for<T>();
  double best = 0;
  for (int trial = 0; trial < 9; ++trial) {
    const auto t0 = std::chrono::steady_clock::now();
    T r;
#if defined(__x86_64__) && !defined(__AVX512F__)
    if (loop.lanes * sizeof(T) == 64) r = fma_chains_avx512<T>(iterations);
    else if (loop.lanes * sizeof(T) == 32 && nn::simd::width<T> * sizeof(T) < 32) r = fma_chains_avx2<T>(iterations);
    else
#endif
      r = fma_chains<T>(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == T(-1)) std::printf(" ");  // uses the result
    best = std::max(best, 2.0 * static_cast<double>(loop.chains * loop.lanes) * static_cast<double>(iterations) / s * 1e-9);
  }
  return best;
}

}  // namespace bench
