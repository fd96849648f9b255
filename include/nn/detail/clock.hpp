// Seconds on a monotonic clock, for the timings in training reports. POSIX clock_gettime (nn's file code
// is POSIX too) rather than <chrono>, whose C++20 header costs every program that includes
// nn/network.hpp about 0.1 s (docs/benchmarks.md, "Compile time").
#pragma once

#include <time.h>

namespace nn::detail {

inline double monotonic_seconds() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace nn::detail
