// Subnormal numbers in training steps (nn::step_settings::flush_subnormals). A float below 1.2e-38 (a double
// below 2.2e-308) is subnormal, and x86 CPUs compute with such values, or results, on a slow path: the
// course's sigmoid network at η = 3 makes them once neurons saturate (σ(z) and σ'(z) for z < −87), and
// trained 25 % slower for it on this machine (docs/benchmarks.md, "Where the time goes"). The guard sets
// or clears the MXCSR bits FTZ (such results become 0) and DAZ (such inputs count as 0) for the calling
// thread, and puts the two bits back as they were when it goes. Elsewhere than x86 it does nothing.
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

// For a training step: subnormal numbers flushed (flush = true) or IEEE arithmetic (false) in the calling
// thread, whatever its state was; the two bits are put back as they were when the guard goes.
class subnormal_mode {
 public:
  explicit subnormal_mode(bool flush) noexcept {
#if NN_HAS_MXCSR
    const unsigned csr = _mm_getcsr();
    saved_ = csr & flush_bits;
    const unsigned want = flush ? flush_bits : 0u;
    if (saved_ != want) _mm_setcsr((csr & ~flush_bits) | want);
#else
    (void)flush;
#endif
  }
  ~subnormal_mode() {
#if NN_HAS_MXCSR
    const unsigned csr = _mm_getcsr();
    if ((csr & flush_bits) != saved_) _mm_setcsr((csr & ~flush_bits) | saved_);
#endif
  }
  subnormal_mode(const subnormal_mode&) = delete;
  subnormal_mode& operator=(const subnormal_mode&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace nn::detail
