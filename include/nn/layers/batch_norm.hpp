// nn::batch_norm<Activation>: batch normalisation (Ioffe and Szegedy 2015), then the activation:
//   y = f(γ · (x − μ) / √(σ² + ε) + β)   per channel
// with μ and σ² the mean and (biased) variance of the channel over the mini-batch while training, and the
// running statistics at inference, as PyTorch's BatchNorm1d/2d and ONNX's BatchNormalization. Channels:
// the first dimension of channels × height × width (each channel over every sample and pixel), or every
// value of a vector (after a dense layer). Put it after a convolution or dense layer without activation:
//
//   nn::conv2d<32, 3, 3, nn::identity, 1, nn::padding::same>, nn::batch_norm<nn::relu>, nn::max_pool<2>
//
// Parameters, per channel: γ (1 at the start), β (0), then the running mean (0) and variance (1), which
// have no gradient: after each step they move a tenth of the way (momentum 0.1) to the batch's mean and
// unbiased variance. All four are in the network's parameters and files (ONNX's scale, B, mean, var);
// L2 decay does not apply to them. Dropout does not apply to it.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include "nn/activation.hpp"
#include "nn/layer.hpp"
#include "nn/simd/kernels.hpp"
#include "nn/simd/norm.hpp"

namespace nn {

template <class Activation = identity>
struct batch_norm {
  using activation = Activation;
  static constexpr double momentum = 0.1, epsilon = 1e-5;

  static std::string text() {
    if constexpr (std::is_same_v<Activation, identity>) return "batch_norm";
    else return "batch_norm<" + detail::activation_name<Activation>() + '>';
  }

  template <class T, class In>
  struct bind {
    static constexpr std::size_t C = In::rank == 1 ? In::size : In::dims[0];  // channels
    static constexpr std::size_t P = In::size / C;                            // values of a channel per sample
    using value_type = T;
    using input_shape = In;
    using output_shape = In;
    using kept_shape = In;
    using activation = Activation;
    static constexpr std::size_t parameter_count = 4 * C, parameter_storage = 4 * C;
    static constexpr std::size_t gamma = 0, beta = C, running_mean = 2 * C, running_var = 3 * C;  // offsets
    static constexpr std::size_t kept_count = 2;  // k[0] = the normalized x̂, k[1] = z = γ·x̂ + β
    // Per pass: forward Σx and Σx² of each channel, backward Σg and Σg·x̂.
    static constexpr std::size_t statistics_count = 2 * C;
    static constexpr const char* kind = "batch_norm";

    template <class Init>
    static void initialize(T* p, rng&, Init&, init_pass pass) noexcept {
      if (pass != init_pass::biases) return;
      for (std::size_t c = 0; c < C; ++c) {
        p[gamma + c] = T(1);
        p[beta + c] = T(0);
        p[running_mean + c] = T(0);
        p[running_var + c] = T(1);
      }
    }

    // Channel c's {mean, 1/√(variance + ε)} from the forward pass's sums over n values.
    static std::pair<double, double> moments(const double* sums, std::size_t c, double n) noexcept {
      const double mean = sums[c] / n;
      const double variance = std::max(sums[C + c] / n - mean * mean, 0.0);
      return {mean, 1 / std::sqrt(variance + epsilon)};
    }
    static std::pair<std::size_t, std::size_t> channels(std::size_t part, std::size_t parts) noexcept {
      return {C * part / parts, C * (part + 1) / parts};
    }

    static void forward(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y) noexcept {
      for (std::size_t c = 0; c < C; ++c) {
        const T a = static_cast<T>(p[gamma + c] / std::sqrt(static_cast<double>(p[running_var + c]) + epsilon));
        const T b = p[beta + c] - p[running_mean + c] * a;
        for (std::size_t r = 0; r < x.rows(); ++r) simd::affine(x.row_data(r) + c * P, a, b, y.row_data(r) + c * P, P);
      }
      simd::activate<T, In::size>(rows_of<const T, output_shape>(y), y, Activation{});
    }

    static void forward_statistics(const T*, rows_of<const T, In> x, double* sums, std::size_t part, std::size_t parts) noexcept {
      const auto [first, last] = channels(part, parts);
      for (std::size_t c = first; c < last; ++c) {
        double s = 0, q = 0;
        for (std::size_t r = 0; r < x.rows(); ++r) {
          const T* run = x.row_data(r) + c * P;
          const auto [rs, rq] = simd::sum_products(run, run, P);
          s += rs;
          q += rq;
        }
        sums[c] = s;
        sums[C + c] = q;
      }
    }

