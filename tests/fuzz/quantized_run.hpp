// The int8 network of fuzz_quantized and of its seeds (make_seeds.cpp): a float convolution's parameters and
// two int8 dense layers, so a file holds every kind of record, quantized on a few fixed samples.
#pragma once

#include <nn/network.hpp>
#include <nn/quantize.hpp>

#include <array>
#include <vector>

namespace fuzz {

using quantized_net = nn::sequential<nn::input<1, 5, 5>, nn::conv2d<2, 3, 3, nn::relu>, nn::flatten, nn::dense<5, nn::tanh>,
                                     nn::dense<3, nn::softmax>>;

inline std::array<float, 25> quantized_sample(std::size_t i) {
  std::array<float, 25> x;
  for (std::size_t k = 0; k < 25; ++k) x[k] = static_cast<float>((i * 7 + k * 3) % 11) / 10.0f;
  return x;
}

inline nn::quantized<quantized_net> quantized_example() {
  const quantized_net net(3, nn::scaled_normal_init{});
  nn::dataset<float> d(25, 3);
  const std::vector<float> y(3, 0.0f);
  for (std::size_t i = 0; i < 20; ++i) d.add(quantized_sample(i), y);
  return nn::quantize(net, d);
}

}  // namespace fuzz
