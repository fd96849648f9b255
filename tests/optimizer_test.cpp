// Momentum, Nesterov and Adam against their formulas written out in long double; L2 weight decay
// against the course's rule, fused and not, on any number of threads; learning-rate schedules; and each
// optimizer learning data whose answer is known.
#include <nn/network.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <limits>
#include <vector>

#include "blobs.hpp"
#include "catch.hpp"

namespace {

// A gradient sequence over n parameters (not a multiple of the SIMD width: the scalar tails run too).
template <class T>
std::vector<std::vector<T>> gradients(std::size_t n, std::size_t steps) {
  nn::rng r(5);
  std::vector<std::vector<T>> g(steps, std::vector<T>(n));
  for (auto& s : g)
    for (auto& v : s) v = static_cast<T>(r.normal());
  return g;
}

template <class T>
std::vector<T> start(std::size_t n) {
  nn::rng r(6);
  std::vector<T> p(n);
  for (auto& v : p) v = static_cast<T>(r.normal());
  return p;
}

// Relative tolerance for a handful of steps of T arithmetic.
template <class T>
constexpr double tol = sizeof(T) == 4 ? 2e-6 : 1e-14;

// Aligned copies: optimizers get network parameters, which are aligned; the gradient spans may not be.
template <class T>
nn::aligned_vector<T> aligned(const std::vector<T>& v) {
  nn::aligned_vector<T> a(v.size());
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

}  // namespace

TEMPLATE_TEST_CASE("momentum and Nesterov follow v ← μv − ηg, w ← w + v (or w + μv − ηg)", "[optimizer]", float,
                   double) {
  using T = TestType;
  const std::size_t n = 37;
  const auto g = gradients<T>(n, 4);
  for (const bool nesterov : {false, true}) {
    INFO("nesterov " << nesterov);
    nn::momentum opt(0.05, 0.9, nesterov);
    auto p = aligned(start<T>(n));
    std::vector<long double> w(p.begin(), p.end()), v(n, 0);
    for (const auto& gs : g) {
      opt.step(std::span<T>(p), std::span<const T>(gs));
      for (std::size_t i = 0; i < n; ++i) {
        v[i] = 0.9L * v[i] - 0.05L * gs[i];
        w[i] += nesterov ? 0.9L * v[i] - 0.05L * gs[i] : v[i];
      }
    }
    for (std::size_t i = 0; i < n; ++i) REQUIRE(static_cast<double>(p[i]) == Approx(static_cast<double>(w[i])).epsilon(tol<T>).margin(tol<T>));
  }
}

TEMPLATE_TEST_CASE("Adam follows Kingma and Ba's update with bias correction", "[optimizer]", float, double) {
  using T = TestType;
  const std::size_t n = 37;
  const auto g = gradients<T>(n, 5);
  nn::adam opt(0.01);
  auto p = aligned(start<T>(n));
  std::vector<long double> w(p.begin(), p.end()), m(n, 0), v(n, 0);
  long double b1t = 1, b2t = 1;
  for (const auto& gs : g) {
    opt.step(std::span<T>(p), std::span<const T>(gs));
    b1t *= 0.9L;
    b2t *= 0.999L;
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = 0.9L * m[i] + 0.1L * gs[i];
      v[i] = 0.999L * v[i] + 0.001L * gs[i] * gs[i];
      w[i] -= 0.01L * (m[i] / (1 - b1t)) / (std::sqrt(v[i] / (1 - b2t)) + 1e-8L);
    }
  }
  REQUIRE(opt.steps() == 5);
  for (std::size_t i = 0; i < n; ++i) REQUIRE(static_cast<double>(p[i]) == Approx(static_cast<double>(w[i])).epsilon(tol<T>).margin(tol<T>));
  // The first step moves every parameter by about η against its gradient's sign (m̂/√v̂ = ±1).
  nn::adam fresh(0.01);
  auto q = aligned(start<T>(n));
  const auto q0 = q;
  fresh.step(std::span<T>(q), std::span<const T>(g[0]));
  for (std::size_t i = 0; i < n; ++i)
    REQUIRE(static_cast<double>(q[i] - q0[i]) == Approx(g[0][i] > 0 ? -0.01 : 0.01).epsilon(1e-4));
}

