// Layers written outside nn, as a user writes them (docs/layers.md): one with parameters (a per-feature
// scale and shift) and one without (x²). Their gradients against finite differences inside a model with
// nn's dense layers, training that learns, and what the model guarantees a layer (its buffers, zero
// padding, any number of threads giving the same bits).
#include <nn/network.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "blobs.hpp"
#include "catch.hpp"
#include "reference.hpp"

namespace user {

// y_j = s_j · x_j + t_j, per feature. Parameters: s (a padded row), then t (a padded row). s starts at 1,
// t at 0, whatever the initializer.
struct scale_shift {
  static std::string text() { return "scale_shift"; }
  template <class T, class In>
  struct bind {
    using input_shape = In;
    using output_shape = In;
    using kept_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr std::size_t stride = nn::row_layout<T, n>::stride;
    static constexpr std::size_t parameter_count = 2 * n;
    static constexpr std::size_t parameter_storage = 2 * stride;
    static constexpr std::size_t kept_count = 0;

    template <class Init>
    static void initialize(T* p, nn::rng&, Init&, nn::init_pass pass) {
      for (std::size_t j = 0; j < n; ++j) (pass == nn::init_pass::weights ? p[j] : p[stride + j]) = T(pass == nn::init_pass::weights);
    }
    static void forward(const T* p, nn::rows_of<const T, In> x, nn::rows_of<T, In> y) {
      for (std::size_t r = 0; r < x.rows(); ++r)
        for (std::size_t j = 0; j < n; ++j) y(r, j) = p[j] * x(r, j) + p[stride + j];
    }
    static void forward_train(const T* p, nn::rows_of<const T, In> x, nn::rows_of<T, In> y, nn::kept_rows<T, In>,
                              const nn::train_context&) {
      forward(p, x, y);
    }
    template <class GI>
    static void backward(const T* p, nn::rows_of<const T, In>, nn::kept_rows<T, In>, const nn::train_context&,
                         nn::rows_of<T, In> g, nn::error_at, GI gi) {
      if constexpr (!std::is_null_pointer_v<GI>)
        for (std::size_t r = 0; r < g.rows(); ++r)
          for (std::size_t j = 0; j < n; ++j) gi(r, j) = p[j] * g(r, j);
    }
    template <bool Accumulate>
    static void gradient(const T*, nn::rows_of<const T, In> x, nn::rows_of<const T, In> g,
                         const nn::gradient_sink<T, Accumulate>& s) {
      if ((s.position - 1) % s.parts != s.part) return;  // one part does it all: it is small
      for (std::size_t j = 0; j < stride; ++j) {
        T ds(0), dt(0);
        for (std::size_t r = 0; j < n && r < x.rows(); ++r) {
          ds += g(r, j) * x(r, j);
          dt += g(r, j);
        }
        if constexpr (Accumulate) {
          s.target[j] += s.alpha * ds;
          s.target[stride + j] += s.alpha * dt;
        } else {
          s.target[j] = s.alpha * ds;
          s.target[stride + j] = s.alpha * dt;
        }
      }
    }
  };
};

// y = x², element-wise. No parameters; it keeps x for its derivative 2x.
struct square {
  static std::string text() { return "square"; }
  template <class T, class In>
  struct bind {
    using input_shape = In;
    using output_shape = In;
    using kept_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::size_t parameter_storage = 0;
    static constexpr std::size_t kept_count = 1;

    static void forward(const T*, nn::rows_of<const T, In> x, nn::rows_of<T, In> y) {
      for (std::size_t r = 0; r < x.rows(); ++r)
        for (std::size_t j = 0; j < n; ++j) y(r, j) = x(r, j) * x(r, j);
    }
    static void forward_train(const T* p, nn::rows_of<const T, In> x, nn::rows_of<T, In> y, nn::kept_rows<T, In> k,
                              const nn::train_context&) {
      forward(p, x, y);
      for (std::size_t r = 0; r < x.rows(); ++r)
        for (std::size_t j = 0; j < n; ++j) k[0](r, j) = x(r, j);
    }
    template <class GI>
    static void backward(const T*, nn::rows_of<const T, In>, nn::kept_rows<T, In> k, const nn::train_context&,
                         nn::rows_of<T, In> g, nn::error_at, GI gi) {
      if constexpr (!std::is_null_pointer_v<GI>)
        for (std::size_t r = 0; r < g.rows(); ++r)
          for (std::size_t j = 0; j < n; ++j) gi(r, j) = 2 * k[0](r, j) * g(r, j);
    }
    template <bool Accumulate>
    static void gradient(const T*, nn::rows_of<const T, In>, nn::rows_of<const T, In>, const nn::gradient_sink<T, Accumulate>&) {}
  };
};

}  // namespace user

