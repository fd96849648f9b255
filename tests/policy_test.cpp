// User-written policies plug in with one small class each and no change to nn.
#include <nn/network.hpp>

#include <cmath>
#include <span>

#include "catch.hpp"

namespace user {

// softplus(z) = ln(1 + e^z); its derivative is the sigmoid. Written only with nn::simd's functions,
// so it works for scalars and SIMD batches alike.
struct softplus {
  template <class V>
  V f(const V& z) const {
    using S = nn::simd::scalar_of_t<V>;
    // ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|): no overflow for large z.
    return nn::simd::max(z, V(S(0))) + nn::simd::log(V(S(1)) + nn::simd::exp(-nn::simd::abs(z)));
  }
  template <class V>
  V df(const V& z, const V&) const {
    using S = nn::simd::scalar_of_t<V>;
    return V(S(1)) / (V(S(1)) + nn::simd::exp(-z));
  }
};

// A cost of the user's own: half the squared error, weighted by 2 (so every gradient doubles).
struct double_quadratic {
  template <class V>
  V value(const V& a, const V& y) const {
    return (a - y) * (a - y);
  }
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const {
    using S = nn::simd::scalar_of_t<V>;
    return V(S(2)) * (a - y) * act.df(z, a);
  }
};

// A non-fused optimizer: plain SGD written out, counting its calls.
struct counting_sgd {
  double learning_rate = 0.5;
  int steps = 0;
  int epochs_ended = 0;
  template <class T>
  void step(std::span<T> p, std::span<const T> g) {
    ++steps;
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= static_cast<T>(learning_rate) * g[i];
  }
  void on_epoch_end(std::size_t) { ++epochs_ended; }
};

struct not_an_activation {
  float f(float z) const { return z; }
};

}  // namespace user

TEST_CASE("nn's own policies satisfy their concepts", "[policy]") {
  STATIC_REQUIRE(nn::activation<nn::sigmoid>);
  STATIC_REQUIRE(nn::activation<nn::step>);
  STATIC_REQUIRE(nn::activation<nn::identity>);
  STATIC_REQUIRE(nn::activation<nn::tanh>);
  STATIC_REQUIRE(nn::activation<nn::relu>);
  STATIC_REQUIRE(nn::cost<nn::quadratic_cost>);
  STATIC_REQUIRE(nn::cost<nn::cross_entropy>);
  STATIC_REQUIRE(nn::cost<nn::log_likelihood>);
  STATIC_REQUIRE(nn::cost<nn::smoothed_log_likelihood<10>>);
  STATIC_REQUIRE(nn::row_activation_for<nn::softmax, float>);
  STATIC_REQUIRE(nn::output_activation_for<nn::softmax, double>);
  STATIC_REQUIRE(!nn::activation<nn::softmax>);  // no element-wise form: only an output layer
  STATIC_REQUIRE(nn::cost_for<nn::log_likelihood, float, nn::softmax>);
  STATIC_REQUIRE(!nn::cost_for<nn::quadratic_cost, float, nn::softmax>);  // would need softmax's Jacobian
  STATIC_REQUIRE(!nn::cost_for<nn::cross_entropy, double, nn::softmax>);
  STATIC_REQUIRE(nn::initializer<nn::normal_init>);
  STATIC_REQUIRE(nn::initializer<nn::scaled_normal_init>);
  STATIC_REQUIRE(nn::optimizer<nn::sgd>);
  STATIC_REQUIRE(nn::has_fused_learning_rate<nn::sgd>);
}

TEST_CASE("user-written policies satisfy the concepts, malformed ones do not", "[policy]") {
  STATIC_REQUIRE(nn::activation<user::softplus>);
  STATIC_REQUIRE(nn::cost<user::double_quadratic>);
  STATIC_REQUIRE(nn::optimizer<user::counting_sgd>);
  STATIC_REQUIRE(!nn::has_fused_learning_rate<user::counting_sgd>);
  STATIC_REQUIRE(nn::has_on_epoch_end<user::counting_sgd>);
  STATIC_REQUIRE(!nn::activation<user::not_an_activation>);
  STATIC_REQUIRE(!nn::cost<nn::sigmoid>);
}

TEST_CASE("a softplus network trained with a user cost and optimizer learns a linear target", "[policy]") {
  // y = 0.3 + 0.2·x0 − 0.1·x1 is reachable by a softplus hidden layer and identity output.
  nn::basic_network<nn::policies<double, user::softplus, nn::identity>, 2, 8, 1> net(3, nn::scaled_normal_init{});
  nn::dataset<double, 2, 1> d;
  nn::rng r(9);
  for (int i = 0; i < 200; ++i) {
    const double x0 = r.uniform(), x1 = r.uniform();
    d.add({x0, x1}, {0.3 + 0.2 * x0 - 0.1 * x1});
  }
  nn::trainer<user::counting_sgd, user::double_quadratic> t{user::counting_sgd{0.05}};
  t.epochs = 200;
  t.batch_size = 10;
  t.on_epoch = nullptr;
  const auto history = t.fit(net, d);
  REQUIRE(t.optimizer.steps == 200 * 20);
  REQUIRE(t.optimizer.epochs_ended == 200);
  REQUIRE(history.back().mean_cost < 1e-4);
  REQUIRE(history.back().mean_cost < history.front().mean_cost / 10);
  const auto out = net.feedforward(std::array<double, 2>{0.5, 0.5});
  REQUIRE(out[0] == Approx(0.35).margin(0.02));
}

TEST_CASE("softplus is stable for large inputs and matches its formula", "[policy]") {
  user::softplus s;
  REQUIRE(s.f(1000.0) == Approx(1000.0));
  REQUIRE(s.f(-1000.0) == Approx(0.0).margin(1e-300));
  REQUIRE(s.f(0.3) == Approx(std::log1p(std::exp(0.3))));
  const auto b = s.f(nn::simd::batch<double>(0.3));
  alignas(nn::simd::alignment) double out[nn::simd::width<double>];
  b.store_aligned(out);
  REQUIRE(out[0] == Approx(std::log1p(std::exp(0.3))));
}