TEMPLATE_TEST_CASE("normalized_sgd moves every step by exactly ε against the gradient (η = ε/‖∇C‖)", "[optimizer]",
                   float, double) {
  using T = TestType;
  const std::size_t n = GENERATE(1, 2, 37, 1000);
  const auto g = gradients<T>(n, 3);
  const nn::normalized_sgd opt(0.05);
  auto p = aligned(start<T>(n));
  for (const auto& gs : g) {
    const auto before = p;
    opt.step(std::span<T>(p), std::span<const T>(gs));
    long double moved = 0, gnorm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      moved += (static_cast<long double>(p[i]) - before[i]) * (static_cast<long double>(p[i]) - before[i]);
      gnorm += static_cast<long double>(gs[i]) * gs[i];
    }
    gnorm = std::sqrt(gnorm);
    // Each coordinate moves by −ε·g_i/‖g‖ (plain gradient descent with η = ε/‖g‖), up to rounding.
    for (std::size_t i = 0; i < n; ++i)
      REQUIRE(static_cast<double>(p[i] - before[i]) ==
              Approx(static_cast<double>(-0.05L * gs[i] / gnorm)).epsilon(sizeof(T) == 4 ? 1e-3 : 1e-10).margin(tol<T>));
    REQUIRE(static_cast<double>(std::sqrt(moved)) == Approx(0.05).epsilon(sizeof(T) == 4 ? 1e-4 : 1e-12));
  }
  // Gradients of any size give the same move: a million times larger, or 2^-100 (squares underflow float).
  for (const long double factor : {1e6L, 0x1p-100L}) {
    std::vector<T> big(g[0].size());
    for (std::size_t i = 0; i < n; ++i) big[i] = static_cast<T>(g[0][i] * factor);
    auto a = aligned(start<T>(n)), b = aligned(start<T>(n));
    opt.step(std::span<T>(a), std::span<const T>(g[0]));
    opt.step(std::span<T>(b), std::span<const T>(big));
    for (std::size_t i = 0; i < n; ++i) REQUIRE(static_cast<double>(b[i]) == Approx(static_cast<double>(a[i])).epsilon(1e-4).margin(1e-6));
  }
  // A zero gradient (a stationary point) moves nothing; a NaN one makes the parameters NaN, not silently 0.
  auto q = aligned(start<T>(n));
  const auto q0 = q;
  const std::vector<T> zero(n, T(0));
  opt.step(std::span<T>(q), std::span<const T>(zero));
  REQUIRE(std::equal(q.begin(), q.end(), q0.begin()));
  std::vector<T> bad = g[0];
  bad[n / 2] = std::numeric_limits<T>::quiet_NaN();
  opt.step(std::span<T>(q), std::span<const T>(bad));
  REQUIRE(std::isnan(q[0]));
  // The same when zeros follow the NaN, as a network's padding follows its last bias.
  auto r = aligned(start<T>(n + 7));
  std::vector<T> padded(n + 7, T(0));
  padded[n - 1] = std::numeric_limits<T>::quiet_NaN();
  opt.step(std::span<T>(r), std::span<const T>(padded));
  REQUIRE(std::isnan(r[0]));
}

TEST_CASE("normalized_sgd trains a network through the trainer, and its ε is scheduled like a learning rate",
          "[optimizer]") {
  const auto train = test_data::blobs(2000, 1), test = test_data::blobs(500, 2);
  nn::basic_network<nn::policies<float, nn::sigmoid, nn::sigmoid>, 20, 15, 5> net(3, nn::scaled_normal_init{});
  nn::trainer<nn::normalized_sgd> t{nn::normalized_sgd{0.05}};
  t.epochs = 4;
  t.on_epoch = nullptr;
  t.schedule = nn::step_decay(2, 0.5);
  const auto history = t.fit(net, train, test);
  REQUIRE(history.back().correct > 475);
  REQUIRE(history[1].learning_rate == Approx(0.05));
  REQUIRE(history[2].learning_rate == Approx(0.025));
  REQUIRE(t.optimizer.learning_rate == 0.05);  // restored after fit
  REQUIRE_THROWS_WITH(nn::normalized_sgd(0), "nn::normalized_sgd: the step length epsilon must be positive");
}

TEST_CASE("optimizers reject bad settings", "[optimizer]") {
  REQUIRE_THROWS_WITH(nn::momentum(0.1, 1.0), "nn::momentum: mu must be in [0, 1)");
  REQUIRE_THROWS_WITH(nn::momentum(-1), "nn::momentum: the learning rate must be positive");
  REQUIRE_THROWS_WITH(nn::adam(0.01, 0.9, 1.0), "nn::adam: beta1 and beta2 must be in [0, 1)");
  REQUIRE_THROWS_WITH(nn::adam(0), "nn::adam: the learning rate must be positive");
}

