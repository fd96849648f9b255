// nn/simd/f32.hpp, the float kernels chosen at run time: every path this CPU runs (AVX-512, AVX2, SSE2 and
// the plain C++ twin) against a long double sum, for sizes that are and are not multiples of each path's
// register (1 to 50 columns: a wider register runs over the rows' 64-byte padding), every remainder of the
// row and column blocks, each finish (store, scale, add) and the dot products; the padding of the rows
// stays zero. Then the choice itself: NN_ISA, and what a wrong one does. ctest runs the whole suite once
// more on each path with NN_ISA set (tests/CMakeLists.txt, .ci/run).
#include <nn/io.hpp>
#include <nn/network.hpp>
#include <nn/simd/f32.hpp>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

namespace f32 = nn::simd::f32;
using nn::simd::isa;

std::vector<isa> paths() {
  std::vector<isa> v;
  for (const isa i : {isa::scalar, isa::sse2, isa::avx2, isa::avx512})
    if (nn::simd::supported(i)) v.push_back(i);
  return v;
}

constexpr std::size_t padded(std::size_t n) { return (n + 15) / 16 * 16; }

// Rows of `stride` floats, 64-byte aligned, the padding past `cols` zero.
struct rows {
  std::size_t count, cols, stride;
  nn::detail::aligned_buffer<float> v;
  rows(std::size_t count_, std::size_t cols_, nn::rng& r) : count(count_), cols(cols_), stride(padded(cols_)), v(count_ * padded(cols_)) {
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t c = 0; c < cols; ++c) v.data()[i * stride + c] = static_cast<float>(r.uniform() * 2 - 1);
  }
  float at(std::size_t i, std::size_t c) const { return v.data()[i * stride + c]; }
};

// |got − want| within the bound on a sum of n products of magnitude at most `scale` each.
void check_close(float got, long double want, std::size_t n, long double scale) {
  const long double tol = (n + 2) * 2 * std::numeric_limits<float>::epsilon() * scale + 1e-30L;
  INFO("got " << got << ", want " << static_cast<double>(want));
  CHECK(std::fabs(static_cast<long double>(got) - want) <= tol);
}

}  // namespace

TEST_CASE("f32 product: every path, every finish, sizes that are not multiples of a register", "[f32]") {
  nn::rng r(5);
  for (const isa path : paths()) {
    INFO("path " << nn::simd::name(path));
    const f32::kernels k = f32::kernels_for(path);
    for (const std::size_t m : {1, 2, 3, 5, 7, 9, 13, 26})
      for (const std::size_t cols : {1, 3, 4, 8, 10, 15, 16, 17, 30, 33, 50, 64, 65})
        for (const std::size_t inner : {1, 7, 40})
          for (const auto finish : {f32::product_finish::store, f32::product_finish::scale, f32::product_finish::add}) {
            INFO("rows " << m << ", inner " << inner << ", cols " << cols << ", finish " << static_cast<int>(finish));
            // a is read with both layouts: row-major (a sample per row) and transposed (rank_update's xᵀ);
            // b's rows are 64-byte aligned rows, or gathered from anywhere (conv_forward's taps); the sums
            // start at 0, at a row of init (a layer's bias) or at a value per row (a map's bias).
            const bool transposed = (m + cols) % 2 == 1, gather = (m + inner) % 3 == 0;
            const int start = finish == f32::product_finish::store ? static_cast<int>((m + cols + inner) % 3) : 0;
            const rows a = transposed ? rows(inner, m, r) : rows(m, inner, r), b(inner, cols, r), init(1, cols, r), per_row(1, m, r);
            const rows pool(inner + 2, cols + 16, r);  // gathered rows: row k at an odd offset
            std::vector<std::uint32_t> offsets(inner);
            for (std::size_t q = 0; q < inner; ++q) offsets[q] = static_cast<std::uint32_t>(((q * 7) % inner) * pool.stride + 1 + q % 5);
            const auto b_at = [&](std::size_t q, std::size_t c) { return gather ? pool.v.data()[offsets[q] + c] : b.at(q, c); };
            rows out(m, cols, r), before = out;
            // Padding of NaN: a lane past cols may be left as it was or written (0 here), never anything else.
            for (std::size_t i = 0; i < m; ++i)
              std::fill(out.v.data() + i * out.stride + cols, out.v.data() + (i + 1) * out.stride, std::nanf(""));
            std::copy_n(out.v.data(), out.count * out.stride, before.v.data());
            const float alpha = finish == f32::product_finish::store ? 1.0f : -0.375f;
            f32::product_args args{m, inner, cols, a.v.data(), transposed ? 1 : a.stride, transposed ? a.stride : 1,
                                   gather ? pool.v.data() : b.v.data(), b.stride, start == 1 ? init.v.data() : nullptr,
                                   out.v.data(), out.stride, finish, alpha};
            args.init_rows = start == 2 ? per_row.v.data() : nullptr;
            args.b_rows = gather ? offsets.data() : nullptr;
            (gather ? f32::gathered_for(path) : k.product)(args);
            for (std::size_t i = 0; i < m; ++i) {
              for (std::size_t c = 0; c < cols; ++c) {
                long double sum = start == 1 ? init.at(0, c) : start == 2 ? per_row.at(0, i) : 0.0L;
                for (std::size_t q = 0; q < inner; ++q)
                  sum += static_cast<long double>(transposed ? a.at(q, i) : a.at(i, q)) * b_at(q, c);
                const long double want = finish == f32::product_finish::store ? sum
                                         : finish == f32::product_finish::scale ? alpha * sum
                                                                                : before.at(i, c) + alpha * sum;
                check_close(out.at(i, c), want, inner + 1, 2.0L);
              }
              // (gathered rows have values past cols: what the lanes there get is the caller's to drop)
              if (!gather && start != 2)
                for (std::size_t c = cols; c < out.stride; ++c) REQUIRE((std::isnan(out.at(i, c)) || out.at(i, c) == 0.0f));
            }
          }
  }
}

