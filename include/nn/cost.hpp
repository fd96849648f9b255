// Cost functions: per-output policies. Contract (docs/policies.md, concept nn::cost):
//   value(a, y)           this output's share of one sample's cost C_x (nn sums it over the outputs);
//   delta(z, a, y, act)   ∂C_x/∂z for this output, where a = act.f(z) and y is the target.
// Like activations, both are templates over V (a scalar T or a SIMD batch of T).
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

#include "nn/activation.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

// With an element-wise activation, a cost gives value and delta on scalars and batches. With a row-wise
// one (nn::softmax), delta may not use the activation's derivative (there is none), so the cost must
// also declare `static constexpr bool row_wise_output = true` to say that its delta is exact without it.
template <class C, class T, class Act>
concept cost_for = std::default_initializable<C> &&
                   requires(const C& c, const Act& act, T v, simd::batch<T> b) {
                     { c.value(v, v) } -> std::same_as<T>;
                     { c.delta(v, v, v, act) } -> std::same_as<T>;
                     { c.value(b, b) } -> std::same_as<simd::batch<T>>;
                     { c.delta(b, b, b, act) } -> std::same_as<simd::batch<T>>;
                   } &&
                   (activation_for<Act, T> || (row_activation_for<Act, T> && requires {
                      requires C::row_wise_output;
                    }));

// A cost usable with any of nn's activations, in float and double (sigmoid outputs or softmax outputs).
template <class C>
concept cost = (cost_for<C, float, sigmoid> && cost_for<C, double, sigmoid>) ||
               (cost_for<C, float, softmax> && cost_for<C, double, softmax>);

namespace detail {
// The smallest probability a log is taken of: ln(1e-7) ≈ −16.1 in float (as Keras), ln(1e-15) in double.
template <class V>
V clamp_probability(const V& a) noexcept {
  using S = simd::scalar_of_t<V>;
  constexpr S eps = sizeof(S) == 4 ? S(1e-7) : S(1e-15);
  return simd::min(simd::max(a, simd::constant<V>(eps)), simd::constant<V>(S(1) - eps));
}
}  // namespace detail

// C = 1/(2n) Σ_x ‖y(x) − a‖²: per output ½(a − y)², and ∂C_x/∂z = (a − y)·σ'(z).
struct quadratic_cost {
  template <class V>
  V value(const V& a, const V& y) const noexcept {
    using S = simd::scalar_of_t<V>;
    const V d = a - y;
    return simd::constant<V>(S(0.5)) * d * d;
  }
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const noexcept {
    return (a - y) * act.df(z, a);
  }
};

// Squared error, the crash course's loss for linear regression: per output (a − y)², so the mean cost
// over samples is the MSE and its square root the RMSE; ∂C_x/∂z = 2(a − y)·f'(z).
struct squared_error {
  template <class V>
  V value(const V& a, const V& y) const noexcept {
    const V d = a - y;
    return d * d;
  }
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const noexcept {
    return simd::constant<V>(simd::scalar_of_t<V>(2)) * (a - y) * act.df(z, a);
  }
};

// Cross-entropy for outputs in (0, 1): per output −[y ln a + (1 − y) ln(1 − a)] (a clamped to
// [ε, 1 − ε], see detail::clamp_probability, so a saturated output costs at most −ln ε instead of ∞).
// With sigmoid outputs ∂C_x/∂z = a − y exactly: σ'(z) cancels, so a saturated wrong output still learns
// fast (the course's chapter 3). With another activation, (a − y)/(a(1 − a))·f'(z).
struct cross_entropy {
  template <class V>
  V value(const V& a, const V& y) const noexcept {
    using S = simd::scalar_of_t<V>;
    const V p = detail::clamp_probability(a), one = simd::constant<V>(S(1));
    return -(y * simd::log(p) + (one - y) * simd::log(one - p));
  }
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const noexcept {
    if constexpr (std::is_same_v<Act, sigmoid>) {
      return a - y;
    } else {
      using S = simd::scalar_of_t<V>;
      const V p = detail::clamp_probability(a);
      return (a - y) / (p * (simd::constant<V>(S(1)) - p)) * act.df(z, a);
    }
  }
};

// Log-likelihood for a softmax output layer: C_x = −ln a_y for a one-hot target y, written per output as
// −y_j ln a_j (a clamped below at ε), which is also the cross-entropy against any target distribution
// (rows of y summing to 1). ∂C_x/∂z_j = a_j − y_j, exact for softmax whatever y sums to one.
struct log_likelihood {
  static constexpr bool row_wise_output = true;
  template <class V>
  V value(const V& a, const V& y) const noexcept {
    return -(y * simd::log(detail::clamp_probability(a)));
  }
  template <class V, class Act>
  V delta(const V&, const V& a, const V& y, const Act&) const noexcept {
    static_assert(std::is_same_v<Act, softmax>,
                  "nn::log_likelihood is the cost of a softmax output layer (its error a − y assumes softmax); "
                  "for sigmoid outputs use nn::cross_entropy");
    return a - y;
  }
};

// Log-likelihood against smoothed labels (label smoothing, as Keras's CategoricalCrossentropy(label_smoothing=ε)
// and PyTorch's CrossEntropyLoss(label_smoothing=ε)): the target of each of the K outputs becomes
// y' = (1 − ε)·y + ε/K, so a one-hot label asks for 1 − ε + ε/K on its class and ε/K on the others, and
// the network is no longer pushed towards ever larger logits. C_x = −Σ_j y'_j ln a_j, and
// ∂C_x/∂z_j = a_j − y'_j, exact for softmax when the labels sum to one. K is the output layer's width,
// checked when the network forms the output error (a cost that declares `classes` must match it).
template <std::size_t K>
struct smoothed_log_likelihood {
  static_assert(K >= 2, "nn::smoothed_log_likelihood<K> spreads labels over K >= 2 classes");
  static constexpr bool row_wise_output = true;
  static constexpr std::size_t classes = K;
  double epsilon = 0.1;  // the share of each label spread evenly over the K classes, in [0, 1]

  template <class V>
  V value(const V& a, const V& y) const noexcept {
    return -(target(y) * simd::log(detail::clamp_probability(a)));
  }
  template <class V, class Act>
  V delta(const V&, const V& a, const V& y, const Act&) const noexcept {
    static_assert(std::is_same_v<Act, softmax>, "nn::smoothed_log_likelihood is the cost of a softmax output layer");
    return a - target(y);
  }

 private:
  template <class V>
  V target(const V& y) const noexcept {
    using S = simd::scalar_of_t<V>;
    return simd::constant<V>(S(1 - epsilon)) * y + simd::constant<V>(S(epsilon / double(K)));
  }
};

}  // namespace nn
