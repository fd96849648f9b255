// Backpropagation against central finite differences, in double precision, for several shapes and for
// every activation and cost, through both the gradient path and the fused SGD update.
#include <nn/network.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "catch.hpp"
#include "reference.hpp"

namespace {

// Cross-entropy for sigmoid outputs, as a user would write it: C = −Σ [y ln a + (1−y) ln(1−a)],
// ∂C/∂z = (a − y)/(a(1 − a)) · σ'(z), written out in general form so it works with any activation.
struct test_cross_entropy {
  template <class V>
  V value(const V& a, const V& y) const {
    using S = nn::simd::scalar_of_t<V>;
    return -(y * nn::simd::log(a) + (V(S(1)) - y) * nn::simd::log(V(S(1)) - a));
  }
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const {
    using S = nn::simd::scalar_of_t<V>;
    return (a - y) / (a * (V(S(1)) - a)) * act.df(z, a);
  }
};

// Checks the mean gradient against (C(p+h) − C(p−h)) / 2h for every real parameter.
template <class Net, class Cost>
void check_gradient(std::uint64_t seed, const Cost& cost, double target_lo = 0.05, double target_hi = 0.95,
                    int target_rows = 0) {
  Net net(seed, nn::scaled_normal_init{});
  const std::size_t m = 3;
  typename Net::workspace ws(m);
  nn::rng r(seed + 100);
  ref::fill(ws.input(), r, -1, 1);
  ref::fill(ws.target(), r, target_lo, target_hi);
  // target_rows 1: each row a probability distribution, as softmax's cost needs; 2: one-hot rows.
  for (std::size_t s = 0; target_rows != 0 && s < m; ++s) {
    double total = 0;
    std::size_t best = 0;
    for (std::size_t o = 0; o < Net::outputs; ++o) {
      total += ws.target()(s, o);
      if (ws.target()(s, o) > ws.target()(s, best)) best = o;
    }
    for (std::size_t o = 0; o < Net::outputs; ++o)
      ws.target()(s, o) = target_rows == 1 ? ws.target()(s, o) / total : (o == best ? 1.0 : 0.0);
  }

  // NaN everywhere first: gradient() must write every entry, padding included (the trainer relies on it).
  nn::aligned_vector<double> grads(Net::parameter_storage, std::numeric_limits<double>::quiet_NaN());
  const double total = net.gradient(ws, cost, std::span<double>(grads));
  REQUIRE(total / m == Approx(ref::mean_cost(net, ws, cost)).epsilon(1e-12));

  const double h = 1e-6;
  double diff2 = 0, norm_bp = 0, norm_fd = 0;
  auto probe = [&](double& p, double bp) {
    const double saved = p;
    p = saved + h;
    const double up = ref::mean_cost(net, ws, cost);
    p = saved - h;
    const double down = ref::mean_cost(net, ws, cost);
    p = saved;
    const double fd = (up - down) / (2 * h);
    diff2 += (fd - bp) * (fd - bp);
    norm_bp += bp * bp;
    norm_fd += fd * fd;
  };
  auto params = net.parameters();
  for (std::size_t l = 0; l < Net::layer_count; ++l)
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j) {
      double& b = net.bias(l, j);
      probe(b, grads[static_cast<std::size_t>(&b - params.data())]);
      for (std::size_t k = 0; k < Net::sizes[l]; ++k) {
        double& w = net.weight(l, j, k);
        probe(w, grads[static_cast<std::size_t>(&w - params.data())]);
      }
    }
  const double rel = std::sqrt(diff2) / (std::sqrt(norm_bp) + std::sqrt(norm_fd) + 1e-300);
  INFO("relative error " << rel << ", gradient norm " << std::sqrt(norm_bp));
  REQUIRE(norm_bp > 0);
  REQUIRE(rel < 1e-6);

