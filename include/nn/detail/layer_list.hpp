// The model's machinery for its list of layers: binding each layer to the shape the one before gives
// (with the checks whose failures name the layers), and stack scratch for inference.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "nn/activation.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/layer.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

namespace detail {

constexpr std::size_t round_up(std::size_t n, std::size_t w) { return (n + w - 1) / w * w; }

template <class... Ls>
struct type_list {};

// A layer that says which input shapes it takes (`template <class In> static constexpr bool accepts`)
// is checked against what the layer before it gives. The failure names both layers and the shape in
// this template's arguments, which the compiler's note shows.
template <class Previous, class Layer, class Shape>
constexpr bool shape_mismatch() {
  if constexpr (requires { Layer::template accepts<Shape>; }) {
    static_assert(Layer::template accepts<Shape>,
                  "nn: a layer does not accept the shape the layer before it gives. See the template arguments of "
                  "nn::detail::shape_mismatch<Previous, Layer, Shape> in the note below: Layer cannot take Shape "
                  "from Previous (e.g. a layer for channels x height x width after a dense layer's vector)");
    return !Layer::template accepts<Shape>;
  } else {
    return false;
  }
}

template <class Layer, class Bound, class T>
constexpr bool check_layer() {
  static_assert(bound_layer<Bound, T>,
                "nn: a layer's bind<T, InputShape> must satisfy nn::bound_layer (docs/layers.md): types input_shape, "
                "output_shape, kept_shape (nn::shape), constants parameter_count, parameter_storage, kept_count, and "
                "static forward(params, x, y). Layer is the first template argument of nn::detail::check_layer");
  return true;
}

// Binds each layer to the shape the one before it gives: type_list of bound layers.
template <class T, class Previous, class In, class... Layers>
struct bind_all {
  using type = type_list<>;
};
template <class T, class Previous, class In, class L, class... Rest>
struct bind_all<T, Previous, In, L, Rest...> {
  static_assert(!shape_mismatch<Previous, L, In>());
  using bound = typename L::template bind<T, In>;
  static_assert(check_layer<L, bound, T>());
  template <class... Bs>
  static type_list<bound, Bs...> prepend(type_list<Bs...>);
  using type = decltype(prepend(typename bind_all<T, L, typename bound::output_shape, Rest...>::type{}));
};

template <class List>
struct as_tuple;
template <class... Bs>
struct as_tuple<type_list<Bs...>> {
  using type = std::tuple<Bs...>;
};

// A layer whose output is an activation of its own z, which it lets the cost see (nn::dense): as the last
// layer, the cost computes its error at z through the activation (cross-entropy's a − y, softmax's).
template <class B, class T>
concept has_activation = requires(kept_rows<T, typename B::kept_shape> k) {
  typename B::activation;
  B::pre_activation(k);
};
template <class B, class T, bool = has_activation<B, T>>
struct output_activation_of {
  using type = identity;  // the cost sees the output itself: ∂C/∂a
};
template <class B, class T>
struct output_activation_of<B, T, true> {
  using type = typename B::activation;
};

template <class L>
std::string layer_text() {
  if constexpr (requires { L::text(); }) return L::text();
  else return "a layer";
}

// A row or matrix of T at least N values long: on the stack up to 256 KB, else on the heap.
template <class T, std::size_t N, bool OnStack = (N * sizeof(T) <= 262144)>
struct scratch {
  alignas(simd::alignment) T data[N > 0 ? N : 1];
  T* get() noexcept { return data; }
};
template <class T, std::size_t N>
struct scratch<T, N, false> {
  aligned_buffer<T> buf{N};
  T* get() noexcept { return buf.data(); }
};

}  // namespace detail

}  // namespace nn
