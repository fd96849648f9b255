// nn::batch_norm: its kernels (nn/simd/norm.hpp) against scalar twins at lengths that are not a multiple
// of the SIMD width; the layer against its definition (the batch's statistics in training, the running
// ones at inference, and how those move); gradients of whole networks against finite differences with
// the batch's statistics; training the same bits on 1 and 2 threads (a member with no rows included),
// learning, and files.
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "catch.hpp"
#include "conv_checks.hpp"

namespace {

// Tolerance for a sum of n terms of size `scale` rounded in T.
template <class T>
double sum_tolerance(std::size_t n, double scale) {
  return 4.0 * static_cast<double>(n) * scale * std::numeric_limits<T>::epsilon();
}

}  // namespace

TEMPLATE_TEST_CASE("batch_norm's kernels against their scalar twins", "[batch_norm]", float, double) {
  using T = TestType;
  constexpr std::size_t W = nn::simd::width<T>;
  nn::rng r(4);
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, W - 1, W, W + 1, 2 * W + 3, std::size_t{37}, std::size_t{784}}) {
    INFO("n = " << n);
    // One value in front, so the runs start off the alignment, as a channel's run does.
    std::vector<T> xs(n + 1), hs(n + 1), ys(n + 1), zs(n + 1), as(n + 1);
    for (std::size_t i = 0; i <= n; ++i) {
      xs[i] = static_cast<T>(4 * r.uniform() - 1);
      hs[i] = static_cast<T>(2 * r.uniform() - 1);
      zs[i] = static_cast<T>(4 * r.uniform() - 2);
      as[i] = nn::sigmoid{}.f(zs[i]);
    }
    const T *x = xs.data() + 1, *h = hs.data() + 1;
    double s = 0, q = 0, p = 0;
    for (std::size_t i = 0; i < n; ++i) {
      s += x[i];
      q += static_cast<double>(x[i]) * x[i];
      p += static_cast<double>(x[i]) * h[i];
    }
    const auto [ks, kq] = nn::simd::sum_products(x, x, n);
    CHECK(std::abs(ks - s) <= sum_tolerance<T>(n, 3));
    CHECK(std::abs(kq - q) <= sum_tolerance<T>(n, 9));
    const auto [ps, pp] = nn::simd::sum_products(x, h, n);
    CHECK(std::abs(ps - s) <= sum_tolerance<T>(n, 3));
    CHECK(std::abs(pp - p) <= sum_tolerance<T>(n, 3));

    const T a = T(1.5), b = T(-0.25), c = T(0.125);
    nn::simd::affine(x, a, b, ys.data() + 1, n);
    for (std::size_t i = 0; i < n; ++i) CHECK(ys[i + 1] == Approx(a * x[i] + b).epsilon(4 * std::numeric_limits<T>::epsilon()).margin(1e-6));
    CHECK(ys[0] == T(0));  // nothing written before the run
    nn::simd::affine2(x, h, a, b, c, ys.data() + 1, n);
    for (std::size_t i = 0; i < n; ++i)
      CHECK(ys[i + 1] == Approx(a * x[i] + b * h[i] + c).epsilon(8 * std::numeric_limits<T>::epsilon()).margin(1e-6));
    std::vector<T> g(hs);
    nn::simd::times_derivative_run(zs.data() + 1, as.data() + 1, g.data() + 1, n, nn::sigmoid{});
    for (std::size_t i = 1; i <= n; ++i) CHECK(g[i] == Approx(hs[i] * as[i] * (1 - as[i])).epsilon(8 * std::numeric_limits<T>::epsilon()));
    CHECK(g[0] == hs[0]);
  }
}

