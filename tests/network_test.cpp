#include <nn/network.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "reference.hpp"

namespace {

// The course's feedforward, a ← σ(w·a + b) layer by layer, read through the public accessors.
template <class Net>
std::vector<long double> course_feedforward(const Net& net, std::span<const typename Net::value_type> x,
                                            bool sigmoid_out = true) {
  std::vector<long double> a(x.begin(), x.end());
  for (std::size_t l = 0; l < Net::layer_count; ++l) {
    std::vector<long double> next(Net::sizes[l + 1]);
    for (std::size_t j = 0; j < next.size(); ++j) {
      long double z = net.bias(l, j);
      for (std::size_t k = 0; k < a.size(); ++k) z += static_cast<long double>(net.weight(l, j, k)) * a[k];
      next[j] = (sigmoid_out || l + 1 < Net::layer_count) ? 1.0L / (1.0L + std::exp(-z)) : z;
    }
    a = std::move(next);
  }
  return a;
}

}  // namespace

TEST_CASE("feedforward is the course's a ← σ(w·a + b), for 784-30-10 and odd shapes", "[network]") {
  nn::rng r(1);
  SECTION("784-30-10, float") {
    nn::network<784, 30, 10> net(17);
    std::vector<float> x(784);
    for (auto& v : x) v = static_cast<float>(r.uniform());
    const auto out = net.feedforward(x);
    const auto expect = course_feedforward(net, std::span<const float>(x));
    for (std::size_t j = 0; j < 10; ++j) REQUIRE(std::fabs(out[j] - expect[j]) < 1e-5);
  }
  SECTION("5-17-3-33-1, double") {
    nn::basic_network<nn::policies<double>, 5, 17, 3, 33, 1> net(4);
    std::array<double, 5> x{0.1, -0.5, 0.9, 2.0, -1.0};
    const auto out = net.feedforward(x);
    const auto expect = course_feedforward(net, std::span<const double>(x));
    REQUIRE(std::fabs(out[0] - expect[0]) < 1e-13);
  }
}

TEST_CASE("predict gives feedforward's result for every row", "[network]") {
  nn::rng r(3);
  // 130 rows: whole chunks of predict's scratch and a part chunk.
  const auto check = [&](const auto& net) {
    using Net = std::remove_cvref_t<decltype(net)>;
    nn::batch_matrix<float, Net::inputs> x(130);
    ref::fill(x, r);
    const auto out = net.predict(x);
    REQUIRE(out.rows() == 130);
    nn::batch_matrix<float, Net::outputs> into(130);
    net.predict(x, nn::matrix_ref<float, nn::dynamic, Net::outputs>(into.data(), into.rows()));
    for (std::size_t s = 0; s < 130; ++s) {
      const auto one = net.feedforward(x.row(s));
      for (std::size_t j = 0; j < Net::outputs; ++j) {
        REQUIRE(out(s, j) == one[j]);
        REQUIRE(into(s, j) == one[j]);
      }
    }
  };
  SECTION("one hidden layer") { check(nn::network<13, 9, 4>(2)); }
  SECTION("two hidden layers") { check(nn::network<13, 9, 21, 4>(2)); }
  SECTION("no hidden layer") { check(nn::network<13, 4>(2)); }
  SECTION("784-30-10") { check(nn::network<784, 30, 10>(2)); }
}

TEST_CASE("predict into storage with the wrong number of rows is a clear exception", "[network]") {
  nn::network<13, 9, 4> net(2);
  nn::batch_matrix<float, 13> x(5);
  nn::batch_matrix<float, 4> out(4);
  REQUIRE_THROWS_WITH(net.predict(x, nn::matrix_ref<float, nn::dynamic, 4>(out.data(), out.rows())),
                      "nn: predict: 5 rows of inputs but 4 rows for the outputs");
}

