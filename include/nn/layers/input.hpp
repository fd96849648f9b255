// nn::input<Dims...>: the first entry of every model, the shape of one sample (nn::input<784>, or
// nn::input<1, 28, 28> for one channel of 28 x 28). It has no parameters and computes nothing.
#pragma once

#include <cstddef>
#include <string>

#include "nn/shape.hpp"

namespace nn {

template <std::size_t... Dims>
struct input {
  using shape = nn::shape<Dims...>;
  static std::string text() {
    std::string s = "input<";
    s += shape::text();
    s += '>';
    return s;
  }
};

template <class L>
inline constexpr bool is_input = false;
template <std::size_t... Dims>
inline constexpr bool is_input<input<Dims...>> = true;

}  // namespace nn