  // Padding never gets a gradient: every entry that is not a real weight or bias is exactly zero.
  std::vector<bool> is_real(grads.size(), false);
  for (std::size_t l = 0; l < Net::layer_count; ++l)
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j) {
      is_real[static_cast<std::size_t>(&net.bias(l, j) - params.data())] = true;
      for (std::size_t k = 0; k < Net::sizes[l]; ++k)
        is_real[static_cast<std::size_t>(&net.weight(l, j, k) - params.data())] = true;
    }
  std::size_t real = 0;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (is_real[i]) ++real;
    else REQUIRE(grads[i] == 0.0);
  }
  REQUIRE(real == Net::parameter_count);

  // The fused SGD step moves every parameter by −η·gradient.
  Net stepped = net;
  const double eta = 0.25;
  (void)stepped.sgd_step(ws, cost, eta);
  auto before = net.parameters();
  auto after = stepped.parameters();
  for (std::size_t i = 0; i < before.size(); ++i)
    REQUIRE(after[i] == Approx(before[i] - eta * grads[i]).margin(1e-14));
}

template <class Act, class Out = Act>
using dnet3 = nn::basic_network<nn::policies<double, Act, Out>, 4, 5, 3>;
template <class Act, class Out = Act>
using dnet4 = nn::basic_network<nn::policies<double, Act, Out>, 7, 11, 9, 2>;
template <class Act, class Out = Act>
using dnet_wide = nn::basic_network<nn::policies<double, Act, Out>, 33, 17, 10>;

}  // namespace

TEMPLATE_TEST_CASE("backprop matches finite differences with the quadratic cost", "[backprop]", nn::sigmoid, nn::tanh,
                   nn::identity, nn::relu) {
  const nn::quadratic_cost cost;
  check_gradient<dnet3<TestType>>(1, cost);
  check_gradient<dnet4<TestType>>(2, cost);
  check_gradient<dnet_wide<TestType>>(3, cost);
  check_gradient<nn::basic_network<nn::policies<double, TestType>, 6, 1>>(4, cost);
}

TEST_CASE("backprop with step hidden units: only the output layer gets a gradient", "[backprop]") {
  check_gradient<dnet3<nn::step, nn::sigmoid>>(5, nn::quadratic_cost{});
}

TEST_CASE("backprop matches finite differences with a user-written cost and the squared error", "[backprop]") {
  check_gradient<dnet3<nn::sigmoid>>(6, test_cross_entropy{});
  check_gradient<dnet4<nn::tanh, nn::sigmoid>>(7, test_cross_entropy{});
  check_gradient<dnet_wide<nn::relu, nn::sigmoid>>(8, test_cross_entropy{});
  check_gradient<dnet4<nn::tanh, nn::identity>>(11, nn::squared_error{}, -2, 2);
}

TEST_CASE("backprop with mixed hidden and output activations", "[backprop]") {
  check_gradient<dnet4<nn::relu, nn::identity>>(9, nn::quadratic_cost{}, -2, 2);
  check_gradient<dnet_wide<nn::sigmoid, nn::tanh>>(10, nn::quadratic_cost{}, -0.9, 0.9);
}

TEST_CASE("backprop matches finite differences with nn::cross_entropy", "[backprop]") {
  check_gradient<dnet3<nn::sigmoid>>(12, nn::cross_entropy{});
  check_gradient<dnet4<nn::relu, nn::sigmoid>>(13, nn::cross_entropy{});
  check_gradient<dnet_wide<nn::tanh, nn::sigmoid>>(14, nn::cross_entropy{}, 0, 1);
}

TEST_CASE("backprop matches finite differences with a softmax output and nn::log_likelihood", "[backprop]") {
  check_gradient<dnet3<nn::sigmoid, nn::softmax>>(15, nn::log_likelihood{}, 0.05, 0.95, 1);
  check_gradient<dnet4<nn::relu, nn::softmax>>(16, nn::log_likelihood{}, 0.05, 0.95, 1);
  check_gradient<dnet_wide<nn::tanh, nn::softmax>>(17, nn::log_likelihood{}, 0, 1, 1);
  // One-hot targets, the usual case.
  check_gradient<dnet_wide<nn::relu, nn::softmax>>(18, nn::log_likelihood{}, 0, 1, 2);
}

