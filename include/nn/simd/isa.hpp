// The instruction sets nn's run-time-chosen kernels are compiled for, which of them this CPU runs, and
// which one a program takes: the fastest, or the one the environment variable NN_ISA names ("avx512-vnni",
// "avx512", "avx-vnni", "avx2", "sse2", "scalar"). One choice serves every kernel family: the fp32
// kernels of a build without AVX-512 (nn/simd/f32.hpp) and the int8 kernels of quantized inference
// (nn/simd/int8.hpp), each taking its best path at or below the level chosen.
#pragma once

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NN_SIMD_X86 1
#include <cpuid.h>
#endif

namespace nn::simd {

// In increasing order of what they need of the CPU.
enum class isa { scalar, sse2, avx2, avx_vnni, avx512, avx512_vnni };

inline const char* name(isa i) noexcept {
  switch (i) {
    case isa::sse2: return "sse2";
    case isa::avx2: return "avx2";
    case isa::avx_vnni: return "avx-vnni";
    case isa::avx512: return "avx512";
    case isa::avx512_vnni: return "avx512-vnni";
    default: return "scalar";
  }
}

namespace detail {
// AVX-VNNI itself (CPUID leaf 7, subleaf 1, EAX bit 4): clang 14's __builtin_cpu_supports does not know it.
inline bool cpu_has_avx_vnni() noexcept {
#ifdef NN_SIMD_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 4) & 1;
#else
  return false;
#endif
}
}  // namespace detail

// Whether this CPU (and its operating system, which must save the wider registers) runs a level.
inline bool supported(isa i) noexcept {
#ifdef NN_SIMD_X86
  switch (i) {
    case isa::scalar: return true;
    case isa::sse2: return __builtin_cpu_supports("sse2");
    case isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case isa::avx_vnni: return supported(isa::avx2) && detail::cpu_has_avx_vnni();  // (avx2: the OS saves ymm)
    case isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
    case isa::avx512_vnni: return supported(isa::avx512) && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return i == isa::scalar;
#endif
}

// The fastest level this CPU runs.
inline isa best() noexcept {
  for (const isa i : {isa::avx512_vnni, isa::avx512, isa::avx_vnni, isa::avx2, isa::sse2})
    if (supported(i)) return i;
  return isa::scalar;
}

// The level a program takes unless told otherwise: NN_ISA's when it is set (std::invalid_argument naming
// the variable when this CPU cannot run it or it names none), else the fastest.
inline isa select() {
  const char* v = std::getenv("NN_ISA");
  if (!v || !*v) return best();
  for (const isa i : {isa::avx512_vnni, isa::avx512, isa::avx_vnni, isa::avx2, isa::sse2, isa::scalar}) {
    if (std::strcmp(v, name(i)) != 0) continue;
    if (!supported(i))
      throw std::invalid_argument(std::string("nn: NN_ISA=") + v + ", but this CPU cannot run it (the best it runs is " + name(best()) + ")");
    return i;
  }
  throw std::invalid_argument(std::string("nn: NN_ISA=") + v +
                              " names no instruction set; expected avx512-vnni, avx512, avx-vnni, avx2, sse2 or scalar");
}

}  // namespace nn::simd
