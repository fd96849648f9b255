// A small, fully specified random engine. The standard distributions are implementation-defined, so nn
// uses its own: the same seed gives the same numbers on every compiler and standard library.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace nn {

namespace detail {
// SplitMix64's finaliser: a bijection of 64-bit words whose outputs pass as independent uniform draws.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace detail

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class rng {
 public:
  using result_type = std::uint64_t;
  explicit rng(std::uint64_t seed = 0) noexcept { this->seed(seed); }

  void seed(std::uint64_t seed) noexcept {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      w = detail::mix64(seed);
    }
    has_spare_ = false;
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return ~result_type{0}; }

  result_type operator()() noexcept {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) without modulo bias: draws below 2^64 mod n are rejected. n > 0.
  std::uint64_t below(std::uint64_t n) noexcept {
    const std::uint64_t threshold = (0 - n) % n;
    std::uint64_t r;
    do r = (*this)();
    while (r < threshold);
    return r % n;
  }

  // Standard normal N(0, 1), Marsaglia's polar method.
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double k = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * k;
    has_spare_ = true;
    return u * k;
  }

  // Its state for a checkpoint (nn/checkpoint.hpp: the same calls save and load it).
  template <class Archive>
  void checkpoint(Archive& a) {
    for (auto& w : s_) a(w);
    a(spare_);
    a(has_spare_);
  }
  // Whether a state read from a file is one an engine can be in: xoshiro's four words are never all zero
  // (from all zeros it gives 0 for ever, and below() and normal() would never return), and a spare normal
  // is finite.
  bool valid_state() const noexcept {
    return (s_[0] | s_[1] | s_[2] | s_[3]) != 0 && (!has_spare_ || std::isfinite(spare_));
  }

  // Fisher-Yates shuffle.
  template <class U>
  void shuffle(std::span<U> v) noexcept {
    for (std::size_t i = v.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace nn
