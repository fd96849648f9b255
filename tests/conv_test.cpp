// Convolutional networks (nn::conv2d, nn::max_pool, nn::avg_pool, nn::flatten): gradients of whole
// networks against finite differences at odd sizes, strides and paddings; learning on images whose
// answer is known, the same on any number of threads; files. (conv_kernels_test.cpp: the kernels
// against their scalar twins.)
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "conv_checks.hpp"
#include "catch.hpp"
#include "reference.hpp"

TEST_CASE("conv2d and pooling: gradients against finite differences", "[conv]") {
  using P = nn::padding;
  // 1 channel of 28 x 28 through 5 x 5; 3 channels through 3 x 3 at stride 2, 'same'; 20 channels
  // through 1 x 1; max pooling. Each convolution but the first also passes the error to the one before.
  test_data::check_gradient<nn::basic_sequential<double, nn::input<1, 28, 28>, nn::conv2d<3, 5, 5, nn::tanh>,
                                      nn::conv2d<20, 3, 3, nn::sigmoid, 2, P::same>, nn::max_pool<2>,
                                      nn::conv2d<4, 1, 1, nn::tanh>, nn::flatten, nn::dense<3, nn::softmax>>>(2, 7);
  // 3 channels of 27 x 27, 'same' at stride 1, average pooling to 13 x 13, 5 x 5 at stride 2 'valid',
  // 1 x 1 at stride 2 'same' over an odd size.
  test_data::check_gradient<nn::basic_sequential<double, nn::input<3, 27, 27>, nn::conv2d<4, 3, 3, nn::tanh, 1, P::same>,
                                      nn::avg_pool<2>, nn::conv2d<5, 5, 5, nn::sigmoid, 2>,
                                      nn::conv2d<3, 1, 1, nn::identity, 2, P::same>, nn::dense<2, nn::softmax>>>(3, 1);
  // 20 channels of 27 x 27 (5 x 5, 'same', stride 2), a kernel of unequal sides, max pooling of 3.
  test_data::check_gradient<nn::basic_sequential<double, nn::input<20, 27, 27>, nn::conv2d<2, 5, 5, nn::tanh, 2, P::same>,
                                      nn::conv2d<3, 3, 2, nn::sigmoid>, nn::max_pool<3>, nn::dense<4, nn::softmax>>>(2, 13);
}

TEST_CASE("a convolutional network learns bars' orientation, the same on 1 and 2 threads, and round-trips a file", "[conv]") {
  using Net = nn::sequential<nn::input<1, 12, 12>, nn::conv2d<4, 3, 3, nn::relu>, nn::max_pool<2>, nn::flatten,
                             nn::dense<2, nn::softmax>>;
  const auto train = test_data::bars(2000, 1), test = test_data::bars(500, 2);
  Net one(5, nn::scaled_normal_init{}), two = one;
  const auto fit = [&](Net& net, std::size_t threads) {
    nn::trainer<nn::sgd, nn::log_likelihood> t{nn::sgd{0.1}};
    t.epochs = 3;
    t.batch_size = 10;
    t.threads = threads;
    t.on_epoch = nullptr;
    return t.fit(net, train, test);
  };
  const auto before = nn::evaluate(one, test);
  const auto h1 = fit(one, 1);
  const auto h2 = fit(two, 2);
  INFO("before " << before << ", after " << h1.back().correct);
  REQUIRE(before < 350);
  REQUIRE(h1.back().correct >= 490);  // of 500
  REQUIRE(one == two);

  const auto path = (std::filesystem::temp_directory_path() / "nn_conv_test.nnp").string();
  nn::save_parameters(one, path);
  Net loaded;
  nn::load_parameters(loaded, path);
  REQUIRE(loaded == one);
  REQUIRE(nn::read_parameter_sizes(path) == std::vector<std::uint32_t>{144, 4 * 10 * 10, 4 * 5 * 5, 100, 2});
  using other = nn::sequential<nn::input<1, 12, 12>, nn::conv2d<4, 5, 5, nn::relu>, nn::max_pool<2>, nn::flatten,
                               nn::dense<2, nn::softmax>>;
  other o;
  REQUIRE_THROWS_WITH(nn::load_parameters(o, path), Catch::Matchers::Contains("layer 1 differs: the file has conv2d<4x10x10, relu>, "
                                                                              "the network has conv2d<4x8x8, relu>"));
  std::filesystem::remove(path);
}
