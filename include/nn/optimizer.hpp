// Optimizers. Contract (docs/policies.md, concept nn::optimizer):
//   step(params, grads)   update every parameter given the mini-batch's mean gradient
//                         (both spans have the same layout: all weights and biases of the network).
// Optional, detected: on_epoch_end(epoch) is called after each epoch (for schedules).
// Optional, detected: fused_learning_rate() — an optimizer whose step is exactly
//   params -= fused_learning_rate() * grads may declare it; nn then applies the update inside the
//   gradient kernels (one pass over the weights instead of three) and never calls step().
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "nn/simd/kernels.hpp"

namespace nn {

template <class O, class T>
concept optimizer_for = requires(O& o, std::span<T> p, std::span<const T> g) { o.step(p, g); };

template <class O>
concept optimizer = optimizer_for<O, float> && optimizer_for<O, double>;

template <class O>
concept has_fused_learning_rate = requires(const O& o) {
  { o.fused_learning_rate() } -> std::convertible_to<double>;
};

template <class O>
concept has_on_epoch_end = requires(O& o, std::size_t e) { o.on_epoch_end(e); };

// Mini-batch stochastic gradient descent: w ← w − η·(1/m)Σ_x ∂C_x/∂w, b likewise.
struct sgd {
  double learning_rate = 3.0;

  explicit sgd(double eta = 3.0) : learning_rate(eta) {
    if (!(eta > 0.0)) throw std::invalid_argument("nn::sgd: the learning rate must be positive");
  }
  template <class T>
  void step(std::span<T> params, std::span<const T> grads) const noexcept {
    simd::axpy(static_cast<T>(-learning_rate), grads, params);
  }
  double fused_learning_rate() const noexcept { return learning_rate; }
};

}  // namespace nn
