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
#include "pool_only.hpp"
#include "small_cnn.hpp"
#include "tiny_mlp.hpp"  // in namespace models::nn, where an unqualified nn:: would find it, not nn

namespace {

using small_cnn = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                                 nn::dense<4, nn::softmax>>;
using bn_cnn = nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::identity, 1, nn::padding::same>,
                              nn::batch_norm<nn::relu>, nn::avg_pool<2>,
                              nn::conv2d<2, 3, 3, nn::tanh, 2, nn::padding::same>, nn::flatten,
                              nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>;
static_assert(std::is_same_v<small::network, small_cnn>);
static_assert(std::is_same_v<bn::network, bn_cnn>);
static_assert(std::is_same_v<pool::network, nn::sequential<nn::input<1, 4, 4>, nn::max_pool<2>>>);
static_assert(std::is_same_v<models::nn::network, ::nn::sequential<::nn::input<4>, ::nn::dense<3, ::nn::sigmoid>,
                                                                    ::nn::dense<2, ::nn::softmax>>>);

// As tests/onnx_test.cpp: sample s, value i is ((7 i + 3 s) mod 17 − 8) / 8, exact in float.
template <std::size_t N>
std::array<float, N> exact_input(int s) {
  std::array<float, N> x{};
  for (std::size_t i = 0; i < N; ++i) x[i] = static_cast<float>((7 * static_cast<int>(i) + 3 * s) % 17 - 8) / 8;
  return x;
}

template <class Net, class View>
void check(const View& view, const std::string& file, const std::vector<float>& torch) {
  Net loaded;
  nn::load_onnx(loaded, std::string(NN_TEST_DATA) + "/onnx/" + file);
  REQUIRE(std::ranges::equal(view.parameters(), loaded.parameters()));  // padding included
  constexpr std::size_t out = Net::outputs;
  for (int s = 0; s < 2; ++s) {
    const auto x = exact_input<Net::inputs>(s);
    const std::size_t before = counting_new::allocations.load();
    const auto y = view.feedforward(std::span<const float, Net::inputs>(x));
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
  check<small_cnn>(small::load(), "small_cnn.onnx",
                   {0.3494720458984375f, 0.26947760581970215f, 0.19590535759925842f, 0.1851450651884079f,
                    0.3525294065475464f, 0.2669088840484619f, 0.19444823265075684f, 0.18611346185207367f});
  check<bn_cnn>(bn::load(), "bn_cnn.onnx",
                {-0.1607893854379654f, 0.8125579953193665f, -0.1584036648273468f, -0.14870646595954895f,
                 0.792193591594696f, -0.12021249532699585f});
  // A network without parameters; one in a namespace of the user's called nn.
  check<pool::network>(pool::load(), "pool_only.onnx", {0.375f, 0.875f, 1.0f, 0.625f, 0.75f, 0.375f, 0.875f, 1.0f});
  check<models::nn::network>(models::nn::load(), "tiny_mlp.onnx", {});  // (PyTorch's outputs: tests/onnx_test.cpp)
  // An owning copy, to train further or to save.
  const small_cnn copy = small::load().network();
  REQUIRE(std::ranges::equal(copy.parameters(), small::parameters));
}