// Sums from 0 start from their first products (kernels.hpp, detail::settle): a row of a that is all zeros,
// against rows of b that are all negative, makes every product −0, and the sum must still be the +0 of a
// chain from +0 on every path: store gives +0, scale −0.375 · +0 = −0, add −0 + (−0) = −0 onto a −0.
TEST_CASE("f32 product: a sum of −0 products is +0, as from +0, on every path", "[f32]") {
  nn::rng r(11);
  for (const isa path : paths()) {
    INFO("path " << nn::simd::name(path));
    for (const std::size_t inner : {1, 2, 10})
      for (const auto finish : {f32::product_finish::store, f32::product_finish::scale, f32::product_finish::add}) {
        INFO("inner " << inner << ", finish " << static_cast<int>(finish));
        const std::size_t m = 13, cols = 40;
        rows a(m, inner, r), b(inner, cols, r), out(m, cols, r);
        for (std::size_t q = 0; q < inner; ++q) {
          a.v.data()[5 * a.stride + q] = 0.0f;
          for (std::size_t c = 0; c < cols; ++c) b.v.data()[q * b.stride + c] = -std::fabs(b.at(q, c)) - 0.5f;
        }
        for (std::size_t c = 0; c < cols; ++c) out.v.data()[5 * out.stride + c] = -0.0f;
        f32::product_args args{m, inner, cols, a.v.data(), a.stride, 1, b.v.data(), b.stride, nullptr,
                               out.v.data(), out.stride, finish, -0.375f};
        f32::kernels_for(path).product(args);
        const bool negative = finish != f32::product_finish::store;
        std::size_t wrong = 0;
        for (std::size_t c = 0; c < cols; ++c) wrong += out.at(5, c) != 0.0f || std::signbit(out.at(5, c)) != negative;
        CHECK(wrong == 0);
      }
  }
}

