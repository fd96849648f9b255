// nn::byte_dataset, the compact labelled set: its samples, its splits, and that the trainer turns its
// bytes into exactly the floats an nn::dataset would hold, so both train the same network.
#include <nn/network.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "catch.hpp"

namespace {

// n samples of `inputs` random bytes with random labels below `classes`.
nn::byte_dataset<float> random_bytes(std::size_t n, std::size_t inputs, std::size_t classes, std::uint64_t seed) {
  nn::rng r(seed);
  std::vector<std::uint8_t> x(n * inputs), labels(n);
  for (auto& b : x) b = static_cast<std::uint8_t>(r.below(256));
  for (auto& l : labels) l = static_cast<std::uint8_t>(r.below(classes));
  return nn::byte_dataset<float>(inputs, classes, std::move(x), std::move(labels));
}

// The same samples as floats in an nn::dataset, converted as documented: T(b) / T(input_scale()).
template <class T = float>
nn::dataset<T> as_floats(const nn::byte_dataset<T>& b) {
  nn::dataset<T> d(b.input_size(), b.output_size());
  d.resize(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    for (std::size_t k = 0; k < b.input_size(); ++k)
      d.input(i)[k] = static_cast<T>(b.input(i)[k]) / static_cast<T>(b.input_scale());
    d.target(i)[b.label(i)] = T(1);
  }
  return d;
}

// Sample i's first input byte and label, which random_bytes makes (nearly) unique per sample.
std::vector<std::pair<int, int>> keys(const nn::byte_dataset<float>& d) {
  std::vector<std::pair<int, int>> k;
  for (std::size_t i = 0; i < d.size(); ++i) k.emplace_back(d.input(i)[0], int(d.label(i)));
  return k;
}

}  // namespace