namespace {

// The definition, channel by channel of C with P values per sample: y = f(γ (x − μ) / √(σ² + ε) + β).
template <class Net, class Act>
void check_definition(Act act) {
  using B = typename Net::template layer_type<0>;
  constexpr std::size_t C = B::C, P = B::P, m = 6;
  Net net(1);
  nn::rng r(7);
  double* p = net.template layer_parameters<0>();
  for (std::size_t c = 0; c < C; ++c) {
    p[B::gamma + c] = 0.5 + r.uniform();
    p[B::beta + c] = r.uniform() - 0.5;
  }
  typename Net::workspace ws(m);
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < P; ++i) ws.input()(s, c * P + i) = 2.0 * static_cast<double>(c) + static_cast<double>(c + 1) * r.uniform();
  std::vector<double> mean(C), var(C);
  for (std::size_t c = 0; c < C; ++c) {
    double sum = 0, sq = 0;
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t i = 0; i < P; ++i) sum += ws.input()(s, c * P + i);
    mean[c] = sum / (m * P);
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t i = 0; i < P; ++i) sq += (ws.input()(s, c * P + i) - mean[c]) * (ws.input()(s, c * P + i) - mean[c]);
    var[c] = sq / (m * P);
  }
  net.template forward<true>(ws);
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < P; ++i) {
        const double x = ws.input()(s, c * P + i);
        const double want = act.f(p[B::gamma + c] * (x - mean[c]) / std::sqrt(var[c] + 1e-5) + p[B::beta + c]);
        REQUIRE(ws.output()(s, c * P + i) == Approx(want).epsilon(1e-12).margin(1e-12));
      }

  // Three steps that change nothing but the running statistics (η = 0): each moves them a tenth of the
  // way to the batch's mean and unbiased variance.
  for (int k = 0; k < 3; ++k) (void)net.sgd_step(ws, nn::quadratic_cost{}, 0.0);
  const double kept = 0.9 * 0.9 * 0.9, n = m * P;
  for (std::size_t c = 0; c < C; ++c) {
    REQUIRE(p[B::running_mean + c] == Approx((1 - kept) * mean[c]).epsilon(1e-12));
    REQUIRE(p[B::running_var + c] == Approx(kept + (1 - kept) * var[c] * n / (n - 1)).epsilon(1e-12));
  }
  // Inference uses them, whatever the batch.
  const auto out = net.predict(ws.input());
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < P; ++i) {
        const double x = ws.input()(s, c * P + i);
        const double want = act.f(p[B::gamma + c] * (x - p[B::running_mean + c]) / std::sqrt(p[B::running_var + c] + 1e-5) + p[B::beta + c]);
        REQUIRE(out(s, c * P + i) == Approx(want).epsilon(1e-12).margin(1e-12));
      }
}

}  // namespace

TEST_CASE("batch_norm against its definition: the batch's statistics in training, running statistics at inference", "[batch_norm]") {
  // 3 channels of 5 x 7 (35 values a channel, not a multiple of any SIMD width), with tanh.
  check_definition<nn::basic_sequential<double, nn::input<3, 5, 7>, nn::batch_norm<nn::tanh>>>(nn::tanh{});
  // A vector of 37 (each value its own channel), with no activation.
  check_definition<nn::basic_sequential<double, nn::input<37>, nn::batch_norm<>>>(nn::identity{});
  // 1 channel of 28 x 28.
  check_definition<nn::basic_sequential<double, nn::input<1, 28, 28>, nn::batch_norm<nn::relu>>>(nn::relu{});
}

TEST_CASE("batch_norm: gradients against finite differences, with the batch's statistics", "[batch_norm]") {
  using P = nn::padding;
  // After a 5 x 5 convolution of 1 channel of 28 x 28, before pooling; after a dense layer (a vector).
  test_data::check_gradient<nn::basic_sequential<double, nn::input<1, 28, 28>, nn::conv2d<3, 5, 5>, nn::batch_norm<nn::relu>,
                                                 nn::max_pool<2>, nn::flatten, nn::dense<7, nn::identity>,
                                                 nn::batch_norm<nn::sigmoid>, nn::dense<3, nn::softmax>>>(5, 29);
  // 3 channels of 27 x 27 normalized first, then 20 maps at stride 2 'same' and a 1 x 1 convolution.
  test_data::check_gradient<nn::basic_sequential<double, nn::input<3, 27, 27>, nn::batch_norm<>,
                                                 nn::conv2d<20, 3, 3, nn::identity, 2, P::same>, nn::batch_norm<nn::tanh>,
                                                 nn::conv2d<2, 1, 1>, nn::batch_norm<nn::tanh>, nn::dense<4, nn::softmax>>>(3, 7);
  // 20 channels, two samples; batch norm last, its activation seen by the cost.
  test_data::check_gradient<nn::basic_sequential<double, nn::input<20, 4, 3>, nn::batch_norm<nn::relu>, nn::dense<5>,
                                                 nn::batch_norm<nn::softmax>>>(2, 1);
}