TEST_CASE("f32 dot: every path, sizes that are not multiples of a register", "[f32]") {
  nn::rng r(6);
  for (const isa path : paths()) {
    INFO("path " << nn::simd::name(path));
    const f32::kernels k = f32::kernels_for(path);
    for (const std::size_t m : {1, 2, 3, 4, 5, 7, 13})
      for (const std::size_t n : {1, 2, 3, 4, 5, 11, 30})
        for (const std::size_t cols : {1, 5, 8, 16, 17, 40, 100}) {
          INFO("rows " << m << ", n " << n << ", cols " << cols);
          const rows a(n, cols, r), b(m, cols, r);
          rows out(m, n, r);
          k.dot({m, n, cols, a.v.data(), a.stride, b.v.data(), b.stride, out.v.data(), out.stride});
          for (std::size_t s = 0; s < m; ++s)
            for (std::size_t i = 0; i < n; ++i) {
              long double want = 0;
              for (std::size_t c = 0; c < cols; ++c) want += static_cast<long double>(a.at(i, c)) * b.at(s, c);
              check_close(out.at(s, i), want, cols, 1.0L);
            }
        }
    // a over 512 KB (1201 rows of 112 floats): b's rows in chunks that stay in L1 (36 rows of 112), each
    // block of a's rows serving a whole chunk: 80 rows are two chunks and a part.
    for (const std::size_t m : {3, 80}) {
      INFO("rows " << m << ", n 1201, cols 100");
      const std::size_t n = 1201, cols = 100;
      const rows a(n, cols, r), b(m, cols, r);
      rows out(m, n, r);
      k.dot({m, n, cols, a.v.data(), a.stride, b.v.data(), b.stride, out.v.data(), out.stride});
      std::size_t wrong = 0;
      for (std::size_t s = 0; s < m; ++s)
        for (std::size_t i = 0; i < n; ++i) {
          long double want = 0;
          for (std::size_t c = 0; c < cols; ++c) want += static_cast<long double>(a.at(i, c)) * b.at(s, c);
          const long double tol = (cols + 2) * 2 * std::numeric_limits<float>::epsilon() + 1e-30L;
          wrong += !(std::fabs(static_cast<long double>(out.at(s, i)) - want) <= tol);
        }
      CHECK(wrong == 0);
    }
  }
}

// The AVX-512 path's dot products to the bit: each lane an FMA chain along the row's registers, then the
// lanes summed in the order of xsimd 8.1's AVX-512 hadd (i + (i + 8), then + 4, then neighbours, then the
// pairs), which the compile-time kernels of an AVX-512 build use: the 4 × 4 blocks summed at once
// (sums_4x4) and the blocks at the edges one by one must both give it.
TEST_CASE("f32 dot: the AVX-512 path sums in the compile-time kernels' order, to the bit", "[f32]") {
  if (!nn::simd::supported(isa::avx512)) {  // (the other paths are checked against long double above)
    WARN("this CPU has no AVX-512: its dot path is not run");
    return;
  }
  nn::rng r(8);
  const f32::kernels k = f32::kernels_for(isa::avx512);
  for (const std::size_t m : {1, 4, 5, 9})
    for (const std::size_t n : {3, 4, 8, 11})
      for (const std::size_t cols : {16, 40, 100}) {
        INFO("rows " << m << ", n " << n << ", cols " << cols);
        rows a(n, cols, r), b(m, cols, r);
        // Magnitudes over 2^±20, so that every step of the order shows in the bits.
        for (std::size_t i = 0; i < a.count * a.stride; ++i) a.v.data()[i] *= std::ldexp(1.0f, static_cast<int>(i * 7 % 41) - 20);
        rows out(m, n, r);
        k.dot({m, n, cols, a.v.data(), a.stride, b.v.data(), b.stride, out.v.data(), out.stride});
        for (std::size_t s = 0; s < m; ++s)
          for (std::size_t i = 0; i < n; ++i) {
            float l[16] = {};
            for (std::size_t c = 0; c < a.stride; c += 16)
              for (std::size_t j = 0; j < 16; ++j) l[j] = std::fma(a.at(i, c + j), b.at(s, c + j), l[j]);
            float h[8], q[4];
            for (std::size_t j = 0; j < 8; ++j) h[j] = l[j + 8] + l[j];
            for (std::size_t j = 0; j < 4; ++j) q[j] = h[j] + h[j + 4];
            const float want = (q[0] + q[1]) + (q[2] + q[3]);
            CHECK(out.at(s, i) == want);
          }
      }
}

