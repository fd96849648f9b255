// nn::conv2d<Maps, KH, KW, Activation, Stride, Padding>: a 2-D convolution, the book's chapter 6 layer
// (local receptive fields, shared weights): Maps feature maps, each a KH × KW kernel over every input
// channel plus a bias, then the activation. Input and output are channels × height × width.
//
//   nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>,
//                  nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>
//
// Parameters: a row of weights per map, [channel][row][column] (PyTorch's and ONNX's order) padded to
// 64 bytes, then the biases; files hold them without the padding. It keeps z for the
// activation's derivative. Dropout does not apply to it (the book drops out only in
// fully connected layers). Kernels: nn/simd/conv.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>

#include "nn/activation.hpp"
#include "nn/layer.hpp"
#include "nn/simd/conv.hpp"

namespace nn {

template <std::size_t Maps, std::size_t KH, std::size_t KW = KH, class Activation = identity, std::size_t Stride = 1,
          padding Padding = padding::valid>
struct conv2d {
  static_assert(Maps > 0 && KH > 0 && KW > 0, "nn::conv2d: maps and the kernel's sizes must be at least 1");
  static_assert(Stride > 0, "nn::conv2d: the stride must be at least 1");
  using activation = Activation;

  // Inputs of three dimensions (channels × height × width) that the kernel fits ('valid').
  template <class In>
  static constexpr bool accepts = [] {
    if constexpr (In::rank != 3) return false;
    else return Padding == padding::same || (In::dims[1] >= KH && In::dims[2] >= KW);
  }();

  static std::string text() {
    std::string s = "conv2d<" + std::to_string(Maps) + ", " + std::to_string(KH) + "x" + std::to_string(KW) + ", " +
                     detail::activation_name<Activation>();
    if (Stride != 1) s += ", stride " + std::to_string(Stride);
    if (Padding == padding::same) s += ", same";
    return s + '>';
  }

  template <class T, class In>
  struct bind {
    static constexpr conv_geometry geometry =
        make_conv_geometry(In::dims[0], In::dims[1], In::dims[2], Maps, KH, KW, Stride, Padding);
    static constexpr nn::padding padding_mode = Padding;
    using value_type = T;
    using input_shape = In;
    using output_shape = shape<Maps, geometry.out_h, geometry.out_w>;
    using kept_shape = output_shape;
    using activation = Activation;
    static constexpr std::size_t taps = geometry.taps();
    static constexpr std::size_t row = simd::conv_tiles<T, geometry>::row;  // taps padded to 64 bytes
    static constexpr std::size_t parameter_count = Maps * taps + Maps;
    static constexpr std::size_t parameter_storage = Maps * row + Maps;
    static constexpr std::size_t bias_offset = Maps * row;
    static constexpr std::size_t kept_count = 1;  // z
    static constexpr const char* kind = "conv2d";

    // Draws a weight per tap of every map from the initializer as a layer of `taps` inputs and Maps
    // outputs (the fan-in of a map's unit is its receptive field), map by map.
    template <class Init>
    static void initialize(T* p, rng& r, Init& init, init_pass pass) {
      if (pass == init_pass::biases) {
        for (std::size_t m = 0; m < Maps; ++m) p[bias_offset + m] = static_cast<T>(init.bias(r, taps, Maps));
      } else {
        for (std::size_t m = 0; m < Maps; ++m)
          for (std::size_t i = 0; i < taps; ++i) p[m * row + i] = static_cast<T>(init.weight(r, taps, Maps));
      }
    }

    // Every parameter in file order: the weights map by map without the padding, then the biases.
    template <class F>
    static constexpr void visit_parameters(T* p, F&& f) {
      for (std::size_t m = 0; m < Maps; ++m)
        for (std::size_t i = 0; i < taps; ++i) f(p[m * row + i]);
      for (std::size_t m = 0; m < Maps; ++m) f(p[bias_offset + m]);
    }

    static void forward(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y) noexcept {
      for (std::size_t s = 0; s < x.rows(); ++s) simd::conv_forward<T, geometry>(p, x.row_data(s), y.row_data(s));
      simd::activate<T, output_shape::size>(rows_of<const T, output_shape>(y), y, Activation{});
    }

    static void forward_train(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y, kept_rows<T, kept_shape> k,
                              const train_context&) noexcept {
      for (std::size_t s = 0; s < x.rows(); ++s) simd::conv_forward<T, geometry>(p, x.row_data(s), k[0].row_data(s));
      simd::activate<T, output_shape::size>(rows_of<const T, output_shape>(k[0]), y, Activation{});
    }

    // g: the error at the output becomes the error at z; then the error at the input, unless gi is
    // nullptr (the first layer).
    template <class GI>
    static void backward(const T* p, rows_of<const T, output_shape> y, kept_rows<T, kept_shape> k, const train_context&,
                         rows_of<T, output_shape> g, error_at at, GI gi) noexcept {
      if constexpr (activation_for<Activation, T>)
        if (at == error_at::output) simd::times_derivative<T, output_shape::size>(k[0], y, g, Activation{});
      if constexpr (!std::is_null_pointer_v<GI>)
        for (std::size_t s = 0; s < g.rows(); ++s) simd::conv_backward_input<T, geometry>(p, g.row_data(s), gi.row_data(s));
    }

    static rows_of<const T, output_shape> pre_activation(kept_rows<T, kept_shape> k) noexcept { return k[0]; }

    // This part's 64-byte units [first, last) of every map's row of weights (padding included), and the
    // biases in one part.
    template <bool Accumulate>
    static void gradient(const T* p, rows_of<const T, In> x, rows_of<const T, output_shape> g,
                         const gradient_sink<T, Accumulate>& s) noexcept {
      constexpr std::size_t LW = simd::layout_width<T>, units = row / LW;
      const std::size_t first = units * s.part / s.parts, last = units * (s.part + 1) / s.parts;
      const bool bias = (s.position - 1) % s.parts == s.part;
      const auto each_weight = [&](auto&& f) {
        for (std::size_t m = 0; m < Maps; ++m)
          for (std::size_t i = first * LW; i < last * LW; ++i) f(m * row + i);
      };
      if constexpr (Accumulate) {
        if (s.l2 != T(0)) {
          const T decay = T(1) + s.alpha * static_cast<T>(s.rows) * s.l2;
          each_weight([&](std::size_t i) { s.target[i] *= decay; });
        }
      } else {
        each_weight([&](std::size_t i) { s.target[i] = T(0); });
        if (bias) std::fill(s.target + bias_offset, s.target + bias_offset + Maps, T(0));
      }
      for (std::size_t r = 0; r < x.rows(); ++r)
        simd::conv_gradient<T, geometry>(x.row_data(r), g.row_data(r), s.alpha, first, last, bias, s.target);
      if (!Accumulate && s.l2 != T(0)) each_weight([&](std::size_t i) { s.target[i] += s.l2 * p[i]; });
    }
  };
};

}  // namespace nn
