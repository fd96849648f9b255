// A program built for any x86-64 (no -march: tests/CMakeLists.txt builds this file and f32_kernels_test.cpp
// so), which ctest runs natively and under QEMU as two other CPUs: one with SSE2 alone (Nehalem) and one with
// AVX2 but no AVX-512 (Haswell). On each it must run (no instruction the CPU lacks: QEMU stops the program at
// the first), take the fastest path the CPU has (NN_EXPECT_ISA names it) and learn.
#include <nn/network.hpp>
#include <nn/network_view.hpp>
#include <nn/simd/f32.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "blobs.hpp"
#include "catch.hpp"

// First in the file: tests/CMakeLists.txt also runs it alone with NN_ISA=avx3, a name nn does not know,
// before any network is made: inference through a view alone then takes the fastest path and says so on
// stderr (the kernels cannot throw), and gives what the float network gives.
TEST_CASE("portable: inference through a view alone, under any NN_ISA", "[portable][view]") {
  using Net = nn::network<20, 30, 5>;
  static const auto params = nn::parameter_storage_of<Net>([] {
    std::array<float, Net::parameter_count> v{};
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37 % 101) - 50) / 200.0f;
    return v;
  }());
  const nn::network_view<Net> view(params);
  std::array<float, 20> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f;
  const auto y = view.feedforward(std::span<const float, 20>(x));
  CHECK(nn::simd::f32::active().id == nn::simd::f32::kernels_for(nn::simd::best()).id);
  Net net;
  std::copy(params.data(), params.data() + Net::parameter_storage, net.parameters().begin());
  const auto want = net.feedforward(std::span<const float, 20>(x));
  for (std::size_t o = 0; o < 5; ++o) CHECK(y[o] == Approx(want[o]).epsilon(1e-5));
}

TEST_CASE("portable: a network built for any x86-64 takes the fastest path this CPU has", "[portable]") {
  STATIC_REQUIRE(nn::simd::runtime_paths<float>);  // (the build has no AVX-512: the products are chosen at run time)
  nn::network<20, 30, 5> net(3);
  const nn::simd::isa got = nn::simd::f32::active().id;
  INFO("path " << nn::simd::name(got) << ", the CPU's best level " << nn::simd::name(nn::simd::best()));
  CHECK(got == nn::simd::f32::kernels_for(nn::simd::best()).id);
  if (const char* want = std::getenv("NN_EXPECT_ISA")) CHECK(std::string(nn::simd::name(got)) == want);
}

TEST_CASE("portable: the course's training learns a known problem on this CPU's path", "[portable]") {
  // A wide hidden layer (30 outputs: the error at its inputs takes the dot products) and a narrow one.
  const auto train = test_data::blobs(1000, 1), test = test_data::blobs(500, 2);
  nn::network<20, 40, 30, 5> net(7);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 6;
  t.batch_size = 10;
  t.seed = 3;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, train, test);
  INFO("path " << nn::simd::name(nn::simd::f32::active().id) << ": " << h.back().correct << " / " << h.back().tested);
  CHECK(h.back().correct >= 480);  // 96 %: the classes overlap little
  CHECK(h.back().mean_cost < h.front().mean_cost);
}
