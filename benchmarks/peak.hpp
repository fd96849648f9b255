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
// docs/portable.md) measures the CPU's float peak all the same, with the loop compiled for the widest
// set the CPU runs: 16 chains of 512-bit FMAs, or 12 of 256-bit ones (one body, two sets).
#define NN_PEAK_LOOP(NAME, TARGET, REG, CHAINS, LANES, SET1, FMADD, ADD, STORE)     \
  [[gnu::noinline, gnu::target(TARGET)]] inline float NAME(std::size_t iterations) { \
    REG acc[CHAINS];                                                                \
    for (int k = 0; k < CHAINS; ++k) acc[k] = SET1(static_cast<float>(k) * 1e-3f);  \
    const REG a = SET1(0.9999999f), b = SET1(1e-7f);                                \
    for (std::size_t it = 0; it < iterations; ++it)                                 \
      NN_UNROLL for (int k = 0; k < CHAINS; ++k) acc[k] = FMADD(acc[k], a, b);      \
    for (int k = 1; k < CHAINS; ++k) acc[0] = ADD(acc[0], acc[k]);                  \
    alignas(64) float lanes[LANES];                                                 \
    STORE(lanes, acc[0]);                                                           \
    float sum = 0;                                                                  \
    for (const float v : lanes) sum += v;                                           \
    return sum;                                                                     \
  }
NN_PEAK_LOOP(fma_chains_avx512, "avx512f", __m512, 16, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_store_ps)
NN_PEAK_LOOP(fma_chains_avx2, "avx2,fma", __m256, 12, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_store_ps)
#undef NN_PEAK_LOOP
#endif

// The loop the peak is measured with: chains × lanes FMAs per iteration.
struct peak_loop {
  std::size_t chains, lanes;
};
template <class T>
peak_loop peak_loop_for() {
#if defined(__x86_64__) && !defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if (nn::simd::supported(nn::simd::isa::avx512)) return {16, 16};
    if (nn::simd::supported(nn::simd::isa::avx2) && nn::simd::width<float> < 8) return {12, 8};
  }
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
    if (loop.lanes != nn::simd::width<T>) r = loop.lanes == 16 ? fma_chains_avx512(iterations) : fma_chains_avx2(iterations);
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
