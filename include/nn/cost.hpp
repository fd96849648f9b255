// Cost functions: per-output policies. Contract (docs/policies.md, concept nn::cost):
//   value(a, y)           this output's share of one sample's cost C_x (nn sums it over the outputs);
//   delta(z, a, y, act)   ∂C_x/∂z for this output, where a = act.f(z) and y is the target.
// Like activations, both are templates over V (a scalar T or a SIMD batch of T).
#pragma once

#include <concepts>

#include "nn/activation.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

template <class C, class T, class Act>
concept cost_for = activation_for<Act, T> && std::default_initializable<C> &&
                   requires(const C& c, const Act& act, T v, simd::batch<T> b) {
                     { c.value(v, v) } -> std::same_as<T>;
                     { c.delta(v, v, v, act) } -> std::same_as<T>;
                     { c.value(b, b) } -> std::same_as<simd::batch<T>>;
                     { c.delta(b, b, b, act) } -> std::same_as<simd::batch<T>>;
                   };

// A cost usable with any of nn's activations, in float and double.
template <class C>
concept cost = cost_for<C, float, sigmoid> && cost_for<C, double, sigmoid>;

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

}  // namespace nn