TEST_CASE("backprop matches finite differences with label smoothing", "[backprop]") {
  // The gradient a − y' is exact only when the smoothed targets sum to one: K must be the output width.
  check_gradient<dnet_wide<nn::relu, nn::softmax>>(19, nn::smoothed_log_likelihood<10>{0.1}, 0, 1, 2);
  check_gradient<dnet3<nn::tanh, nn::softmax>>(20, nn::smoothed_log_likelihood<3>{0.3}, 0.05, 0.95, 1);
  check_gradient<dnet_wide<nn::sigmoid, nn::softmax>>(21, nn::smoothed_log_likelihood<10>{1.0}, 0, 1, 2);
}

TEST_CASE("nn::smoothed_log_likelihood targets (1 − ε)y + ε/K, and with ε = 0 is nn::log_likelihood", "[backprop]") {
  const nn::softmax act;
  const nn::smoothed_log_likelihood<4> smooth{0.2};
  for (const double a : {1e-20, 0.01, 0.25, 0.9, 1.0})
    for (const double y : {0.0, 1.0, 0.4}) {
      const double target = 0.8 * y + 0.05;
      REQUIRE(smooth.delta(0.0, a, y, act) == Approx(a - target).margin(1e-15));
      REQUIRE(smooth.value(a, y) == Approx(-target * std::log(std::clamp(a, 1e-15, 1 - 1e-15))).margin(1e-14));
      for (const float af : {1e-20f, 0.3f, 1.0f}) {
        const float yf = static_cast<float>(y);
        REQUIRE(nn::smoothed_log_likelihood<10>{0.0}.value(af, yf) == nn::log_likelihood{}.value(af, yf));
        REQUIRE(nn::smoothed_log_likelihood<10>{0.0}.delta(0.0f, af, yf, act) == nn::log_likelihood{}.delta(0.0f, af, yf, act));
      }
    }
}

TEST_CASE("nn::cross_entropy's value and error equal the course's formulas", "[backprop]") {
  const nn::cross_entropy ce;
  const nn::sigmoid sig;
  for (const double z : {-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 30.0})
    for (const double y : {0.0, 0.3, 1.0}) {
      const double a = sig.f(z);
      const double p = std::min(std::max(a, 1e-15), 1 - 1e-15);
      REQUIRE(ce.value(a, y) == Approx(-(y * std::log(p) + (1 - y) * std::log(1 - p))));
      REQUIRE(ce.delta(z, a, y, sig) == a - y);
      // The same from the general formula (a − y)/(a(1 − a))·σ'(z), where a is not saturated.
      if (std::fabs(z) < 10) REQUIRE(test_cross_entropy{}.delta(z, a, y, sig) == Approx(a - y).margin(1e-12));
    }
  // Saturated and wrong: a finite cost, not ∞ (the clamp), and in float too.
  REQUIRE(std::isfinite(ce.value(1.0, 0.0)));
  REQUIRE(std::isfinite(ce.value(0.0f, 1.0f)));
  REQUIRE(ce.value(0.0f, 1.0f) == Approx(-std::log(1e-7f)));
  REQUIRE(std::isfinite(nn::log_likelihood{}.value(0.0f, 1.0f)));
}

