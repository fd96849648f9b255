// The PyTorch fixtures of tests/data/onnx (written by make_fixtures.py) as onnx_test and onnx_header_test
// use them: their nn types, their inputs (exact in float) and PyTorch's outputs on those inputs.
#pragma once

#include <nn/network.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace onnx_fixtures {

inline const std::string dir = std::string(NN_TEST_DATA) + "/onnx/";

// Chapter 6 in small, and convolutions with padding and stride, batch norm and average pooling.
using small_cnn = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                                 nn::dense<4, nn::softmax>>;
template <class Act, class Pool = nn::avg_pool<2>, std::size_t Stride2 = 2>
using bn_cnn_of = nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::identity, 1, nn::padding::same>,
                                 nn::batch_norm<Act>, Pool, nn::conv2d<2, 3, 3, nn::tanh, Stride2, nn::padding::same>,
                                 nn::flatten, nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>;
using bn_cnn = bn_cnn_of<nn::relu>;
// PyTorch's default export folds the first batch norm into the convolution, which gains a bias.
using bn_cnn_fused = nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::relu, 1, nn::padding::same>,
                                    nn::avg_pool<2>, nn::conv2d<2, 3, 3, nn::tanh, 2, nn::padding::same>, nn::flatten,
                                    nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>;

// Sample s of the fixtures' inputs, exact in float: value i is ((7 i + 3 s) mod 17 − 8) / 8.
inline std::vector<float> exact_input(std::size_t size, int s) {
  std::vector<float> x(size);
  for (std::size_t i = 0; i < size; ++i) x[i] = static_cast<float>((7 * static_cast<int>(i) + 3 * s) % 17 - 8) / 8;
  return x;
}

// PyTorch's outputs on samples 0 and 1 (make_fixtures.py prints them).
inline const std::vector<float> small_cnn_torch = {0.3494720458984375f, 0.26947760581970215f, 0.19590535759925842f,
                                                   0.1851450651884079f, 0.3525294065475464f,  0.2669088840484619f,
                                                   0.19444823265075684f, 0.18611346185207367f};
inline const std::vector<float> bn_cnn_torch = {-0.1607893854379654f,  0.8125579953193665f, -0.1584036648273468f,
                                                -0.14870646595954895f, 0.792193591594696f,  -0.12021249532699585f};
inline const std::vector<float> pool_only_torch = {0.375f, 0.875f, 1.0f, 0.625f, 0.75f, 0.375f, 0.875f, 1.0f};

}  // namespace onnx_fixtures
