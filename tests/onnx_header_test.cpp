// Headers nn-onnx wrote at build time (tests/CMakeLists.txt) from two PyTorch fixtures: the type they
// define is the one load_onnx reads the file into, their parameters (laid out by the compiler) are the
// ones load_onnx reads, bit for bit, and load() runs with no heap allocation and gives PyTorch's outputs.
#include <nn/network.hpp>
#include <nn/onnx.hpp>

#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "bn_cnn.hpp"
#include "catch.hpp"
#include "counting_new.hpp"
#include "onnx_fixtures.hpp"
#include "pool_only.hpp"
#include "small_cnn.hpp"
#include "tiny_mlp.hpp"  // in namespace models::nn, where an unqualified nn:: would find it, not nn

namespace {

using namespace onnx_fixtures;
static_assert(std::is_same_v<small::network, small_cnn>);
static_assert(std::is_same_v<bn::network, bn_cnn>);
static_assert(std::is_same_v<pool::network, nn::sequential<nn::input<1, 4, 4>, nn::max_pool<2>>>);
static_assert(std::is_same_v<models::nn::network, ::nn::sequential<::nn::input<4>, ::nn::dense<3, ::nn::sigmoid>,
                                                                    ::nn::dense<2, ::nn::softmax>>>);

template <class Net, class View>
void check(const View& view, const std::string& file, const std::vector<float>& torch) {
  Net loaded;
  nn::load_onnx(loaded, dir + file);
  REQUIRE(std::ranges::equal(view.parameters(), loaded.parameters()));  // padding included
  constexpr std::size_t out = Net::outputs;
  for (int s = 0; s < 2; ++s) {
    const auto x = exact_input(Net::inputs, s);
    const std::size_t before = counting_new::allocations.load();
    const auto y = view.feedforward(std::span<const float, Net::inputs>(x.data(), Net::inputs));
    CHECK(counting_new::allocations.load() == before);
    const auto expected = loaded.feedforward(x);
    for (std::size_t o = 0; o < out; ++o) {
      REQUIRE(y[o] == expected[o]);
      if (!torch.empty()) CHECK(y[o] == Approx(torch[static_cast<std::size_t>(s) * out + o]).epsilon(2e-6));
    }
  }
}

}  // namespace

TEST_CASE("nn-onnx header: the type, parameters and outputs of load_onnx, with no heap", "[onnx]") {
  check<small_cnn>(small::load(), "small_cnn.onnx", small_cnn_torch);
  check<bn_cnn>(bn::load(), "bn_cnn.onnx", bn_cnn_torch);
  // A network without parameters; one in a namespace of the user's called nn.
  check<pool::network>(pool::load(), "pool_only.onnx", pool_only_torch);
  check<models::nn::network>(models::nn::load(), "tiny_mlp.onnx", {});  // (PyTorch's outputs: tests/onnx_test.cpp)
  // An owning copy, to train further or to save.
  const small_cnn copy = small::load().network();
  REQUIRE(std::ranges::equal(copy.parameters(), small::parameters));
}
