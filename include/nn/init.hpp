// Initialisation policies. Contract (docs/policies.md, concept nn::initializer):
//   weight(rng, fan_in, fan_out) and bias(rng, fan_in, fan_out) each return one starting value,
//   for a layer with fan_in inputs and fan_out neurons. nn draws all biases first, layer by layer,
//   then all weights, each layer's neuron by neuron (the course's order).
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>

#include "nn/random.hpp"

namespace nn {

template <class I>
concept initializer = requires(I& init, rng& r, std::size_t n) {
  { init.weight(r, n, n) } -> std::convertible_to<double>;
  { init.bias(r, n, n) } -> std::convertible_to<double>;
};

// The course's choice: every weight and bias from N(0, 1).
struct normal_init {
  double weight(rng& r, std::size_t, std::size_t) const noexcept { return r.normal(); }
  double bias(rng& r, std::size_t, std::size_t) const noexcept { return r.normal(); }
};

// Weights from N(0, 1/fan_in) so weighted inputs start with unit variance and neurons do not
// start saturated; biases from N(0, 1).
struct scaled_normal_init {
  double weight(rng& r, std::size_t fan_in, std::size_t) const noexcept {
    return r.normal() / std::sqrt(static_cast<double>(fan_in));
  }
  double bias(rng& r, std::size_t, std::size_t) const noexcept { return r.normal(); }
};

// He et al. (2015) for relu layers: weights from N(0, 2/fan_in), which keeps the variance of the
// weighted inputs from layer to layer when half the units are off; biases 0.
struct he_init {
  double weight(rng& r, std::size_t fan_in, std::size_t) const noexcept {
    return r.normal() * std::sqrt(2.0 / static_cast<double>(fan_in));
  }
  double bias(rng&, std::size_t, std::size_t) const noexcept { return 0.0; }
};

}  // namespace nn
