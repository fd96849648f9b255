// int8 inference on real data (labelled long: it trains): networks trained on Fashion-MNIST (two dense ones for
// 2 epochs, the book's chapter-6 convolutional network for 1), quantized with nn::quantize on the training
// images, keep their test accuracy within half a point.
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/quantize.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "catch.hpp"

namespace {

namespace fs = std::filesystem;
namespace k8 = nn::simd::int8;

// Fashion-MNIST: a trained network's test accuracy in int8 within half a point of its accuracy in float.
const std::string fashion = NN_FASHION_DIR;

template <class Net, class Trainer>
void accuracy_holds(Net& net, Trainer& t, std::size_t epochs) {
  if (!fs::exists(fashion + "/train-images-idx3-ubyte.gz"))
    FAIL("int8_accuracy_test needs Fashion-MNIST in " + fashion + " (Debian's dataset-fashion-mnist; scripts/install-deps.sh installs it)");
  const auto train = nn::load_idx_bytes<float>(fashion + "/train-images-idx3-ubyte.gz", fashion + "/train-labels-idx1-ubyte.gz");
  const auto test = nn::load_idx_bytes<float>(fashion + "/t10k-images-idx3-ubyte.gz", fashion + "/t10k-labels-idx1-ubyte.gz");
  t.epochs = epochs;
  t.fit(net, train);
  const auto q = nn::quantize(net, train);
  const double f = double(nn::evaluate(net, test)) / double(test.size());
  const double i = double(nn::evaluate(q, test)) / double(test.size());
  INFO("float " << f << ", int8 (" << k8::name(q.path()) << ") " << i);
  CHECK(f > 0.8);
  CHECK(std::fabs(f - i) <= 0.005);
}

TEST_CASE("int8 on Fashion-MNIST: the course's 784-100-10 (sigmoid), test accuracy within 0.5 points of float", "[int8][fashion]") {
  nn::network<784, 100, 10> net(1, nn::scaled_normal_init{});
  nn::trainer<nn::sgd, nn::cross_entropy> t{nn::sgd{0.5}};
  t.batch_size = 10;
  accuracy_holds(net, t, 2);
}

TEST_CASE("int8 on Fashion-MNIST: relu, softmax and Adam (784-256-128-10), test accuracy within 0.5 points of float", "[int8][fashion]") {
  nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, 256, 128, 10> net(1, nn::he_init{});
  nn::trainer<nn::adam, nn::log_likelihood> t{nn::adam{0.001}};
  t.batch_size = 64;
  accuracy_holds(net, t, 2);
}

TEST_CASE("int8 on Fashion-MNIST: the book's chapter-6 network (conv 20@5x5, max-pool, dense 100, softmax), test accuracy within 0.5 points of float", "[int8][fashion]") {
  // The convolution runs in float (docs/int8.md); its two dense layers run in int8 on its pooled maps.
  using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                              nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
  ch6a net(1, nn::scaled_normal_init{});
  static_assert(nn::affine_layer<ch6a::layer_type<3>> && !nn::affine_layer<ch6a::layer_type<0>>);
  nn::trainer<nn::sgd, nn::log_likelihood> t{nn::sgd{0.1}};
  t.batch_size = 10;
  accuracy_holds(net, t, 1);
}

}  // namespace
