// Inference with no heap: nn::network_view<Net> runs a network's forward pass over parameters it does not
// own — an array in static storage (flash, on a microcontroller), a header nn-onnx wrote, a memory-mapped
// file, or a network that outlives the view. feedforward allocates nothing and throws nothing: the
// sample's rows (its input, output and hidden layers, padded) are on the stack.
//
//   using net_t = nn::network<784, 30, 10>;
//   constexpr auto params = nn::parameter_storage_of<net_t>(values);
//   constexpr nn::network_view<net_t> net(params);   // values: the 23,860 parameters in file order
//   const auto y = net.feedforward(std::span<const float, 784>(image));
//
// nn::parameter_storage_of<Net>(values) lays out parameters given in file order (nn::save_parameters',
// ONNX's: layer by layer, nn::dense's w[j][k] then b[j]) as Net keeps them (each layer's rows padded to
// 64 bytes, the same for every instruction set), at compile time when values are constexpr.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "nn/layer.hpp"
#include "nn/matrix.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {

// Net's parameters as it keeps them, aligned for its kernels (a static or constexpr one is in static
// storage, aligned by its type).
template <class Net>
struct parameter_array {
  using value_type = typename Net::value_type;
  alignas(simd::alignment) std::array<value_type, Net::parameter_storage> values;

  constexpr value_type* data() noexcept { return values.data(); }
  constexpr const value_type* data() const noexcept { return values.data(); }
  static constexpr std::size_t size() noexcept { return Net::parameter_storage; }
  constexpr auto begin() const noexcept { return values.begin(); }
  constexpr auto end() const noexcept { return values.end(); }
};

// Net's parameter storage (Net::parameter_storage values, padding 0) from its parameter_count values in
// file order: a C array, std::array or std::span of static extent, of float or double.
template <class Net, class Values>
constexpr parameter_array<Net> parameter_storage_of(const Values& values) {
  using T = typename Net::value_type;
  const std::span in{values};
  static_assert(decltype(in)::extent == Net::parameter_count,
                "nn::parameter_storage_of<Net>: give exactly Net::parameter_count values (file order)");
  parameter_array<Net> storage{};
  const auto* from = in.data();  // a pointer, not in[at]: fewer steps for the compiler's evaluator
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (detail::visit_parameters<typename Net::template layer_type<I>>(storage.data() + Net::parameter_offset(I),
                                                                     [&from](T& v) { v = static_cast<T>(*from++); }),
     ...);
  }(std::make_index_sequence<Net::layer_count>{});
  return storage;
}

template <class Net>
class network_view {
 public:
  using network_type = Net;
  using value_type = typename Net::value_type;
  using input_shape = typename Net::input_shape;
  using output_shape = typename Net::output_shape;
  static constexpr std::size_t inputs = Net::inputs, outputs = Net::outputs;

  // Net::parameter_storage values in Net's layout (nn::parameter_storage_of), starting on a multiple of
  // nn::simd::alignment bytes; they must outlive the view.
  constexpr explicit network_view(const value_type* parameters) noexcept : p_(parameters) {}
  constexpr explicit network_view(const parameter_array<Net>& parameters) noexcept : p_(parameters.data()) {}
  explicit network_view(const Net& net) noexcept : p_(net.parameters().data()) {}

  std::span<const value_type, Net::parameter_storage> parameters() const noexcept {
    return std::span<const value_type, Net::parameter_storage>(p_, Net::parameter_storage);
  }

  // The output for one sample: no heap allocation, no exception (when Net::one_sample_on_stack: the
  // sample's rows fit 256 KB, as in every network of nn's docs).
  std::array<value_type, outputs> feedforward(std::span<const value_type, inputs> x) const
      noexcept(Net::one_sample_on_stack) {
    std::array<value_type, outputs> out;
    Net::infer_one(p_, x, std::span<value_type, outputs>(out));
    return out;
  }
  void feedforward(std::span<const value_type, inputs> x, std::span<value_type, outputs> out) const
      noexcept(Net::one_sample_on_stack) {
    Net::infer_one(p_, x, out);
  }
  // Outputs for rows of samples into the caller's rows (as Net::predict; its scratch is on the stack up to
  // 256 KB).
  template <class U, std::size_t Rows>
  void predict(matrix_ref<U, Rows, inputs> x, matrix_ref<value_type, dynamic, outputs> out) const {
    static_assert(std::is_same_v<std::remove_const_t<U>, value_type>, "nn: predict's inputs must have the network's element type");
    if (out.rows() != x.rows())
      throw std::invalid_argument("nn: predict: " + std::to_string(x.rows()) + " rows of inputs but " +
                                  std::to_string(out.rows()) + " rows for the outputs");
    Net::infer_rows(p_, x.data(), x.rows(), out.data());
  }

  // An owning copy of the network (on the heap), to train further or to save.
  Net network() const {
    Net net;
    std::copy_n(p_, Net::parameter_storage, net.parameters().begin());
    return net;
  }

 private:
  const value_type* p_;
};

}  // namespace nn
