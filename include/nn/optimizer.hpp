// Optimizers. Contract (docs/policies.md, concept nn::optimizer):
//   step(params, grads)   update every parameter given the mini-batch's mean gradient
//                         (both spans have the same layout: all weights and biases of the network).
// Optional, detected: on_epoch_end(epoch) is called after each epoch (for schedules).
// Optional, detected: fused_learning_rate() — an optimizer whose step is exactly
//   params -= fused_learning_rate() * grads may declare it; nn then applies the update inside the
//   gradient kernels (one pass over the weights instead of three) and never calls step().
#pragma once

#include <cmath>
#include <concepts>
#include <string>
#include <type_traits>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "nn/detail/aligned_buffer.hpp"
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
  // Its state for a checkpoint (trainer::checkpoint): none.
  template <class Archive>
  void checkpoint(Archive&) {}
};

// The course's step-size rule (chapter 1): every move has the same length ε in parameter space,
// Δv = −η∇C with η = ε/‖∇C‖, so ‖Δv‖ = ε whatever the gradient's size. ∇C is the mini-batch's mean
// gradient over all the network's parameters (one norm for the whole vector); at ∇C = 0 nothing moves.
// `learning_rate` is ε, so schedules shrink the step and divergence messages name it.
struct normalized_sgd {
  double learning_rate = 0.1;  // ε: the length of every step

  explicit normalized_sgd(double epsilon = 0.1) : learning_rate(epsilon) {
    if (!(epsilon > 0.0)) throw std::invalid_argument("nn::normalized_sgd: the step length epsilon must be positive");
  }
  template <class T>
  void step(std::span<T> params, std::span<const T> grads) const noexcept {
    const T norm = simd::l2_norm(grads);
    if (norm == T(0)) return;
    // A NaN gradient gives NaN parameters, which the trainer's divergence check reports.
    const long double c = static_cast<long double>(learning_rate) / static_cast<long double>(norm);
    if (c <= static_cast<long double>(std::numeric_limits<T>::max())) {
      simd::axpy(static_cast<T>(-c), grads, params);
    } else {  // a gradient so small that ε/‖∇C‖ overflows T: scale in long double
      for (std::size_t i = 0; i < params.size() && i < grads.size(); ++i)
        params[i] -= static_cast<T>(static_cast<long double>(grads[i]) * c);
    }
  }
  // Its state for a checkpoint (trainer::checkpoint): none.
  template <class Archive>
  void checkpoint(Archive&) {}
};

namespace detail {

// Optimizer state of the parameters' length, in whichever element type the network uses (an optimizer
// is not a template over T; a float network only ever touches the float buffers). Zero to start.
class state_buffers {
 public:
  template <class T>
  T* get(std::size_t slot, std::size_t n) {
    auto& v = buffers<T>();
    if (v.size() <= slot) v.resize(slot + 1);
    if (v[slot].size() != n) v[slot] = aligned_buffer<T>(n);
    return v[slot].data();
  }
  void clear() {
    f_.clear();
    d_.clear();
  }
  // Saved to or loaded from a checkpoint (nn/checkpoint.hpp: the same calls do both).
  template <class Archive>
  void checkpoint(Archive& a) {
    a(f_);
    a(d_);
  }

 private:
  template <class T>
  std::vector<aligned_buffer<T>>& buffers() {
    if constexpr (std::is_same_v<T, float>) return f_;
    else return d_;
  }
  std::vector<aligned_buffer<float>> f_;
  std::vector<aligned_buffer<double>> d_;
};

inline void check_rate(const char* who, double eta) {
  if (!(eta > 0.0)) throw std::invalid_argument(std::string(who) + ": the learning rate must be positive");
}

}  // namespace detail

// SGD with momentum (Polyak's heavy ball, the course's chapter 3): v ← μ·v − η·g, w ← w + v. With
// nesterov = true, the look-ahead form of Sutskever et al. (as Keras and PyTorch): w ← w + μ·v − η·g with
// the new v. v starts at 0. Padding stays 0 (its gradient is 0).
struct momentum {
  double learning_rate = 0.1;
  double mu = 0.9;
  bool nesterov = false;

