// Activation functions: element-wise policies. Contract (docs/policies.md, concept nn::activation):
//   f(z)      the activation of a weighted input z;
//   df(z, a)  its derivative at z, given also a = f(z) (sigmoid and tanh are cheaper from a).
// Both are templates over V, so one definition serves a plain scalar T and a SIMD batch of T;
// write them with the functions of nn::simd (exp, log, tanh, max, where, ...).
#pragma once

#include <concepts>
#include <string>

#include "nn/matrix.hpp"
#include "nn/simd/kernels.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

namespace detail {
// An activation's name (in files and messages): its static member `name` (nn's all have one), or "unnamed".
template <class A>
std::string activation_name() {
  if constexpr (requires { std::string(A::name); }) return std::string(A::name);
  else return "unnamed";
}
}  // namespace detail

template <class A, class T>
concept activation_for = std::default_initializable<A> && requires(const A& act, T z, simd::batch<T> zb) {
  { act.f(z) } -> std::same_as<T>;
  { act.df(z, z) } -> std::same_as<T>;
  { act.f(zb) } -> std::same_as<simd::batch<T>>;
  { act.df(zb, zb) } -> std::same_as<simd::batch<T>>;
};

// An activation usable with both float and double networks.
template <class A>
concept activation = activation_for<A, float> && activation_for<A, double>;

// A row-wise activation computes a whole layer's outputs together (softmax normalises over the row):
//   template <class T, std::size_t N> void rows(matrix_ref<const T, dynamic, N> z, matrix_ref<T, dynamic, N> a)
// writes a for every sample row of z (a may be z; padding must stay zero). It has no element-wise
// derivative, so it can only be an output layer, with a cost that gives ∂C/∂z itself (nn::log_likelihood).
template <class A, class T>
concept row_activation_for = std::default_initializable<A> &&
                             requires(const A& act, matrix_ref<const T, dynamic, 3> z, matrix_ref<T, dynamic, 3> a) {
                               act.template rows<T, 3>(z, a);
                             };

// What an output layer accepts: either kind.
template <class A, class T>
concept output_activation_for = activation_for<A, T> || row_activation_for<A, T>;

// σ(z) = 1 / (1 + e^(-z)); σ'(z) = σ(z)(1 − σ(z)). The course's neuron.
struct sigmoid {
  static constexpr const char* name = "sigmoid";
  template <class V>
  V f(const V& z) const noexcept {
    using S = simd::scalar_of_t<V>;
    return simd::constant<V>(S(1)) / (simd::constant<V>(S(1)) + simd::exp(-z));
  }
  template <class V>
  V df(const V&, const V& a) const noexcept {
    using S = simd::scalar_of_t<V>;
    return a * (simd::constant<V>(S(1)) - a);
  }
};

// The perceptron: 1 when z > 0, else 0. Its derivative is 0 wherever it exists, so gradient descent
// cannot train it; use the perceptron learning rule instead.
struct step {
  static constexpr const char* name = "step";
  template <class V>
  V f(const V& z) const noexcept {
    using S = simd::scalar_of_t<V>;
    return simd::where(z > simd::constant<V>(S(0)), simd::constant<V>(S(1)), simd::constant<V>(S(0)));
  }
  template <class V>
  V df(const V&, const V&) const noexcept {
    return simd::constant<V>(simd::scalar_of_t<V>(0));
  }
};

// f(z) = z: linear regression's neuron.
struct identity {
  static constexpr const char* name = "identity";
  template <class V>
  V f(const V& z) const noexcept { return z; }
  template <class V>
  V df(const V&, const V&) const noexcept {
    return simd::constant<V>(simd::scalar_of_t<V>(1));
  }
};

// tanh(z); derivative 1 − tanh²(z).
struct tanh {
  static constexpr const char* name = "tanh";
  template <class V>
  V f(const V& z) const noexcept { return simd::tanh(z); }
  template <class V>
  V df(const V&, const V& a) const noexcept {
    return simd::constant<V>(simd::scalar_of_t<V>(1)) - a * a;
  }
};

// softmax: a_j = e^(z_j) / Σ_k e^(z_k) over the output layer, a probability distribution (computed as
// e^(z_j − max z) / Σ_k e^(z_k − max z): no overflow for any finite z). Row-wise; pair it with
// nn::log_likelihood, whose error ∂C/∂z = a − y is exact for it.
struct softmax {
  static constexpr const char* name = "softmax";
  template <class T, std::size_t N>
  void rows(matrix_ref<const T, dynamic, N> z, matrix_ref<T, dynamic, N> a) const noexcept {
    simd::softmax_rows<T, N>(z, a);
  }
};

// max(0, z); derivative 1 for z > 0, else 0 (the value at 0 is a convention).
struct relu {
  static constexpr const char* name = "relu";
  template <class V>
  V f(const V& z) const noexcept { return simd::max(z, simd::constant<V>(simd::scalar_of_t<V>(0))); }
  template <class V>
  V df(const V& z, const V&) const noexcept {
    using S = simd::scalar_of_t<V>;
    return simd::where(z > simd::constant<V>(S(0)), simd::constant<V>(S(1)), simd::constant<V>(S(0)));
  }
};

}  // namespace nn