TEST_CASE("a network with batch_norm learns bars' orientation, the same bits on 1 and 2 threads, and round-trips a file", "[batch_norm]") {
  using Net = nn::sequential<nn::input<1, 12, 12>, nn::conv2d<4, 3, 3>, nn::batch_norm<nn::relu>, nn::max_pool<2>,
                             nn::flatten, nn::dense<8>, nn::batch_norm<nn::relu>, nn::dense<2, nn::softmax>>;
  const auto train = test_data::bars(2000, 1), test = test_data::bars(500, 2);
  const Net start(5, nn::he_init{});
  const auto fit = [&](Net& net, auto optimizer, std::size_t threads, std::size_t batch) {
    nn::trainer<decltype(optimizer), nn::log_likelihood> t{optimizer};
    t.epochs = 2;
    t.batch_size = batch;
    t.threads = threads;
    t.on_epoch = nullptr;
    return t.fit(net, train, test);
  };
  // Plain SGD (the update fused into phase 2) and Adam (a gradient buffer), at a mini-batch that splits.
  Net sgd1 = start, sgd2 = start, adam1 = start, adam2 = start;
  const auto before = nn::evaluate(start, test);
  const auto h = fit(sgd1, nn::sgd{0.1}, 1, 40);
  (void)fit(sgd2, nn::sgd{0.1}, 2, 40);
  (void)fit(adam1, nn::adam{0.01}, 1, 33);
  const auto ha = fit(adam2, nn::adam{0.01}, 2, 33);
  INFO("before " << before << ", after " << h.back().correct << " (SGD), " << ha.back().correct << " (Adam)");
  REQUIRE(before < 350);
  REQUIRE(h.back().correct >= 490);  // of 500
  REQUIRE(ha.back().correct >= 490);
  REQUIRE(sgd1 == sgd2);
  REQUIRE(adam1 == adam2);
  // The running statistics moved.
  using B = Net::layer_type<1>;
  REQUIRE(sgd1.layer_parameters<1>()[B::running_mean] != 0.0f);
  REQUIRE(sgd1.layer_parameters<1>()[B::running_var] != 1.0f);

  const auto path = (std::filesystem::temp_directory_path() / "nn_batch_norm_test.nnp").string();
  nn::save_parameters(adam1, path);
  Net loaded;
  nn::load_parameters(loaded, path);
  REQUIRE(loaded == adam1);
  REQUIRE(nn::evaluate(loaded, test) == ha.back().correct);
  std::filesystem::remove(path);
}

TEST_CASE("batch_norm trains on 2 threads when a mini-batch leaves a thread no rows", "[batch_norm]") {
  // A mini-batch of 1 on 2 threads: the trainer keeps small batches on one thread, so the step is run
  // here on a team directly, one member with no rows (it still meets the others at every barrier).
  using Net = nn::basic_sequential<double, nn::input<2, 3, 3>, nn::batch_norm<nn::tanh>, nn::dense<2, nn::softmax>>;
  Net one(2), two(2);
  Net::workspace ws1(1), ws2(1);
  nn::rng r(3);
  for (std::size_t i = 0; i < Net::inputs; ++i) ws1.input()(0, i) = ws2.input()(0, i) = r.uniform();
  ws1.target()(0, 1) = ws2.target()(0, 1) = 1;
  nn::detail::aligned_buffer<double> g1, g2;
  nn::sgd opt{0.5};
  (void)nn::train_step(one, ws1, opt, nn::log_likelihood{}, g1);
  nn::detail::thread_team team(2);
  nn::team_member::failure failure;
  std::size_t rows[2] = {};
  team.run([&](std::size_t t) {
    nn::team_member ex(team, t, failure);
    rows[t] = ex.rows(1).count;
    (void)nn::train_step(two, ws2, 1, opt, nn::log_likelihood{}, g2, nn::step_settings<double>{}, ex,
                         [](std::size_t, std::size_t) {}, [] {});
  });
  REQUIRE(!failure.first);
  REQUIRE(rows[0] + rows[1] == 1);
  REQUIRE(rows[0] * rows[1] == 0);
  REQUIRE(one == two);
  REQUIRE(!(one == Net(2)));  // the step changed something
}