    static void forward_train(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y, kept_rows<T, kept_shape> k,
                              const train_context& ctx) noexcept {
      const double n = static_cast<double>(ctx.batch_rows * P);
      for (std::size_t c = 0; c < C; ++c) {
        const auto [mean, inv] = moments(ctx.batch, c, n);
        const T a = static_cast<T>(inv), b = static_cast<T>(-mean * inv);
        for (std::size_t r = 0; r < x.rows(); ++r) {
          T* xh = k[0].row_data(r) + c * P;
          simd::affine(x.row_data(r) + c * P, a, b, xh, P);
          simd::affine(xh, p[gamma + c], p[beta + c], k[1].row_data(r) + c * P, P);
        }
      }
      simd::activate<T, In::size>(rows_of<const T, output_shape>(k[1]), y, Activation{});
    }

    // Over the rows given (all of the mini-batch's, or a member's own), this part's channels: g becomes
    // the error at z, and its sums.
    static void backward_statistics(const T*, rows_of<const T, output_shape> y, kept_rows<T, kept_shape> k,
                                    rows_of<T, output_shape> g, error_at at, double* sums, std::size_t part,
                                    std::size_t parts) noexcept {
      const auto [first, last] = channels(part, parts);
      for (std::size_t c = first; c < last; ++c) {
        double s = 0, q = 0;
        for (std::size_t r = 0; r < g.rows(); ++r) {
          T* gr = g.row_data(r) + c * P;
          if constexpr (activation_for<Activation, T> && !std::is_same_v<Activation, identity>)
            if (at == error_at::output) simd::times_derivative_run(k[1].row_data(r) + c * P, y.row_data(r) + c * P, gr, P, Activation{});
          const auto [rs, rq] = simd::sum_products(gr, k[0].row_data(r) + c * P, P);
          s += rs;
          q += rq;
        }
        sums[c] = s;
        sums[C + c] = q;
      }
    }

    // The error at the input: γ/σ · (g − mean(g) − x̂ · mean(g·x̂)), the means over the channel's values.
    template <class GI>
    static void backward(const T* p, rows_of<const T, output_shape>, kept_rows<T, kept_shape> k, const train_context& ctx,
                         rows_of<T, output_shape> g, error_at, GI gi) noexcept {
      if constexpr (!std::is_null_pointer_v<GI>) {
        const double n = static_cast<double>(ctx.batch_rows * P);
        const double* back = ctx.batch + statistics_count;
        for (std::size_t c = 0; c < C; ++c) {
          const double coef = p[gamma + c] * moments(ctx.batch, c, n).second;
          const T a = static_cast<T>(coef), b = static_cast<T>(-coef * back[C + c] / n), d = static_cast<T>(-coef * back[c] / n);
          for (std::size_t r = 0; r < g.rows(); ++r)
            simd::affine2(g.row_data(r) + c * P, k[0].row_data(r) + c * P, a, b, d, gi.row_data(r) + c * P, P);
        }
      }
    }

    static rows_of<const T, output_shape> pre_activation(kept_rows<T, kept_shape> k) noexcept { return k[1]; }

    // γ's gradient Σ g·x̂ and β's Σ g over the rows given, for this part's channels; none for the running
    // statistics.
    template <bool Accumulate>
    static void gradient(const T*, rows_of<const T, In> x, rows_of<const T, output_shape> g,
                         const gradient_sink<T, Accumulate>& s) noexcept {
      const auto [first, last] = channels(s.part, s.parts);
      const double n = static_cast<double>(s.batch_rows * P);
      for (std::size_t c = first; c < last; ++c) {
        double sg = 0, sgx = 0;
        for (std::size_t r = 0; r < g.rows(); ++r) {
          const auto [a, b] = simd::sum_products(g.row_data(r) + c * P, x.row_data(r) + c * P, P);
          sg += a;
          sgx += b;
        }
        const auto [mean, inv] = moments(s.batch, c, n);
        const T dgamma = static_cast<T>(inv * (sgx - mean * sg)), dbeta = static_cast<T>(sg);
        if constexpr (Accumulate) {
          s.target[gamma + c] += s.alpha * dgamma;
          s.target[beta + c] += s.alpha * dbeta;
        } else {
          s.target[gamma + c] = s.alpha * dgamma;
          s.target[beta + c] = s.alpha * dbeta;
          s.target[running_mean + c] = T(0);
          s.target[running_var + c] = T(0);
        }
      }
    }

    // After the step: the running statistics move `momentum` of the way to this batch's.
    static void update_state(T* p, const double* batch, std::size_t rows) noexcept {
      const double n = static_cast<double>(rows * P);
      for (std::size_t c = 0; c < C; ++c) {
        const double mean = batch[c] / n;
        const double variance = std::max(batch[C + c] / n - mean * mean, 0.0) * (n > 1 ? n / (n - 1) : 1.0);
        p[running_mean + c] = static_cast<T>((1 - momentum) * p[running_mean + c] + momentum * mean);
        p[running_var + c] = static_cast<T>((1 - momentum) * p[running_var + c] + momentum * variance);
      }
    }
  };
};

}  // namespace nn