TEST_CASE("L2 weight decay is the course's w ← (1 − ηλ/n)w − (η/m)Σ∇C, biases untouched", "[optimizer]") {
  using Net = nn::basic_network<nn::policies<double>, 5, 7, 3>;
  const std::size_t m = 4, n = 1000;
  const double eta = 0.5, lambda = 5.0;
  Net net(2);
  Net::workspace ws(m);
  nn::rng r(3);
  for (std::size_t s = 0; s < m; ++s) {
    for (std::size_t k = 0; k < 5; ++k) ws.input()(s, k) = r.uniform();
    for (std::size_t o = 0; o < 3; ++o) ws.target()(s, o) = r.uniform();
  }
  nn::aligned_vector<double> g(Net::parameter_storage);
  (void)net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g));
  nn::aligned_vector<double> g_l2(Net::parameter_storage);
  (void)net.gradient(ws, nn::quadratic_cost{}, std::span<double>(g_l2), lambda / n);
  Net fused = net;
  (void)fused.sgd_step(ws, nn::quadratic_cost{}, eta, lambda / n);
  const auto p0 = net.parameters(), p1 = fused.parameters();
  std::size_t weights = 0, biases = 0;
  for (std::size_t l = 0; l < 2; ++l)
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j) {
      const std::size_t bi = static_cast<std::size_t>(&net.bias(l, j) - p0.data());
      REQUIRE(g_l2[bi] == g[bi]);  // no decay of biases
      REQUIRE(p1[bi] == Approx(p0[bi] - eta * g[bi]).epsilon(1e-14));
      ++biases;
      for (std::size_t k = 0; k < Net::sizes[l]; ++k) {
        const std::size_t wi = static_cast<std::size_t>(&net.weight(l, j, k) - p0.data());
        REQUIRE(g_l2[wi] == Approx(g[wi] + lambda / n * p0[wi]).epsilon(1e-14));
        REQUIRE(p1[wi] == Approx((1 - eta * lambda / n) * p0[wi] - eta * g[wi]).epsilon(1e-13));
        ++weights;
      }
    }
  REQUIRE(weights == 5 * 7 + 7 * 3);
  REQUIRE(biases == 10);
}

namespace {

using test_data::blobs;

double sum_of_squared_weights(const nn::network<20, 15, 5>& net) {
  double s = 0;
  for (std::size_t l = 0; l < 2; ++l)
    for (std::size_t j = 0; j < net.sizes[l + 1]; ++j)
      for (std::size_t k = 0; k < net.sizes[l]; ++k) s += double(net.weight(l, j, k)) * net.weight(l, j, k);
  return s;
}

}  // namespace

TEST_CASE("weight decay trains the same on 1 and 2 threads, fused or not, and shrinks the weights", "[optimizer][threads]") {
  const auto train = blobs(640, 1);
  const auto run = [&](auto opt, std::size_t threads, double lambda) {
    nn::network<20, 15, 5> net(3);
    nn::trainer<decltype(opt)> t{opt};
    t.epochs = 2;
    t.batch_size = 64;
    t.threads = threads;
    t.weight_decay = lambda;
    t.on_epoch = nullptr;
    t.fit(net, train);
    return net;
  };
  const auto fused1 = run(nn::sgd{1.0}, 1, 50.0), fused2 = run(nn::sgd{1.0}, 2, 50.0);
  REQUIRE(fused1 == fused2);
  const auto mom1 = run(nn::momentum{0.3}, 1, 50.0), mom2 = run(nn::momentum{0.3}, 2, 50.0);
  REQUIRE(mom1 == mom2);
  REQUIRE(sum_of_squared_weights(fused1) < 0.8 * sum_of_squared_weights(run(nn::sgd{1.0}, 1, 0.0)));
  REQUIRE(sum_of_squared_weights(mom1) < 0.8 * sum_of_squared_weights(run(nn::momentum{0.3}, 1, 0.0)));
}

TEST_CASE("momentum, Nesterov and Adam learn data whose answer is known", "[optimizer]") {
  const auto train = blobs(2000, 1), test = blobs(500, 2);
  const auto accuracy = [&](auto opt) {
    nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 20, 15, 5> net(3, nn::scaled_normal_init{});
    nn::trainer<decltype(opt), nn::log_likelihood> t{opt};
    t.epochs = 3;
    t.on_epoch = nullptr;
    return t.fit(net, train, test).back().correct;
  };
  REQUIRE(accuracy(nn::momentum{0.02}) > 475);
  REQUIRE(accuracy(nn::momentum{0.02, 0.9, true}) > 475);
  REQUIRE(accuracy(nn::adam{0.003}) > 475);
}

