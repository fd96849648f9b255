// nn::dense<N, Activation>: a fully connected layer of N neurons, a = f(W·x + b), the course's layer.
// Its input may have any shape (it is flattened). Parameters: the weights input-major (row i holds input
// i's weights to every neuron, padded to 64 bytes; the course's w_jk is row k, column j), then
// the biases. It keeps z for the derivative and, while dropout is on, f(z) and the mask.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "nn/activation.hpp"
#include "nn/layer.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {

namespace detail {
// Biases in one pass, weights neuron by neuron in the other (network.py's order). Sizes at run time: one
// copy per element type and initializer, whatever the layers' sizes.
template <class T, class Init>
void initialize_dense(T* p, std::size_t inputs, std::size_t n, std::size_t stride, rng& r, Init& init, init_pass pass) {
  if (pass == init_pass::biases) {
    for (std::size_t j = 0; j < n; ++j) p[inputs * stride + j] = static_cast<T>(init.bias(r, inputs, n));
  } else {
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < inputs; ++k) p[k * stride + j] = static_cast<T>(init.weight(r, inputs, n));
  }
}
}  // namespace detail

template <std::size_t N, class Activation = sigmoid>
struct dense {
  static_assert(N > 0, "nn::dense: a layer needs at least one neuron");
  using activation = Activation;
  static constexpr std::size_t units = N;

  static std::string text() {
    std::string s = "dense<";
    s += std::to_string(N);
    s += ", ";
    s += detail::activation_name<Activation>();
    s += '>';
    return s;
  }

  template <class T, class In>
  struct bind {
    using value_type = T;
    using input_shape = In;
    using output_shape = shape<N>;
    using kept_shape = shape<N>;
    using activation = Activation;
    static constexpr std::size_t inputs = In::size, outputs = N;
    static constexpr std::size_t stride = row_layout<T, N>::stride;
    static constexpr std::size_t parameter_count = (inputs + 1) * N;
    static constexpr std::size_t parameter_storage = (inputs + 1) * stride;
    static constexpr std::size_t bias_offset = inputs * stride;
    // k[0] = z; with dropout k[1] = f(z) (the output is f(z) times the mask) and k[2] = the mask.
    static constexpr std::size_t kept_count = 3;

    static constexpr const char* kind = "dense";  // in files
    // y = f(x·W + b), W = weights(p) and b at p + bias_offset: nn::quantize runs it with int8 weights.
    static constexpr bool affine = true;
    // It reads each input row's `inputs` values one at a time, never its padding or alignment: a single
    // sample's inference can hand it the caller's values as they are (model.hpp's infer_one).
    static constexpr bool reads_input_padding = false;

    // Every parameter in the course's order (w[j][k] neuron by neuron, then b[j]): files use it.
    template <class F>
    static constexpr void visit_parameters(T* p, F&& f) {
      for (std::size_t j = 0; j < N; ++j)
        for (std::size_t k = 0; k < inputs; ++k) f(p[k * stride + j]);
      for (std::size_t j = 0; j < N; ++j) f(p[bias_offset + j]);
    }

    static matrix_ref<const T, inputs, N> weights(const T* p) noexcept { return {p}; }
    static matrix_ref<T, inputs, N> weights(T* p) noexcept { return {p}; }

    template <class Init>
    static void initialize(T* p, rng& r, Init& init, init_pass pass) {
      detail::initialize_dense(p, inputs, N, stride, r, init, pass);
    }

    static void forward(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y) noexcept {
      simd::dense_forward<T, inputs, N>(x, weights(p), p + bias_offset, nullptr, y, Activation{});
    }

    // With dropout (rate p > 0), each unit of each row is kept with probability 1 − p, from a hash of the
    // step's key, the row in the mini-batch, the layer and the unit (so the same on any number of
    // threads), and the kept ones are scaled by 1/(1 − p).
    static void forward_train(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y, kept_rows<T, kept_shape> k,
                              const train_context& c) noexcept {
      if (c.dropout.rate <= 0) {
        simd::dense_forward<T, inputs, N>(x, weights(p), p + bias_offset, k[0].data(), y, Activation{});
        return;
      }
      simd::dense_forward<T, inputs, N>(x, weights(p), p + bias_offset, k[0].data(), k[1], Activation{});
      const auto mask = k[2];
      const T keep = T(1) / static_cast<T>(1 - c.dropout.rate);
      const std::uint64_t threshold = static_cast<std::uint64_t>(c.dropout.rate * 16777216.0);  // p·2^24
      for (std::size_t r = 0; r < x.rows(); ++r) {
        T* row = mask.row_data(r);
        const std::uint64_t base =
            c.dropout.key ^ (static_cast<std::uint64_t>(c.first_row + r) << 40) ^ (std::uint64_t{c.position} << 32);
        for (std::size_t j = 0; j < N; ++j) row[j] = (detail::mix64(base ^ j) >> 40) >= threshold ? keep : T(0);
      }
      std::copy_n(k[1].data(), x.rows() * stride, y.data());
      simd::multiply<T>(mask.storage(), y.storage());
    }

    // g: the error at the output (or at z, from the cost) becomes the error at z; then the error at the
    // input, Wᵀ·g, into gi (the previous layer applies its own derivative), unless gi is nullptr (the
    // first layer: nothing needs the error at the samples).
    template <class GI>
    static void backward(const T* p, rows_of<const T, output_shape> y, kept_rows<T, kept_shape> k, const train_context& c,
                         rows_of<T, output_shape> g, error_at at, GI gi) noexcept {
      if constexpr (activation_for<Activation, T>) {
        if (at == error_at::output) {
          const bool drop = c.dropout.rate > 0;
          simd::times_derivative<T, N>(k[0], drop ? rows_of<const T, output_shape>(k[1]) : y, g, Activation{});
          // A dropped unit passes no error back; a kept one's is scaled like its output.
          if (drop) simd::multiply<T>(k[2].storage(), g.storage());
        }
      }
      if constexpr (!std::is_null_pointer_v<GI>)
        simd::dense_backward_input<T, inputs, N>(weights(p), g, nullptr, {}, gi, simd::no_derivative{});
    }

    // The output layer's z, for a cost computed through the activation (nn::output_delta).
    static rows_of<const T, output_shape> pre_activation(kept_rows<T, kept_shape> k) noexcept { return k[0]; }

    // This part's weight rows [first, last) of the inputs, and the biases in one part.
    template <bool Accumulate>
    static void gradient(const T* p, rows_of<const T, In> x, rows_of<const T, output_shape> g,
                         const gradient_sink<T, Accumulate>& s) noexcept {
      const std::size_t first = inputs * s.part / s.parts, last = inputs * (s.part + 1) / s.parts;
      const auto part_rows = [&](auto* base) { return std::span(base + first * stride, (last - first) * stride); };
      if (Accumulate && s.l2 != T(0)) simd::scale(T(1) + s.alpha * static_cast<T>(s.rows) * s.l2, part_rows(s.target));
      simd::rank_update<Accumulate, T, inputs, N>(x, g, weights(s.target), s.alpha, first, last);
      if (!Accumulate && s.l2 != T(0)) simd::axpy_registers(s.l2, std::span<const T>(part_rows(p)), part_rows(s.target));
      if ((s.position - 1) % s.parts == s.part) simd::column_sum<Accumulate, T, N>(g, s.target + bias_offset, s.alpha);
    }
  };
};

}  // namespace nn
