// For ctest's runs of a test once per instruction set (tests/CMakeLists.txt): exits 0 when this CPU runs
// the level NN_ISA names, 77 (ctest: skipped) when it cannot, and 1 when NN_ISA names none.
#include <nn/simd/isa.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main() {
  const char* v = std::getenv("NN_ISA");
  for (const nn::simd::isa i : {nn::simd::isa::scalar, nn::simd::isa::sse2, nn::simd::isa::avx2, nn::simd::isa::avx_vnni,
                                nn::simd::isa::avx512, nn::simd::isa::avx512_vnni})
    if (v && std::string(v) == nn::simd::name(i)) {
      if (nn::simd::supported(i)) return 0;
      std::printf("this CPU cannot run NN_ISA=%s (the best it runs is %s): skipped\n", v, nn::simd::name(nn::simd::best()));
      return 77;
    }
  std::printf("NN_ISA=%s names no instruction set\n", v ? v : "(unset)");
  return 1;
}