TEST_CASE("layers written outside nn: gradients against finite differences", "[layer]") {
  // The user's layers first (the error at the samples is never asked of the first), between, and last.
  using Net = nn::basic_sequential<double, nn::input<6>, user::scale_shift, nn::dense<9, nn::tanh>, user::square,
                                   user::scale_shift, nn::dense<3, nn::sigmoid>, user::square>;
  static_assert(Net::parameter_count == 12 + 7 * 9 + 18 + 10 * 3);
  Net net(3, nn::scaled_normal_init{});
  // Move the user layers' parameters away from 1 and 0, so every term of the gradient shows.
  nn::rng r(4);
  const auto perturb = [&](double* p, std::size_t n, std::size_t stride) {
    for (std::size_t j = 0; j < n; ++j) {
      p[j] = 0.5 + r.uniform();
      p[stride + j] = r.uniform() - 0.5;
    }
  };
  perturb(net.layer_parameters<0>(), 6, Net::layer_type<0>::stride);
  perturb(net.layer_parameters<3>(), 9, Net::layer_type<3>::stride);
  const std::size_t m = 4;
  Net::workspace ws(m);
  for (std::size_t s = 0; s < m; ++s) {
    for (std::size_t i = 0; i < 6; ++i) ws.input()(s, i) = 2 * r.uniform() - 1;
    for (std::size_t o = 0; o < 3; ++o) ws.target()(s, o) = r.uniform() * 0.8;
  }
  const nn::quadratic_cost cost;
  nn::aligned_vector<double> grads(Net::parameter_storage, std::numeric_limits<double>::quiet_NaN());
  const double total = net.gradient(ws, cost, std::span<double>(grads));
  REQUIRE(total / m == Approx(ref::mean_cost(net, ws, cost)).epsilon(1e-12));
  // Every entry written, and the central difference of every one (padding's is 0).
  const double error = ref::finite_difference_error(net, ws, cost, std::span<const double>(grads));
  INFO("relative error " << error);
  REQUIRE(error < 1e-6);  // false for NaN
  // The user layer's own parameters have gradients: the scale of the first layer's inputs.
  REQUIRE(grads[0] != 0.0);
}

TEST_CASE("layers written outside nn: a network with them learns, the same on any number of threads", "[layer]") {
  using Net = nn::sequential<nn::input<20>, user::scale_shift, nn::dense<16, nn::tanh>, user::square,
                             nn::dense<5, nn::softmax>>;
  const auto train = test_data::blobs(2000, 1), test = test_data::blobs(500, 2);
  Net one(5, nn::scaled_normal_init{}), two = one;
  const auto fit = [&](Net& net, std::size_t threads) {
    nn::trainer<nn::adam, nn::log_likelihood> t{nn::adam{0.01}};  // a new one: Adam keeps state
    t.epochs = 5;
    t.batch_size = 64;
    t.threads = threads;
    t.on_epoch = nullptr;
    return t.fit(net, train, test);
  };
  const auto h1 = fit(one, 1);
  const auto h2 = fit(two, 2);
  REQUIRE(h1.back().correct > 480);  // of 500: the blobs are well apart
  REQUIRE(h1.front().mean_cost > 2 * h1.back().mean_cost);
  REQUIRE(h2.back().threads == 2);
  REQUIRE(one == two);
  // The trained scale moved from 1.
  REQUIRE(one.layer_parameters<0>()[0] != 1.0f);
}

TEST_CASE("a model names its layers in its messages", "[layer]") {
  using Net = nn::sequential<nn::input<3>, user::square, nn::dense<2, nn::relu>>;
  REQUIRE(Net::name() == "nn::sequential<input<3>, square, dense<2, relu>>");
  Net net;
  REQUIRE_THROWS_WITH(net.feedforward(std::vector<float>(4)),
                      "nn::sequential<input<3>, square, dense<2, relu>>::feedforward: the sample has inputs of 4 values, "
                      "but the network has 3 inputs");
}
