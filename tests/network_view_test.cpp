// nn::network_view and nn::parameter_storage_of (nn/network_view.hpp): inference over parameters in
// static storage, laid out at compile time, with no heap allocation (a counting operator new) and the
// same outputs, bit for bit, as the network that owns the same parameters.
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"

namespace {

using course = nn::network<784, 30, 10>;
using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                            nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;

// Parameters in file order, different from one another, from a formula a constant expression can run.
template <std::size_t N>
constexpr std::array<float, N> file_order() {
  std::array<float, N> v{};
  std::uint32_t x = 12345;
  for (auto& p : v) {
    x = x * 1664525u + 1013904223u;
    p = static_cast<float>(static_cast<std::int32_t>(x >> 8) - (1 << 23)) / float(1 << 23) * 0.25f;
  }
  return v;
}

constexpr auto course_values = file_order<course::parameter_count>();
// In static storage, laid out by the compiler (a constant expression: constinit would reject anything else).
constinit const auto course_storage = nn::parameter_storage_of<course>(course_values);

template <class Net, std::size_t N>
Net owning(const std::array<float, N>& values) {
  Net net;
  std::size_t at = 0;
  nn::detail::for_each_parameter(net, [&](typename Net::value_type& v) { v = values[at++]; });
  REQUIRE(at == N);
  return net;
}

std::array<float, 784> image(int s) {
  std::array<float, 784> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7 + static_cast<std::size_t>(s) * 13) % 256) / 255.0f;
  return x;
}

}  // namespace

TEST_CASE("network_view: the course network from static storage, no heap, the owning network's outputs", "[view]") {
  const course net = owning<course>(course_values);
  REQUIRE(std::equal(net.parameters().begin(), net.parameters().end(), course_storage.begin()));
  for (int s = 0; s < 3; ++s) {
    const auto x = image(s);
    const std::size_t before = counting_new::allocations.load();
    const nn::network_view<course> view(course_storage);
    const auto y = view.feedforward(std::span<const float, 784>(x));
    const std::size_t after = counting_new::allocations.load();
    CHECK(after == before);  // no heap allocation on the whole path
    const auto expected = net.feedforward(x);
    for (std::size_t o = 0; o < 10; ++o) REQUIRE(y[o] == expected[o]);
  }
  // The padding is zero; values land where the network keeps them (weight(l, j, k) in the course's terms).
  const nn::network_view<course> view(course_storage);
  const course copy = view.network();
  REQUIRE(copy == net);
  REQUIRE(copy.weight(0, 0, 1) == course_values[1]);         // w[0][1] of the first layer: file value 1
  REQUIRE(copy.bias(0, 0) == course_values[784 * 30]);        // its first bias after its 23,520 weights
  REQUIRE(copy.weight(1, 2, 3) == course_values[784 * 30 + 30 + 2 * 30 + 3]);
}

TEST_CASE("network_view: chapter 6's network in double and float, no heap", "[view]") {
  static const auto values = file_order<ch6a::parameter_count>();
  const ch6a net = owning<ch6a>(values);
  static const auto storage = nn::parameter_storage_of<ch6a>(std::span<const float, ch6a::parameter_count>(values));
  const nn::network_view<ch6a> view(storage);
  const auto x = image(1);
  const std::size_t before = counting_new::allocations.load();
  const auto y = view.feedforward(std::span<const float, 784>(x));
  CHECK(counting_new::allocations.load() == before);
  const auto expected = net.feedforward(x);
  for (std::size_t o = 0; o < 10; ++o) REQUIRE(y[o] == expected[o]);
  // Rows at a time, as predict.
  nn::matrix<float, nn::dynamic, 784> rows(3);
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t i = 0; i < 784; ++i) rows(r, i) = image(static_cast<int>(r))[i];
  nn::matrix<float, nn::dynamic, 10> out(3);
  view.predict(nn::matrix_ref<const float, nn::dynamic, 784>(rows.data(), 3), nn::matrix_ref<float, nn::dynamic, 10>(out.data(), 3));
  const auto expected_rows = net.predict(rows);
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t o = 0; o < 10; ++o) REQUIRE(out(r, o) == expected_rows(r, o));
  // Double parameters from the same float values.
  using ch6a_double = nn::basic_sequential<double, nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>,
                                           nn::max_pool<2>, nn::flatten, nn::dense<100, nn::sigmoid>,
                                           nn::dense<10, nn::softmax>>;
  static const auto wide = nn::parameter_storage_of<ch6a_double>(std::span<const float, ch6a::parameter_count>(values));
  ch6a_double owner;
  std::size_t at = 0;
  nn::detail::for_each_parameter(owner, [&](double& v) { v = values[at++]; });
  std::array<double, 784> xd{};
  for (std::size_t i = 0; i < 784; ++i) xd[i] = x[i];
  const auto yd = nn::network_view<ch6a_double>(wide).feedforward(std::span<const double, 784>(xd));
  const auto expected_d = owner.feedforward(xd);
  for (std::size_t o = 0; o < 10; ++o) REQUIRE(yd[o] == expected_d[o]);
}

TEST_CASE("network_view: a sample whose rows outgrow the stack's 256 KB says so in its type", "[view]") {
  using small = nn::network<784, 30, 10>;
  using big = nn::sequential<nn::input<1, 256, 256>, nn::max_pool<2>, nn::flatten, nn::dense<2>>;
  static_assert(small::one_sample_on_stack && noexcept(nn::network_view<small>(nullptr).feedforward(
                                                  std::declval<std::span<const float, 784>>())));
  static_assert(!big::one_sample_on_stack && !noexcept(nn::network_view<big>(nullptr).feedforward(
                                                 std::declval<std::span<const float, 65536>>())));
  // It still gives the owning network's outputs.
  const big net(1);
  std::vector<float> x(65536);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 97) / 97;
  const auto y = nn::network_view<big>(net).feedforward(std::span<const float, 65536>(x.data(), 65536));
  const auto expected = net.feedforward(x);
  REQUIRE(y[0] == expected[0]);
  REQUIRE(y[1] == expected[1]);
}