TEST_CASE("learning-rate schedules: step and cosine factors, applied each epoch and restored", "[optimizer]") {
  const auto step = nn::step_decay(3, 0.5);
  REQUIRE(step(0) == 1);
  REQUIRE(step(2) == 1);
  REQUIRE(step(3) == 0.5);
  REQUIRE(step(7) == 0.25);
  const auto cosine = nn::cosine_decay(5, 0.1);
  REQUIRE(cosine(0) == 1);
  REQUIRE(cosine(2) == Approx(0.1 + 0.9 * 0.5));
  REQUIRE(cosine(4) == Approx(0.1));
  REQUIRE(cosine(9) == Approx(0.1));
  for (std::size_t e = 1; e < 5; ++e) REQUIRE(cosine(e) < cosine(e - 1));
  REQUIRE_THROWS(nn::step_decay(0, 0.5));
  REQUIRE_THROWS(nn::cosine_decay(10, 0));

  const auto train = blobs(200, 1);
  nn::network<20, 15, 5> net(3);
  nn::trainer<nn::momentum> t{nn::momentum{0.2}};
  t.epochs = 7;
  t.on_epoch = nullptr;
  t.schedule = step;
  const auto h = t.fit(net, train);
  REQUIRE(h[0].learning_rate == Approx(0.2));
  REQUIRE(h[3].learning_rate == Approx(0.1));
  REQUIRE(h[6].learning_rate == Approx(0.05));
  REQUIRE(t.optimizer.learning_rate == 0.2);  // restored
  t.schedule = [](std::size_t e) { return e == 2 ? 0.0 : 1.0; };
  REQUIRE_THROWS_WITH(t.fit(net, train), "nn::trainer: the learning-rate schedule gave 0.000000 for epoch 2; it must be a finite factor > 0");
  REQUIRE(t.optimizer.learning_rate == 0.2);  // restored after the exception too
}

// nn::callback, the type of the trainers' callbacks (nn/callback.hpp): what std::function would do with
// each thing users assign to them.
namespace {
double twice(std::size_t e) { return 2.0 * static_cast<double>(e); }
}  // namespace

TEST_CASE("nn::callback holds lambdas, functions and std::functions, copies them, and is empty when given none", "[optimizer]") {
  nn::callback<double(std::size_t)> c;
  REQUIRE_FALSE(c);
  REQUIRE(c == nullptr);
  REQUIRE_THROWS_AS(c(1), std::logic_error);
  c = twice;
  REQUIRE(c);
  REQUIRE(c(3) == 6.0);
  c = nullptr;
  REQUIRE_FALSE(c);
  double (*none)(std::size_t) = nullptr;
  c = none;
  REQUIRE_FALSE(c);
  c = std::function<double(std::size_t)>();
  REQUIRE_FALSE(c);
  c = std::function<double(std::size_t)>([](std::size_t e) { return e + 0.5; });
  REQUIRE(c(1) == 1.5);
  c = {};
  REQUIRE_FALSE(c);
  // A copy holds its own copy of the callable (its state is not shared), as std::function's does.
  int calls = 0;
  nn::callback<void(const nn::epoch_report&)> a = [n = 0, &calls](const nn::epoch_report&) mutable { calls = ++n; };
  a(nn::epoch_report{});
  auto b = a;
  b(nn::epoch_report{});
  REQUIRE(calls == 2);
  a(nn::epoch_report{});
  REQUIRE(calls == 2);  // a's own counter: 1 → 2
  b = a;
  b(nn::epoch_report{});
  REQUIRE(calls == 3);
  auto moved = std::move(b);
  REQUIRE(moved);
  // And the other way: a std::function made from a callback.
  const std::function<double(std::size_t)> f = nn::callback<double(std::size_t)>(twice);
  REQUIRE(f(4) == 8.0);
  // An empty callback of another signature gives an empty one; a full one, a full one.
  nn::callback<double(std::size_t)> from_float = nn::callback<float(std::size_t)>{};
  REQUIRE_FALSE(from_float);
  from_float = nn::callback<float(std::size_t)>([](std::size_t e) { return static_cast<float>(e) * 0.5f; });
  REQUIRE(from_float(3) == 1.5);
  // A pointer to a member is not taken (std::function would take it; a trainer never calls one).
  struct S {
    double f(std::size_t) const { return 0; }
  };
  STATIC_REQUIRE_FALSE(std::is_constructible_v<nn::callback<double(const S&, std::size_t)>, decltype(&S::f)>);
  STATIC_REQUIRE(std::is_constructible_v<nn::callback<double(std::size_t)>, double (*)(std::size_t)>);
}
