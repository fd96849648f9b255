// nn's umbrella header, and the course's network type: nn::network<784, 30, 10>, fully connected layers
// whose sizes are template arguments, a model (nn/model.hpp) of nn::dense layers (nn/layers/dense.hpp).
// Where a training step lives: trainer::fit (nn/train.hpp) gathers a mini-batch, then the model's
// backprop_errors and backprop_gradients run the layers' forward, backward and gradient passes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "nn/activation.hpp"
#include "nn/cost.hpp"
#include "nn/data/dataset.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/fwd.hpp"
#include "nn/init.hpp"
#include "nn/matrix.hpp"
#include "nn/optimizer.hpp"
#include "nn/random.hpp"
#include "nn/layers/batch_norm.hpp"
#include "nn/layers/conv2d.hpp"
#include "nn/layers/dense.hpp"
#include "nn/layers/flatten.hpp"
#include "nn/layers/input.hpp"
#include "nn/layers/pool.hpp"
#include "nn/model.hpp"
#include "nn/network_view.hpp"
#include "nn/simd/kernels.hpp"
#include "nn/train.hpp"

namespace nn {

// The element type and activations of a network. Hidden is used by every layer but the last.
template <class T, class Hidden, class Output>
struct policies {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "nn::policies: the element type must be float or double");
  static_assert(activation_for<Hidden, T>,
                "nn::policies: Hidden must satisfy nn::activation_for<Hidden, T> (members f(z) and df(z, a) "
                "for T and nn::simd::batch<T>; a row-wise activation such as nn::softmax can only be the output "
                "layer's; see docs/policies.md)");
  static_assert(output_activation_for<Output, T>,
                "nn::policies: Output must satisfy nn::activation_for<Output, T> (members f(z) and df(z, a) "
                "for T and nn::simd::batch<T>) or nn::row_activation_for<Output, T> (member rows(z, a)); see "
                "docs/policies.md");
  using value_type = T;
  using hidden_activation = Hidden;
  using output_activation = Output;
};

namespace detail {
template <std::size_t... Sizes>
constexpr bool valid_sizes() {
  static_assert(sizeof...(Sizes) >= 2,
                "nn::network needs at least two layer sizes, inputs then outputs, e.g. nn::network<784, 30, 10>");
  static_assert(((Sizes > 0) && ...), "nn::network: every layer size must be at least 1");
  return true;
}

// The layers of basic_network<Policies, Sizes...>: input<S0>, then dense<S, Hidden> ..., dense<Sn, Output>.
template <class Policies, class Index, std::size_t... Sizes>
struct dense_stack;
template <class Policies, std::size_t... I, std::size_t... Sizes>
struct dense_stack<Policies, std::index_sequence<I...>, Sizes...> {
  static_assert(valid_sizes<Sizes...>());
  static constexpr std::array<std::size_t, sizeof...(Sizes)> sizes{Sizes...};
  using type = basic_sequential<
      typename Policies::value_type, input<sizes[0]>,
      dense<sizes[I + 1], std::conditional_t<I + 2 == sizeof...(Sizes), typename Policies::output_activation,
                                             typename Policies::hidden_activation>>...>;
};
template <class Policies, std::size_t... Sizes>
using dense_stack_t =
    typename dense_stack<Policies, std::make_index_sequence<(sizeof...(Sizes) > 1 ? sizeof...(Sizes) - 1 : 1)>, Sizes...>::type;
}  // namespace detail

// The course's network: fully connected layers of the given sizes, one activation for the hidden layers
// and one for the output layer. A model of dense layers (nn::sequential) with the course's names for its
// parameters: weight(l, j, k) and bias(l, j).
template <class Policies, std::size_t... Sizes>
class basic_network : public detail::dense_stack_t<Policies, Sizes...> {
  using base = detail::dense_stack_t<Policies, Sizes...>;

 public:
  using value_type = typename Policies::value_type;
  using hidden_activation = typename Policies::hidden_activation;
  using output_activation = typename Policies::output_activation;
  using T = value_type;
  using typename base::workspace;

  static constexpr std::array<std::size_t, sizeof...(Sizes)> sizes{Sizes...};
  static constexpr std::size_t layer_count = sizeof...(Sizes) - 1;  // layers of weights

  // Input-major weights of layer L (0-based): rows are the sizes[L] inputs, columns the sizes[L+1] neurons.
  template <std::size_t L>
  using weight_ref = matrix_ref<T, sizes[L], sizes[L + 1]>;

  using base::base;

  // The course's w^{l+1}_{jk}: the weight from neuron k of layer `l` to neuron j of layer l+1, with
  // layer 0 the inputs. Bounds are checked.
  T& weight(std::size_t l, std::size_t j, std::size_t k) { return this->parameters()[weight_index(l, j, k)]; }
  T weight(std::size_t l, std::size_t j, std::size_t k) const { return this->parameters()[weight_index(l, j, k)]; }
  // The course's b^{l+1}_j: the bias of neuron j of layer l+1.
  T& bias(std::size_t l, std::size_t j) { return this->parameters()[bias_index(l, j)]; }
  T bias(std::size_t l, std::size_t j) const { return this->parameters()[bias_index(l, j)]; }

  template <std::size_t L>
  weight_ref<L> weights() noexcept { return {this->template layer_parameters<L>()}; }
  template <std::size_t L>
  matrix_ref<const T, sizes[L], sizes[L + 1]> weights() const noexcept { return {this->template layer_parameters<L>()}; }
  template <std::size_t L>
  std::span<T, sizes[L + 1]> biases() noexcept {
    return std::span<T, sizes[L + 1]>(this->template layer_parameters<L>() + sizes[L] * stride(L + 1), sizes[L + 1]);
  }
  template <std::size_t L>
  std::span<const T, sizes[L + 1]> biases() const noexcept {
    return std::span<const T, sizes[L + 1]>(this->template layer_parameters<L>() + sizes[L] * stride(L + 1), sizes[L + 1]);
  }

  // "nn::network<784, 30, 10>", for messages.
  static std::string shape() {
    std::string s = "nn::network<";
    s += detail::join(sizes, ", ");
    s += '>';
    return s;
  }

 private:
  static constexpr std::size_t stride(std::size_t l) { return detail::round_up(sizes[l], simd::layout_width<T>); }
  static std::size_t weight_index(std::size_t l, std::size_t j, std::size_t k) {
    if (l >= layer_count || j >= sizes[l + 1] || k >= sizes[l])
      throw std::out_of_range(shape() + "::weight(" + std::to_string(l) + ", " + std::to_string(j) + ", " +
                              std::to_string(k) + "): out of range");
    return base::parameter_offset(l) + k * stride(l + 1) + j;
  }
  static std::size_t bias_index(std::size_t l, std::size_t j) {
    if (l >= layer_count || j >= sizes[l + 1])
      throw std::out_of_range(shape() + "::bias(" + std::to_string(l) + ", " + std::to_string(j) + "): out of range");
    return base::parameter_offset(l) + sizes[l] * stride(l + 1) + j;
  }
};

}  // namespace nn