namespace {

// Backprop with dropout against finite differences of the same step's cost: a fixed key fixes the masks,
// so the masked network is a fixed function of the parameters, and gradient() returns its cost.
template <class Net, class Cost>
void check_dropout_gradient(std::uint64_t seed, const Cost& cost, double rate) {
  Net net(seed, nn::scaled_normal_init{});
  const std::size_t m = 3;
  typename Net::workspace ws(m);
  nn::rng r(seed + 100);
  ref::fill(ws.input(), r, -1, 1);
  ref::fill(ws.target(), r, 0.05, 0.95);
  const nn::dropout d{rate, 0x1234 + seed};
  nn::aligned_vector<double> grads(Net::parameter_storage), scratch(Net::parameter_storage);
  (void)net.gradient(ws, cost, std::span<double>(grads), 0.0, d);
  const auto masked_cost = [&] { return net.gradient(ws, cost, std::span<double>(scratch), 0.0, d) / m; };
  const double h = 1e-6;
  double diff2 = 0, norm = 0;
  auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double saved = params[i];
    params[i] = saved + h;
    const double up = masked_cost();
    params[i] = saved - h;
    const double down = masked_cost();
    params[i] = saved;
    const double fd = (up - down) / (2 * h);
    diff2 += (fd - grads[i]) * (fd - grads[i]);
    norm += fd * fd;
  }
  INFO("relative error " << std::sqrt(diff2 / norm));
  REQUIRE(norm > 0);
  REQUIRE(std::sqrt(diff2 / norm) < 1e-6);
}

}  // namespace

TEST_CASE("backprop with dropout matches finite differences of the masked network", "[backprop][dropout]") {
  check_dropout_gradient<dnet4<nn::sigmoid>>(20, nn::quadratic_cost{}, 0.3);
  check_dropout_gradient<dnet4<nn::tanh, nn::sigmoid>>(21, nn::cross_entropy{}, 0.5);
  check_dropout_gradient<dnet_wide<nn::relu, nn::sigmoid>>(22, nn::quadratic_cost{}, 0.2);
}

TEST_CASE("dropout masks: the rate of dropped units, the 1/(1 - p) scale, no error through dropped units",
          "[backprop][dropout]") {
  using Net = nn::basic_network<nn::policies<double, nn::sigmoid>, 7, 200, 150, 3>;
  Net net(4, nn::scaled_normal_init{});
  const std::size_t m = 16;
  Net::workspace ws(m);
  nn::rng r(5);
  ref::fill(ws.input(), r, -1, 1);
  ref::fill(ws.target(), r, 0, 1);
  nn::aligned_vector<double> g0(Net::parameter_storage), g(Net::parameter_storage);
  const double plain = net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g0));
  // Rate 0 is no dropout, bit for bit.
  REQUIRE(net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g), 0.0, nn::dropout{0.0, 99}) == plain);
  REQUIRE(std::equal(g.begin(), g.end(), g0.begin()));

  const double p = 0.4;
  (void)net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g), 0.0, nn::dropout{p, 7});
  std::size_t dropped = 0, units = 0;
  const auto check_layer = [&](auto mask, auto a, auto out, auto delta, std::size_t n) {
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t j = 0; j < n; ++j) {
        ++units;
        if (mask(s, j) == 0) {
          ++dropped;
          REQUIRE(out(s, j) == 0);
          REQUIRE(delta(s, j) == 0);
        } else {
          REQUIRE(mask(s, j) == 1 / (1 - p));
          REQUIRE(out(s, j) == a(s, j) * (1 / (1 - p)));
        }
      }
  };
  // A dense layer keeps z, f(z) and the mask (nn::dense); its output, what the next layer reads, is
  // f(z) times the mask.
  check_layer(ws.kept<0>(0, m)[2], ws.kept<0>(0, m)[1], ws.a<1>(0, m), ws.delta<1>(0, m), 200);
  check_layer(ws.kept<1>(0, m)[2], ws.kept<1>(0, m)[1], ws.a<2>(0, m), ws.delta<2>(0, m), 150);
  // 5,600 units: the fraction dropped is within 4 standard deviations (0.026) of p.
  REQUIRE(std::fabs(static_cast<double>(dropped) / units - p) < 0.026);
  // Another key, other masks.
  nn::aligned_vector<double> g2(Net::parameter_storage);
  (void)net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g2), 0.0, nn::dropout{p, 8});
  REQUIRE(!std::equal(g.begin(), g.end(), g2.begin()));
  REQUIRE_THROWS_WITH(net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g2), 0.0, nn::dropout{1.0, 8}),
                      "nn: the dropout rate must be in [0, 1), not 1.000000");
}
