// The shape of what flows between layers, per sample: nn::shape<784> for a vector, nn::shape<20, 12, 12>
// for 20 channels of 12 x 12. A mini-batch holds one sample per row, the shape flattened into the row
// (last dimension fastest) and the row padded to whole SIMD registers (nn::row_layout).
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "nn/detail/text.hpp"

namespace nn {

template <std::size_t... Dims>
struct shape {
  static_assert(sizeof...(Dims) >= 1, "nn::shape needs at least one dimension");
  static_assert(((Dims > 0) && ...), "nn::shape: every dimension must be at least 1");
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
  static constexpr std::size_t size = (Dims * ...);  // values per sample

  // "784" or "20x12x12", for messages and file headers.
  static std::string text() { return detail::join(dims, "x"); }
};

template <class S>
inline constexpr bool is_shape = false;
template <std::size_t... Dims>
inline constexpr bool is_shape<shape<Dims...>> = true;

}  // namespace nn
