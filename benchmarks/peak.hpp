// One core's fp32/fp64 FMA peak, measured in the run that quotes a share of it (train_bench,
// convnet_bench): the figures of docs/benchmarks.md are ratios to it, never to a number from elsewhere.
// And the median, the figure the benchmarks quote of their rounds.
#pragma once

#include <nn/simd/kernels.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
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

// The best of several short runs: the peak is what the core can do, not what a shared machine let it do.
template <class T>
double fma_peak_gflops() {
  constexpr std::size_t iterations = 1 << 21;
  double best = 0;
  for (int trial = 0; trial < 9; ++trial) {
    const auto t0 = std::chrono::steady_clock::now();
    const T r = fma_chains<T>(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == T(-1)) std::printf(" ");  // uses the result
    best = std::max(best, 2.0 * (nn::simd::detail::register_count<T> >= 32 ? 16 : 12) * nn::simd::width<T> * static_cast<double>(iterations) / s * 1e-9);
  }
  return best;
}

}  // namespace bench
