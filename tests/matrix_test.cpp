#include <nn/data/dataset.hpp>
#include <nn/matrix.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "catch.hpp"

TEST_CASE("row_layout pads rows to 64 bytes, and counts the registers that hold values", "[matrix]") {
  constexpr std::size_t w = nn::simd::width<float>;
  STATIC_REQUIRE(nn::row_layout<float, 1>::stride == 16);  // 64 bytes whatever the instruction set
  STATIC_REQUIRE(nn::row_layout<float, 1>::registers == 1);
  STATIC_REQUIRE(nn::row_layout<float, 1>::tail == 1);
  STATIC_REQUIRE(nn::row_layout<float, 10>::stride == 16);
  STATIC_REQUIRE(nn::row_layout<float, 16>::stride == 16);
  STATIC_REQUIRE(nn::row_layout<float, 17>::stride == 32);
  STATIC_REQUIRE(nn::row_layout<float, 100>::stride == 112);
  STATIC_REQUIRE(nn::row_layout<float, 784>::stride == 784);
  STATIC_REQUIRE(nn::row_layout<float, 784>::stride % w == 0);
  STATIC_REQUIRE(nn::row_layout<float, w>::registers == 1);
  STATIC_REQUIRE(nn::row_layout<float, w>::tail == w);
  STATIC_REQUIRE(nn::row_layout<float, w + 1>::registers == 2);
  STATIC_REQUIRE(nn::row_layout<float, w + 1>::tail == 1);
  STATIC_REQUIRE(nn::row_layout<float, 100>::registers == (100 + w - 1) / w);
  STATIC_REQUIRE(nn::row_layout<double, 1>::stride == 8);
  STATIC_REQUIRE(nn::row_layout<double, 30>::stride == 32);
  STATIC_REQUIRE(nn::row_layout<double, 30>::stride % nn::simd::width<double> == 0);
}

TEST_CASE("matrices are zero, aligned, and copy deeply", "[matrix]") {
  nn::matrix<float, 30, 10> m;
  REQUIRE(reinterpret_cast<std::uintptr_t>(m.data()) % nn::simd::alignment == 0);
  for (std::size_t r = 0; r < 30; ++r) {
    REQUIRE(reinterpret_cast<std::uintptr_t>(m.row(r).data()) % (nn::simd::width<float> * sizeof(float)) == 0);
    for (float v : m.row(r)) REQUIRE(v == 0.f);
  }
  m(3, 4) = 2.f;
  auto copy = m;
  copy(3, 4) = 5.f;
  REQUIRE(m(3, 4) == 2.f);
  REQUIRE(copy(3, 4) == 5.f);
  REQUIRE(m.view()(3, 4) == 2.f);

  nn::batch_matrix<double, 3> b(7);
  REQUIRE(b.rows() == 7);
  b(6, 2) = 1.0;
  REQUIRE(b.row(6)[2] == 1.0);
}

TEST_CASE("aligned buffers of every small size are aligned, zero, and stay so when copied and moved", "[matrix]") {
  // nn aligns plain operator new by hand: raw blocks start on 16-byte boundaries, so most sizes take the
  // shift, and the shifted block must still hold every value.
  const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % nn::simd::alignment == 0; };
  std::vector<nn::detail::aligned_buffer<float>> keep;  // alive together, so they land at different places
  for (std::size_t n = 1; n <= 70; ++n) {
    nn::detail::aligned_buffer<float> b(n);
    REQUIRE(aligned(b.data()));
    for (float v : b.span()) REQUIRE(v == 0.f);
    for (std::size_t i = 0; i < n; ++i) b.data()[i] = static_cast<float>(i + 1);
    nn::detail::aligned_buffer<double> d(n);
    REQUIRE(aligned(d.data()));
    const auto copy = b;
    REQUIRE(aligned(copy.data()));
    REQUIRE(std::equal(copy.span().begin(), copy.span().end(), b.span().begin()));
    keep.push_back(std::move(b));
    REQUIRE(b.data() == nullptr);
    REQUIRE(keep.back().data()[n - 1] == static_cast<float>(n));
  }
  for (std::size_t n = 1; n <= 70; ++n) {
    REQUIRE(aligned(keep[n - 1].data()));
    REQUIRE(keep[n - 1].data()[0] == 1.f);
  }
}