  explicit momentum(double eta = 0.1, double mu_ = 0.9, bool nesterov_ = false)
      : learning_rate(eta), mu(mu_), nesterov(nesterov_) {
    detail::check_rate("nn::momentum", eta);
    if (!(mu_ >= 0.0 && mu_ < 1.0)) throw std::invalid_argument("nn::momentum: mu must be in [0, 1)");
  }
  template <class T>
  void step(std::span<T> params, std::span<const T> grads) {
    T* v = state_.get<T>(0, params.size());
    const simd::batch<T> m(static_cast<T>(mu)), neg_eta(static_cast<T>(-learning_rate));
    constexpr std::size_t W = simd::width<T>;
    std::size_t i = 0;
    for (; i + W <= params.size(); i += W) {
      const simd::batch<T> g = simd::batch<T>::load_unaligned(grads.data() + i);
      const simd::batch<T> nv = simd::fma(m, simd::batch<T>::load_aligned(v + i), neg_eta * g);
      nv.store_aligned(v + i);
      const simd::batch<T> p = simd::batch<T>::load_unaligned(params.data() + i);
      (nesterov ? p + simd::fma(m, nv, neg_eta * g) : p + nv).store_unaligned(params.data() + i);
    }
    for (; i < params.size(); ++i) {
      const T nv = static_cast<T>(mu) * v[i] + static_cast<T>(-learning_rate) * grads[i];
      v[i] = nv;
      params[i] += nesterov ? static_cast<T>(mu) * nv + static_cast<T>(-learning_rate) * grads[i] : nv;
    }
  }
  // Forget the velocity (a new training run).
  void reset() { state_.clear(); }
  // Its settings and state for a checkpoint (trainer::checkpoint): mu, nesterov, the velocity.
  template <class Archive>
  void checkpoint(Archive& a) {
    a.expect("momentum's mu", mu);
    a.expect("momentum's nesterov", nesterov);
    state_.checkpoint(a);
  }

 private:
  detail::state_buffers state_;
};

// Adam (Kingma & Ba 2015): m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², and with the bias-corrected
// m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t):  w ← w − η·m̂/(√v̂ + ε).  Keras's defaults.
struct adam {
  double learning_rate = 0.001;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;

  explicit adam(double eta = 0.001, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
      : learning_rate(eta), beta1(b1), beta2(b2), epsilon(eps) {
    detail::check_rate("nn::adam", eta);
    if (!(b1 >= 0.0 && b1 < 1.0 && b2 >= 0.0 && b2 < 1.0))
      throw std::invalid_argument("nn::adam: beta1 and beta2 must be in [0, 1)");
    if (!(eps > 0.0)) throw std::invalid_argument("nn::adam: epsilon must be positive");
  }
  template <class T>
  void step(std::span<T> params, std::span<const T> grads) {
    T* m = state_.get<T>(0, params.size());
    T* v = state_.get<T>(1, params.size());
    ++t_;
    // η·m̂/(√v̂ + ε) = a·m / (√v + e) with a = η/(1 − β1^t) and e = ε·√(1 − β2^t), times √(1 − β2^t).
    const double c2 = std::sqrt(1.0 - std::pow(beta2, static_cast<double>(t_)));
    const T a = static_cast<T>(learning_rate * c2 / (1.0 - std::pow(beta1, static_cast<double>(t_))));
    const T e = static_cast<T>(epsilon * c2), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    using B = simd::batch<T>;
    constexpr std::size_t W = simd::width<T>;
    std::size_t i = 0;
    for (; i + W <= params.size(); i += W) {
      const B g = B::load_unaligned(grads.data() + i);
      const B nm = simd::fma(B(b1), B::load_aligned(m + i), B(T(1) - b1) * g);
      const B nv = simd::fma(B(b2), B::load_aligned(v + i), B(T(1) - b2) * g * g);
      nm.store_aligned(m + i);
      nv.store_aligned(v + i);
      (B::load_unaligned(params.data() + i) - B(a) * nm / (xsimd::sqrt(nv) + B(e))).store_unaligned(params.data() + i);
    }
    for (; i < params.size(); ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * grads[i];
      v[i] = b2 * v[i] + (T(1) - b2) * grads[i] * grads[i];
      params[i] -= a * m[i] / (std::sqrt(v[i]) + e);
    }
  }
  // Steps taken (t in the formulas).
  std::size_t steps() const noexcept { return t_; }
  // Forget the moments and the step count (a new training run).
  void reset() {
    state_.clear();
    t_ = 0;
  }
  // Its settings and state for a checkpoint (trainer::checkpoint): the betas and epsilon, the step count
  // and both moments.
  template <class Archive>
  void checkpoint(Archive& a) {
    a.expect("adam's beta1", beta1);
    a.expect("adam's beta2", beta2);
    a.expect("adam's epsilon", epsilon);
    a(t_);
    state_.checkpoint(a);
  }

 private:
  detail::state_buffers state_;
  std::size_t t_ = 0;
};

namespace detail {
// An optimizer's learning_rate, for reports and messages (0 if it has none).
template <class O>
double learning_rate_of(const O& o) {
  if constexpr (requires { o.learning_rate; }) return static_cast<double>(o.learning_rate);
  else return 0.0;
}
}  // namespace detail

}  // namespace nn
