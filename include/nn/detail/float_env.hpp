// Subnormal numbers in training steps (nn::step_settings::flush_subnormals). A float below 1.2e-38 (a double
// below 2.2e-308) is subnormal, and x86 CPUs compute with such values, or results, on a slow path: the
// course's sigmoid network at η = 3 makes them once neurons saturate (σ(z) and σ'(z) for z < −87), and
// trained 25 % slower for it on this machine (docs/benchmarks.md, "Where the time goes"). The guard sets
// the MXCSR bits FTZ (such results become 0) and DAZ (such inputs count as 0) for the calling thread, and
// puts the two bits back as they were when it goes. Elsewhere than x86 it does nothing.
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#define NN_HAS_MXCSR 1
#else
#define NN_HAS_MXCSR 0
#endif

namespace nn::detail {

inline constexpr unsigned flush_bits = 0x8040u;  // MXCSR's FTZ (bit 15) and DAZ (bit 6)

// Whether this thread flushes subnormal numbers to zero (both bits set); false where there is no MXCSR.
inline bool subnormals_flushed() noexcept {
#if NN_HAS_MXCSR
  return (_mm_getcsr() & flush_bits) == flush_bits;
#else
  return false;
#endif
}

class flush_subnormals_here {
 public:
  explicit flush_subnormals_here(bool on) noexcept {
#if NN_HAS_MXCSR
    if (on) {
      saved_ = _mm_getcsr() & flush_bits;
      _mm_setcsr(_mm_getcsr() | flush_bits);
      active_ = true;
    }
#else
    (void)on;
#endif
  }
  ~flush_subnormals_here() {
#if NN_HAS_MXCSR
    if (active_) _mm_setcsr((_mm_getcsr() & ~flush_bits) | saved_);
#endif
  }
  flush_subnormals_here(const flush_subnormals_here&) = delete;
  flush_subnormals_here& operator=(const flush_subnormals_here&) = delete;

 private:
  unsigned saved_ = 0;
  bool active_ = false;
};

}  // namespace nn::detail
