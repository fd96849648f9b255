// Saving and loading a whole model: its input shape, every layer's kind, shape, activation and
// parameters, in format version 3 (docs/file-format.md); all integers little-endian:
//   "nnparams" | u32 version = 3 | u32 bytes per value (4 float, 8 double) | u32 L layers |
//   u32 rank, u32 dims[rank] (the input) | per layer: kind, u32 rank + dims (its output), activation
//   (each name u32 length + ASCII; activation length 0: none), u64 P, P values in the layer's order |
//   u64 FNV-1a hash of every byte before it.
// Versions 1 and 2 (dense networks: sizes and the two activations' names) still load into nn::network.
// save_parameters writes a temporary file and renames it, so a crash never leaves half a file.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "nn/activation.hpp"
#include "nn/detail/param_file.hpp"
#include "nn/layer.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {

namespace detail {

// A layer's record in a file: kind, output shape, activation (empty: none), and how many values.
template <class B>
std::string layer_kind() {
  if constexpr (requires { std::string(B::kind); }) return std::string(B::kind);
  else return "unnamed";
}
template <class B>
std::string layer_activation() {
  if constexpr (requires { typename B::activation; }) return activation_name<typename B::activation>();
  else return "";
}
// How many values a layer's record holds: its parameter_count when it visits them, else its whole block.
template <class B, class T>
constexpr std::size_t file_values() {
  if constexpr (requires(T* p, void (*f)(T&)) { B::visit_parameters(p, f); }) return B::parameter_count;
  else return B::parameter_storage;
}

// The model's layout: what its file says of it, and what a file must say to load into it.
template <class Net>
model_layout layout_of() {
  using T = typename Net::value_type;
  model_layout m{{Net::input_shape::dims.begin(), Net::input_shape::dims.end()}, {}};
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    layer_record r;
    r.kind = layer_kind<B>();
    r.activation = layer_activation<B>();
    r.dims.assign(B::output_shape::dims.begin(), B::output_shape::dims.end());
    r.values = file_values<B, T>();
    m.layers.push_back(std::move(r));
  });
  return m;
}
// Every parameter in file order: layer by layer, each layer in its own order. The only per-model code
// of saving and loading; nn/detail/param_file.hpp does the rest, compiled once.
template <class Net, class F>
void for_each_parameter(Net& net, F&& f) {
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    visit_parameters<typename Net::template layer_type<i>>(net.template layer_parameters<i>(), f);
  });
}

}  // namespace detail

// Writes the whole model (format version 3): its input shape, each layer's kind, output shape, activation
// and parameters.
template <class Net>
void save_parameters(const Net& net, const std::string& path) {
  using T = typename Net::value_type;
  std::vector<T> values;
  detail::for_each_parameter(const_cast<Net&>(net), [&](T& v) { values.push_back(v); });
  detail::write_v3(path, detail::layout_of<Net>(), sizeof(T), reinterpret_cast<const std::uint8_t*>(values.data()));
}

// The layer sizes stored in a parameter file (e.g. {784, 30, 10}: the input's values, then each layer's
// outputs), to choose the network type before loading it.
inline std::vector<std::uint32_t> read_parameter_sizes(const std::string& path, const read_limits& limits = {}) {
  std::string what_limit;
  const std::uint64_t limit = detail::parameter_file_limit(limits, 0, what_limit);
  detail::parameter_file file(path, limit, what_limit, limits.fifo_writer_seconds, /*keep_values=*/false);
  if (file.version < 3) return detail::v2_sizes(file);
  const auto flat = [](const std::vector<std::uint32_t>& d) {
    std::uint64_t n = 1;
    for (const auto v : d) n = std::min<std::uint64_t>(n * v, 0xffffffffULL);
    return static_cast<std::uint32_t>(n);
  };
  std::vector<std::uint32_t> input;
  const auto records = detail::read_records(file, input);
  std::vector<std::uint32_t> sizes{flat(input)};
  for (const auto& r : records) sizes.push_back(flat(r.dims));
  return sizes;
}

// Loads a file written by save_parameters into `net`, whose layers and element type must match the file's.
// The network is changed only when the whole file is good. Version 1 and 2 files (dense networks) load
// into an nn::network of the same sizes. The file is read only as far as its header promises, and never
// past four times the size of this network's file (plus 1 MiB); `limits` can raise that (nn::read_limits).
template <class Net>
void load_parameters(Net& net, const std::string& path, const read_limits& limits = {}) {
  using T = typename Net::value_type;
  const auto layout = detail::layout_of<Net>();
  std::string what_limit;
  const std::uint64_t limit = detail::parameter_file_limit(limits, detail::file_bytes(layout, sizeof(T)), what_limit);
  detail::parameter_file file(path, limit, what_limit, limits.fifo_writer_seconds);
  std::vector<std::uint8_t> raw;
  if (file.version >= 3) {
    raw = detail::read_v3(file, layout, sizeof(T));
  } else if constexpr (requires { Net::sizes; typename Net::hidden_activation; }) {
    const std::string names[2] = {detail::activation_name<typename Net::hidden_activation>(),
                                  detail::activation_name<typename Net::output_activation>()};
    raw = detail::read_v2(file, {Net::sizes.begin(), Net::sizes.end()}, names, sizeof(T));
  } else {
    throw data_error(path, 8, "a version " + std::to_string(file.version) + " file holds an nn::network of dense layers; "
                              "load it into one (this model is " + Net::name() + ")");
  }
  Net loaded(net);
  std::size_t at = 0;
  detail::for_each_parameter(loaded, [&](T& v) {
    std::memcpy(&v, raw.data() + at, sizeof(T));
    at += sizeof(T);
  });
  net = std::move(loaded);
}

}  // namespace nn