TEST_CASE("dataset stores samples in padded aligned rows and checks sizes", "[dataset]") {
  nn::dataset<float> d(3, 2);
  REQUIRE(d.empty());
  for (int i = 0; i < 40; ++i) d.add({float(i), float(i + 1), float(i + 2)}, {1.f, float(-i)});
  REQUIRE(d.size() == 40);
  REQUIRE(d.input(39)[2] == 41.f);
  REQUIRE(d.target(39)[1] == -39.f);
  REQUIRE(d.input(0)[0] == 0.f);  // kept across growth
  REQUIRE(reinterpret_cast<std::uintptr_t>(d.input(5).data()) % (nn::simd::width<float> * sizeof(float)) == 0);
  REQUIRE_THROWS_AS(d.input(40), std::out_of_range);
  REQUIRE_THROWS_AS(d.add({1.f, 2.f}, {1.f, 2.f}), std::invalid_argument);
  REQUIRE_THROWS_AS((nn::dataset<float>(0, 2)), std::invalid_argument);
  REQUIRE_THROWS_AS((nn::dataset<float, 4, 2>(3, 2)), std::invalid_argument);

  d.resize(42);
  REQUIRE(d.input(41)[0] == 0.f);
  d.input(41)[0] = 9.f;
  REQUIRE(d.input(41)[0] == 9.f);
  STATIC_REQUIRE(nn::data_source<nn::dataset<float>, float>);
  STATIC_REQUIRE(!nn::data_source<std::vector<float>, float>);
}

TEST_CASE("split_at keeps order, split shuffles with its seed", "[dataset]") {
  nn::dataset<float> d(1, 1);
  for (int i = 0; i < 100; ++i) d.add({float(i)}, {0.f});
  const auto [first, rest] = nn::split_at(d, 80);
  REQUIRE(first.size() == 80);
  REQUIRE(rest.size() == 20);
  REQUIRE(first.input(79)[0] == 79.f);
  REQUIRE(rest.input(0)[0] == 80.f);
  REQUIRE_THROWS_AS(nn::split_at(d, 101), std::invalid_argument);

  const auto [a, b] = nn::split(d, 0.75, 3);
  const auto [a2, b2] = nn::split(d, 0.75, 3);
  const auto [a3, b3] = nn::split(d, 0.75, 4);
  REQUIRE(a.size() == 75);
  REQUIRE(b.size() == 25);
  std::vector<int> seen(100, 0), first_a, first_a3;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ++seen[static_cast<std::size_t>(a.input(i)[0])];
    REQUIRE(a.input(i)[0] == a2.input(i)[0]);
    first_a.push_back(int(a.input(i)[0]));
    first_a3.push_back(int(a3.input(i)[0]));
  }
  for (std::size_t i = 0; i < b.size(); ++i) ++seen[static_cast<std::size_t>(b.input(i)[0])];
  for (int c : seen) REQUIRE(c == 1);
  REQUIRE(first_a != first_a3);
  bool shuffled = false;
  for (std::size_t i = 0; i < a.size(); ++i) shuffled |= a.input(i)[0] != float(i);
  REQUIRE(shuffled);
  REQUIRE_THROWS_AS(nn::split(d, 1.5, 1), std::invalid_argument);

  // By count: the same shuffle as the fraction 0.75 of 100.
  const auto [c, rest_c] = nn::split(d, 75, 3);
  REQUIRE(c.size() == 75);
  REQUIRE(rest_c.size() == 25);
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c.input(i)[0] == a.input(i)[0]);
  REQUIRE_THROWS_AS(nn::split(d, 101, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::split(d, -1, 1), std::invalid_argument);
}