// Through a network, on the path this program takes (ctest runs the file once per NN_ISA): a gradient
// into a buffer of NaN has every value written, the padding 0, whichever path wrote how many lanes.
TEST_CASE("f32 paths: a network's gradient writes every value, its padding 0", "[f32]") {
  using Net = nn::network<7, 10, 30, 3>;  // rows of 10 and 30 values: padding in every layer's rows
  const Net net(5);
  const std::size_t m = 6;
  Net::workspace ws(m);
  nn::rng r(8);
  for (std::size_t s = 0; s < m; ++s) {
    for (std::size_t i = 0; i < 7; ++i) ws.input()(s, i) = static_cast<float>(r.uniform());
    for (std::size_t o = 0; o < 3; ++o) ws.target()(s, o) = static_cast<float>(r.uniform());
  }
  nn::aligned_vector<float> grads(Net::parameter_storage, std::nanf(""));
  (void)net.gradient(ws, nn::quadratic_cost{}, std::span<float>(grads));
  std::vector<bool> real(Net::parameter_storage, false);
  nn::detail::for_each_parameter(const_cast<Net&>(net), [&](float& v) { real[static_cast<std::size_t>(&v - net.parameters().data())] = true; });
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    INFO("storage index " << i << (real[i] ? " (a parameter)" : " (padding)"));
    REQUIRE(std::isfinite(grads[i]));
    if (!real[i]) REQUIRE(grads[i] == 0.0f);
    nonzero += grads[i] != 0.0f;
  }
  CHECK(nonzero > Net::parameter_count / 2);
}

TEST_CASE("f32 paths: each level takes the widest kernels at or below it", "[f32]") {
  CHECK(f32::kernels_for(isa::scalar).id == isa::scalar);
  if (nn::simd::supported(isa::sse2)) CHECK(f32::kernels_for(isa::sse2).id == isa::sse2);
  if (nn::simd::supported(isa::avx2)) CHECK(f32::kernels_for(isa::avx2).id == isa::avx2);
  if (nn::simd::supported(isa::avx_vnni)) CHECK(f32::kernels_for(isa::avx_vnni).id == isa::avx2);
  if (nn::simd::supported(isa::avx512)) CHECK(f32::kernels_for(isa::avx512).id == isa::avx512);
  if (nn::simd::supported(isa::avx512_vnni)) CHECK(f32::kernels_for(isa::avx512_vnni).id == isa::avx512);
  for (const isa i : {isa::avx2, isa::avx512})
    if (!nn::simd::supported(i)) CHECK_THROWS_AS(f32::kernels_for(i), std::invalid_argument);
}

// ctest runs this file once more for each path with NN_ISA set: the program takes that path.
TEST_CASE("f32 paths: the program takes NN_ISA's path, else the fastest", "[f32]") {
  const char* v = std::getenv("NN_ISA");
  const isa want = nn::simd::select();
  const f32::kernels& k = f32::active();
  CHECK(k.id == f32::kernels_for(want).id);
  if (!v || !*v) CHECK(want == nn::simd::best());
  else CHECK(std::string(nn::simd::name(want)) == v);
}

TEST_CASE("f32 paths: a wrong NN_ISA stops a network being made, naming the variable", "[f32]") {
  if constexpr (!nn::simd::runtime_paths<float>) {
    SUCCEED("this build compiles its float kernels for its own instruction set (NN_DISPATCH=0)");
  } else {
    const char* old = std::getenv("NN_ISA");
    const std::string saved = old ? old : "";
    ::setenv("NN_ISA", "avx3", 1);
    try {
      nn::network<3, 2> net(1);
      FAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == "nn: NN_ISA=avx3 names no instruction set; expected avx512-vnni, avx512, avx-vnni, avx2, sse2 or scalar");
    }
    if (saved.empty()) ::unsetenv("NN_ISA");
    else ::setenv("NN_ISA", saved.c_str(), 1);
    nn::network<3, 2> net(1);  // the right name now: made
    CHECK(net.parameters().size() > 0);
  }
}
