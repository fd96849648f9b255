// The flash and RAM one sample's inference needs (docs/onnx.md): for each network, the bytes of its
// parameters as laid out for this machine (what nn-onnx's header keeps in read-only storage) and the
// deepest stack of one nn::network_view::feedforward, measured by painting the stack before the call and
// looking for the deepest byte it changed. Heap: none (tests/network_view_test.cpp counts operator new).
//   build/release/benchmarks/footprint
#include <nn/network.hpp>

#include <cstdio>
#include <span>

namespace {

constexpr std::size_t painted = 1 << 21;  // 2 MiB, below the caller's frame

[[gnu::noinline]] void paint() {
  volatile unsigned char stack[painted];
  for (std::size_t i = 0; i < painted; ++i) stack[i] = 0xA5;
  asm volatile("" : : "r"(stack) : "memory");  // the bytes are meant for deepest()
}
[[gnu::noinline]] std::size_t deepest() {
  volatile unsigned char stack[painted];
  std::size_t i = 0;
  while (i < painted && stack[i] == 0xA5) ++i;
  return painted - i;
}

template <class Net>
[[gnu::noinline]] float one_sample(const nn::network_view<Net>& view, const float* x) {
  return view.feedforward(std::span<const float, Net::inputs>(x, Net::inputs))[0];
}

template <class Net>
void measure(const char* name) {
  static const Net net(1, nn::scaled_normal_init{});
  static float x[Net::inputs] = {};
  const nn::network_view<Net> view(net);
  paint();
  const float y = one_sample(view, x);
  const std::size_t stack = deepest();
  std::printf("%-44s %9zu parameters %10zu bytes of parameters %8zu bytes of stack  (y[0] %.3g)\n", name,
              Net::parameter_count, sizeof(nn::parameter_array<Net>), stack, static_cast<double>(y));
}

}  // namespace

int main() {
  measure<nn::network<784, 30, 10>>("784-30-10 sigmoid (the course's)");
  measure<nn::sequential<nn::input<64>, nn::dense<64, nn::tanh>, nn::dense<64, nn::tanh>>>("64-64-64 tanh");
  measure<nn::sequential<nn::input<784>, nn::dense<512, nn::relu>, nn::dense<256, nn::relu>, nn::dense<10, nn::softmax>>>(
      "784-512-256-10 relu/softmax");
  measure<nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                         nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>>("chapter 6: conv 20 5x5, max-pool 2, 100, 10");
}
