// Data layouts do not depend on the instruction set: layout_facts.cpp compiled for SSE2, AVX2 and AVX-512
// (tests/CMakeLists.txt) gives the same row strides, parameter storage sizes and parameter positions.
#include <cstdint>
#include <vector>

#include "catch.hpp"

std::vector<std::uint64_t> layout_facts_sse2();
std::vector<std::uint64_t> layout_facts_avx2();
std::vector<std::uint64_t> layout_facts_avx512();

namespace {
// Where two lists of facts first differ (-1: nowhere).
long first_difference(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i]) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(a.size() < b.size() ? a.size() : b.size());
}
}  // namespace

TEST_CASE("layout: SSE2, AVX2 and AVX-512 builds lay out matrices and parameters alike", "[layout]") {
  const auto sse2 = layout_facts_sse2();
  REQUIRE(sse2.size() > 80);
  // Rows are padded to 64 bytes: 16 floats, 8 doubles.
  CHECK(sse2[0] == 16);   // float, 1 column
  CHECK(sse2[9] == 16);   // float, 10 columns (SSE2's registers alone would give 12)
  CHECK(sse2[16] == 32);  // float, 17 columns
  CHECK(sse2[40] == 8);   // double, 1 column
  CHECK(sse2[80] == 112); // float, 100 columns (AVX2's registers alone would give 104)
  // The functions compiled for AVX2 and AVX-512 compute constants only, but are run only where the CPU
  // could run the rest of their code.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(first_difference(layout_facts_avx2(), sse2) == -1);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    CHECK(first_difference(layout_facts_avx512(), sse2) == -1);
  else
    WARN("this CPU has no AVX-512: only SSE2 and AVX2 compared");
}