TEST_CASE("a byte_dataset holds bytes and labels, and gives one-hot targets", "[byte_dataset]") {
  STATIC_REQUIRE(nn::data_source<nn::byte_dataset<float>, float>);
  STATIC_REQUIRE(nn::byte_input_source<nn::byte_dataset<float>, float>);
  STATIC_REQUIRE(nn::data_source<nn::byte_dataset<double>, double>);
  STATIC_REQUIRE(!nn::byte_input_source<nn::dataset<float>, float>);

  nn::byte_dataset<float> d(3, 4);
  REQUIRE(d.empty());
  d.add(std::vector<std::uint8_t>{0, 128, 255}, 2);
  d.add(std::vector<std::uint8_t>{1, 2, 3}, 0);
  REQUIRE(d.size() == 2);
  REQUIRE(d.input_size() == 3);
  REQUIRE(d.output_size() == 4);
  REQUIRE(d.input_scale() == 255.f);
  REQUIRE(d.input(0)[1] == 128);
  REQUIRE(d.label(0) == 2);
  REQUIRE(d.label(1) == 0);
  const auto t = d.target(0);
  REQUIRE(std::vector<float>(t.begin(), t.end()) == std::vector<float>{0, 0, 1, 0});
  REQUIRE(d.target(1)[0] == 1.f);

  std::vector<float> x(3);
  nn::copy_input(d, 0, std::span<float>(x));
  REQUIRE(x == std::vector<float>{0.f, 128.f / 255.f, 1.f});

  REQUIRE_THROWS_AS(d.add(std::vector<std::uint8_t>{1, 2}, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(d.add(std::vector<std::uint8_t>{1, 2, 3}, 4), std::invalid_argument);
  REQUIRE_THROWS_AS(d.input(2), std::out_of_range);
  REQUIRE_THROWS_AS(d.label(2), std::out_of_range);
  REQUIRE_THROWS_AS(nn::copy_input(d, 0, std::span<float>(x.data(), 2)), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::byte_dataset<float>(0, 4), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::byte_dataset<float>(3, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::byte_dataset<float>(3, 4, 0.f), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::byte_dataset<float>(3, 4, std::vector<std::uint8_t>(5), std::vector<std::uint8_t>(2)),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(nn::byte_dataset<float>(3, 4, std::vector<std::uint8_t>(3), std::vector<std::uint8_t>{4}),
                    std::invalid_argument);

  // Another scale: raw byte values.
  nn::byte_dataset<double> raw(2, 2, 1.0);
  raw.add(std::vector<std::uint8_t>{7, 200}, 1);
  std::vector<double> y(2);
  nn::copy_input(raw, 0, std::span<double>(y));
  REQUIRE(y == std::vector<double>{7.0, 200.0});
}

TEST_CASE("every byte converts to exactly T(b) / T(scale), in copy_input and in the trainer", "[byte_dataset]") {
  nn::byte_dataset<float> d(256, 2);
  std::vector<std::uint8_t> all(256);
  std::iota(all.begin(), all.end(), std::uint8_t{0});
  d.add(all, 1);
  std::vector<float> x(256);
  nn::copy_input(d, 0, std::span<float>(x));
  for (int b = 0; b < 256; ++b) REQUIRE(x[std::size_t(b)] == static_cast<float>(b) / 255.f);

  using net_t = nn::network<256, 3, 2>;
  net_t::workspace ws(1);
  const std::size_t zero = 0;
  nn::detail::gather<net_t>(d, std::span<const std::size_t>(&zero, 1), ws);
  for (int b = 0; b < 256; ++b) REQUIRE(ws.input().row_data(0)[b] == static_cast<float>(b) / 255.f);
  REQUIRE(ws.target().row_data(0)[1] == 1.f);
}

// The conversion multiplies by the reciprocal and corrects (nn::detail::byte_by_reciprocal) where the CPU has
// FMAs, a register at a time; it must still give the division's bits, for every byte, every length (whole
// registers and not), both types, and any scale, including those where the fast form is not exact or
// means nothing (0, ∞, NaN, subnormal reciprocals), which must go the division's way.
template <class T>
void check_bytes_to_values(T scale) {
  std::vector<std::uint8_t> bytes(1000);
  nn::rng r(7);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(r.below(256));
  for (std::size_t b = 0; b < 256; ++b) bytes[b] = static_cast<std::uint8_t>(b);  // every byte in the first 256
  for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                              std::size_t{31}, std::size_t{256}, std::size_t{259}, std::size_t{784}, std::size_t{1000}}) {
    std::vector<T> out(n + 1, T(-1));
    nn::detail::bytes_to_values(bytes.data(), n, scale, out.data());
    for (std::size_t k = 0; k < n; ++k) {
      const T want = static_cast<T>(bytes[k]) / scale;
      INFO("scale " << scale << ", n " << n << ", k " << k << ", byte " << int(bytes[k]) << ": " << out[k] << " against " << want);
      REQUIRE(std::memcmp(&out[k], &want, sizeof(T)) == 0);  // the same bits (0 and −0 differ; NaN equals NaN)
    }
    REQUIRE(out[n] == T(-1));  // nothing past the end
  }
}

TEST_CASE("bytes convert to the division's bits by every path, for any scale and length", "[byte_dataset]") {
#if defined(__FMA__)
  // The fast form is taken for the scales data sets use; otherwise this test would not test it.
  REQUIRE(nn::detail::reciprocal_is_exact(255.f));
  REQUIRE(nn::detail::reciprocal_is_exact(255.0));
  REQUIRE(nn::detail::reciprocal_is_exact(4.f));
  REQUIRE(!nn::detail::reciprocal_is_exact(0.f));
  REQUIRE(!nn::detail::reciprocal_is_exact(std::numeric_limits<float>::quiet_NaN()));
  REQUIRE(!nn::detail::reciprocal_is_exact(3e38f));  // a subnormal reciprocal: the division, flushed or not
  REQUIRE(!nn::detail::reciprocal_is_exact(1e-39f));  // 1/scale overflows
#endif
  for (const float s : {255.f, 1.f, 3.f, 4.f, 7.f, 10.f, 100.f, 127.5f, 1000.f, 0.1f, 1e-3f, -255.f, 3e38f, 1e-39f, 1e-45f, 0.f,
                        std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    check_bytes_to_values(s);
  for (const double s : {255.0, 3.0, 0.1, -7.0, 1e-310, 0.0, std::numeric_limits<double>::infinity()}) check_bytes_to_values(s);
  nn::rng r(11);
  for (int i = 0; i < 200; ++i) check_bytes_to_values(static_cast<float>(0.5 + 1000 * r.uniform()));
  // The same inside a training step's floating-point state (subnormals flushed), against the division
  // in that state: the scales whose quotients may be subnormal take the division there too.
  const nn::detail::subnormal_mode flushed(true);
  for (const float s : {255.f, 3.f, 3e38f, 8e37f, 1e-39f, 0.f}) check_bytes_to_values(s);
  for (const double s : {255.0, 1e308, 1e-310}) check_bytes_to_values(s);
}

TEST_CASE("split_at and split of a byte_dataset pick the samples a dataset's would", "[byte_dataset]") {
  const auto d = random_bytes(100, 3, 7, 1);
  const auto f = as_floats(d);

  const auto [first, rest] = nn::split_at(d, 80);
  REQUIRE(first.size() == 80);
  REQUIRE(rest.size() == 20);
  for (std::size_t i = 0; i < 80; ++i) REQUIRE(first.label(i) == d.label(i));
  for (std::size_t i = 0; i < 20; ++i) {
    REQUIRE(rest.label(i) == d.label(80 + i));
    REQUIRE(rest.input(i)[2] == d.input(80 + i)[2]);
  }
  REQUIRE_THROWS_AS(nn::split_at(d, 101), std::invalid_argument);

  // Moving the set in gives the same parts.
  auto copy = d;
  const auto [moved_first, moved_rest] = nn::split_at(std::move(copy), 80);
  REQUIRE(keys(moved_first) == keys(first));
  REQUIRE(keys(moved_rest) == keys(rest));
  auto floats = f;
  const auto [f_first, f_rest] = nn::split_at(std::move(floats), 80);
  REQUIRE(f_first.size() == 80);
  REQUIRE(f_rest.input(0)[0] == f.input(80)[0]);

  // Seeded: the same seed draws the same sample indices as for an nn::dataset of the same size.
  const auto [a, b] = nn::split(d, 0.75, 3);
  const auto [fa, fb] = nn::split(f, 0.75, 3);
  REQUIRE(a.size() == 75);
  REQUIRE(b.size() == 25);
  REQUIRE(a.input_scale() == d.input_scale());
  std::vector<float> x(3);
  for (std::size_t i = 0; i < a.size(); ++i) {
    nn::copy_input(a, i, std::span<float>(x));
    for (std::size_t k = 0; k < 3; ++k) REQUIRE(x[k] == fa.input(i)[k]);
    REQUIRE(fa.target(i)[a.label(i)] == 1.f);
  }
  for (std::size_t i = 0; i < b.size(); ++i) REQUIRE(fb.target(i)[b.label(i)] == 1.f);
  REQUIRE(keys(nn::split(d, 75, 3).first) == keys(a));  // by count: the same draw
  REQUIRE(keys(nn::split(d, 0.75, 4).first) != keys(a));
  REQUIRE_THROWS_AS(nn::split(d, 1.5, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(nn::split(d, 101, 1), std::invalid_argument);
}

TEST_CASE("a byte_dataset and the same samples as floats train the same network, bit for bit", "[byte_dataset]") {
  const auto train = random_bytes(300, 20, 5, 2), test = random_bytes(100, 20, 5, 3);
  const auto train_f = as_floats(train), test_f = as_floats(test);
  nn::network<20, 15, 5> a(7), b(7);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 3;
  t.seed = 9;
  t.on_epoch = nullptr;
  const auto ha = t.fit(a, train, test);
  const auto hb = t.fit(b, train_f, test_f);
  REQUIRE(a == b);
  REQUIRE(!(a == nn::network<20, 15, 5>(7)));
  for (std::size_t e = 0; e < 3; ++e) {
    REQUIRE(ha[e].mean_cost == hb[e].mean_cost);
    REQUIRE(ha[e].correct == hb[e].correct);
  }
  REQUIRE(nn::evaluate(a, test) == nn::evaluate(b, test_f));
}

TEST_CASE("for_each_output gives every sample's output in order, as feedforward does, over several chunks", "[byte_dataset]") {
  // 600 samples: two whole chunks of 256 and a part; bytes converted as the trainer converts them.
  const auto bytes = random_bytes(600, 20, 5, 4);
  const auto floats = as_floats(bytes);
  const nn::network<20, 15, 5> net(11);
  std::size_t next = 0, correct = 0;
  nn::for_each_output(net, bytes, [&](std::size_t i, std::span<const float, 5> out) {
    REQUIRE(i == next++);
    const auto want = net.feedforward(floats.input(i));
    for (std::size_t o = 0; o < 5; ++o) REQUIRE(out[o] == want[o]);
    correct += nn::is_correct<float>(out, floats.target(i));
  });
  REQUIRE(next == 600);
  REQUIRE(correct == nn::evaluate(net, floats));

  // Only the inputs must fit (a caller may score 4-output codes by label); they are checked.
  std::size_t calls = 0;
  nn::for_each_output(nn::network<20, 15, 4>(1), bytes, [&](std::size_t, std::span<const float, 4>) { ++calls; });
  REQUIRE(calls == 600);
  REQUIRE_THROWS_WITH(nn::for_each_output(nn::network<21, 15, 5>(1), bytes, [](std::size_t, std::span<const float, 5>) {}),
                      "nn::for_each_output: the data has inputs of 20 values, but the network has 21 inputs");
}