TEST_CASE("weights and biases: the course's indices, layout and bounds", "[network]") {
  using net_t = nn::network<3, 4, 2>;
  STATIC_REQUIRE(net_t::layer_count == 2);
  STATIC_REQUIRE(net_t::parameter_count == 3 * 4 + 4 + 4 * 2 + 2);
  net_t net;
  for (float v : net.parameters()) REQUIRE(v == 0.f);
  net.weight(0, 3, 2) = 1.5f;  // from input 2 to hidden neuron 3
  REQUIRE(net.weights<0>()(2, 3) == 1.5f);
  net.bias(1, 1) = -2.f;
  REQUIRE(net.biases<1>()[1] == -2.f);
  REQUIRE_THROWS_AS(net.weight(2, 0, 0), std::out_of_range);
  REQUIRE_THROWS_AS(net.weight(0, 4, 0), std::out_of_range);
  REQUIRE_THROWS_AS(net.weight(0, 0, 3), std::out_of_range);
  REQUIRE_THROWS_AS(net.bias(0, 4), std::out_of_range);

  // A perceptron built by hand from the course: NAND from weights -2, -2 and bias 3.
  nn::basic_network<nn::policies<float, nn::step>, 2, 1> nand;
  nand.weight(0, 0, 0) = -2;
  nand.weight(0, 0, 1) = -2;
  nand.bias(0, 0) = 3;
  REQUIRE(nand.feedforward(std::array<float, 2>{0, 0})[0] == 1);
  REQUIRE(nand.feedforward(std::array<float, 2>{0, 1})[0] == 1);
  REQUIRE(nand.feedforward(std::array<float, 2>{1, 0})[0] == 1);
  REQUIRE(nand.feedforward(std::array<float, 2>{1, 1})[0] == 0);
}

TEST_CASE("initialisers draw the course's N(0,1), N(0,1/fan_in) and He's N(0,2/fan_in)", "[network]") {
  auto stats = [](auto& net) {
    double s = 0, s2 = 0;
    std::size_t n = 0;
    for (std::size_t j = 0; j < 100; ++j)
      for (std::size_t k = 0; k < 784; ++k) {
        const double w = net.weight(0, j, k);
        s += w;
        s2 += w * w;
        ++n;
      }
    return std::pair{s / n, s2 / n};
  };
  nn::network<784, 100, 10> course(1);
  const auto [m1, v1] = stats(course);
  REQUIRE(std::fabs(m1) < 0.02);
  REQUIRE(std::fabs(v1 - 1.0) < 0.03);
  nn::network<784, 100, 10> scaled(1, nn::scaled_normal_init{});
  const auto [m2, v2] = stats(scaled);
  REQUIRE(std::fabs(m2) < 0.02 / 28);
  REQUIRE(std::fabs(v2 * 784 - 1.0) < 0.03);
  nn::network<784, 100, 10> he(1, nn::he_init{});
  const auto [m3, v3] = stats(he);
  REQUIRE(std::fabs(m3) < 0.02 / 20);
  REQUIRE(std::fabs(v3 * 784 / 2 - 1.0) < 0.03);
  for (std::size_t j = 0; j < 100; ++j) REQUIRE(he.bias(0, j) == 0.0f);
  for (float v : course.parameters()) REQUIRE(std::isfinite(v));

  nn::network<784, 100, 10> again(1), other(2);
  REQUIRE(course == again);
  REQUIRE(!(course == other));
}

TEST_CASE("padding of the parameters is zero after initialisation", "[network]") {
  nn::network<5, 3, 2> net(8);
  auto w = net.weights<0>();
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t o = 3; o < decltype(w)::stride; ++o) REQUIRE(w.row_data(i)[o] == 0.f);
}

TEST_CASE("a wrong input size at run time is a clear exception", "[network]") {
  nn::network<784, 30, 10> net(1);
  std::vector<float> x(783);
  try {
    (void)net.feedforward(x);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    REQUIRE(msg.find("783") != std::string::npos);
    REQUIRE(msg.find("784") != std::string::npos);
    // The model named by its layers.
    REQUIRE(msg.find("nn::sequential<input<784>, dense<30, sigmoid>, dense<10, sigmoid>>::feedforward") != std::string::npos);
  }
}

TEST_CASE("networks copy deeply", "[network]") {
  nn::network<2, 2> a(1);
  auto b = a;
  REQUIRE(a == b);
  b.weight(0, 0, 0) += 1.f;
  REQUIRE(!(a == b));
}

TEST_CASE("gradient() rejects a buffer of the wrong size or alignment", "[network]") {
  nn::network<3, 2> net(1);
  decltype(net)::workspace ws(2);
  nn::aligned_vector<float> good(decltype(net)::parameter_storage + 1);
  REQUIRE_NOTHROW(net.gradient(ws, nn::quadratic_cost{}, std::span<float>(good.data(), good.size() - 1)));
  REQUIRE_THROWS_AS(net.gradient(ws, nn::quadratic_cost{}, std::span<float>(good)), std::invalid_argument);
  REQUIRE_THROWS_WITH(net.gradient(ws, nn::quadratic_cost{}, std::span<float>(good.data() + 1, good.size() - 1)),
                      contains_text("not aligned"));
}
