// Compile-time shape checks whose failure messages say what to change.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "nn/fwd.hpp"

namespace nn {
namespace detail {

// These checks name the two sizes in their template arguments, so the compiler's "required from here"
// note shows both numbers.
template <std::size_t NetworkInputs, std::size_t GivenInputs>
constexpr void check_input_size() {
  static_assert(NetworkInputs == GivenInputs,
                "nn: the input's size differs from the network's input layer (first template argument). "
                "Give an input of NetworkInputs values, or change the network's first size to GivenInputs.");
}
template <std::size_t NetworkOutputs, std::size_t GivenOutputs>
constexpr void check_output_size() {
  static_assert(NetworkOutputs == GivenOutputs,
                "nn: the targets' size differs from the network's output layer (last template argument). "
                "Give targets of NetworkOutputs values, or change the network's last size to GivenOutputs.");
}

// The run-time checks, in one place for training, its samples and streams, and inference: "<who> has
// inputs of 3 values and targets of 10, but the network has 784 inputs and 10 outputs"; for inference,
// whose targets are not the network's business, "<who> has inputs of 3 values, but the network has 784".
inline void check_sizes(std::size_t inputs, std::size_t outputs, std::size_t net_inputs, std::size_t net_outputs,
                        const std::string& who) {
  if (inputs != net_inputs || outputs != net_outputs)
    throw std::invalid_argument(who + " has inputs of " + std::to_string(inputs) + " values and targets of " +
                                std::to_string(outputs) + ", but the network has " + std::to_string(net_inputs) +
                                " inputs and " + std::to_string(net_outputs) + " outputs");
}
inline void check_inputs(std::size_t inputs, std::size_t net_inputs, const std::string& who) {
  if (inputs != net_inputs)
    throw std::invalid_argument(who + " has inputs of " + std::to_string(inputs) + " values, but the network has " +
                                std::to_string(net_inputs) + " inputs");
}
template <class Net>
void check_sizes(std::size_t inputs, std::size_t outputs, const std::string& who) {
  check_sizes(inputs, outputs, Net::inputs, Net::outputs, who);
}

// The extent of a contiguous range when its type fixes it (std::array, C array, fixed std::span).
template <class R>
constexpr std::size_t static_extent() {
  using U = std::remove_cvref_t<R>;
  if constexpr (std::is_array_v<U>) return std::extent_v<U>;
  else if constexpr (requires { std::tuple_size<U>::value; }) return std::tuple_size<U>::value;
  else if constexpr (requires { U::extent; }) {
    if constexpr (U::extent != std::dynamic_extent) return U::extent;
    else return dynamic;
  } else return dynamic;
}

}  // namespace detail
}  // namespace nn
