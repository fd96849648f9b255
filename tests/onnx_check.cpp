// nn's side of tests/onnx_pytorch.py, for the three networks the issue names (course, wide, ch6a) and one
// with padding, stride, batch norm and average pooling (padded):
//   onnx_check run  NET model.onnx inputs.f32 outputs.f32   load_onnx, then every sample's outputs
//   onnx_check save NET model.onnx out.onnx                 load_onnx, then save_onnx
//   onnx_check make NET SEED out.onnx                       nn's own initial weights (N(0, 1/fan-in)), written
//                                                           by save_onnx
//   onnx_check quantize NET SEED in.f32 out.onnx out.f32    those weights quantized to int8 (nn::quantize,
//                                                           calibrated on the inputs), written by save_onnx
//                                                           (QDQ), and their int8 outputs
// .f32 files are raw little-endian float32 values, sample after sample.
#include <nn/network.hpp>
#include <nn/onnx.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <exception>
#include <string>
#include <vector>

#include "f32_samples.hpp"

namespace {

using course = nn::network<784, 30, 10>;  // the book's chapter 1: sigmoid, sigmoid
using wide = nn::sequential<nn::input<784>, nn::dense<512, nn::relu>, nn::dense<256, nn::relu>, nn::dense<10, nn::softmax>>;
using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                            nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
using padded = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<8, 3, 3>, nn::batch_norm<nn::relu>, nn::avg_pool<2>,
                              nn::conv2d<8, 3, 3, nn::tanh, 2, nn::padding::same>, nn::flatten, nn::dense<10, nn::softmax>>;

template <class Net>
int run(const std::vector<std::string>& a) {
  if (a[0] == "quantize") {
    const Net net(static_cast<std::uint64_t>(std::stoull(a[2])), nn::scaled_normal_init{});
    std::ifstream in(a[3], std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    nn::dataset<float> calibration(Net::inputs, Net::outputs);
    const std::vector<float> target(Net::outputs, 0.0f);
    for (std::size_t s = 0; s + Net::inputs * 4 <= bytes.size(); s += Net::inputs * 4) {
      std::vector<float> x(Net::inputs);
      std::memcpy(x.data(), bytes.data() + s, Net::inputs * 4);
      calibration.add(x, target);
    }
    const auto q = nn::quantize(net, calibration);
    nn::save_onnx(q, a[4]);
    return run_samples(q, a[3], a[5]);
  }
  if (a[0] == "make") {
    nn::save_onnx(Net(static_cast<std::uint64_t>(std::stoull(a[2])), nn::scaled_normal_init{}), a[3]);
    return 0;
  }
  Net net(1);
  nn::load_onnx(net, a[2]);
  if (a[0] == "save") {
    nn::save_onnx(net, a[3]);
    return 0;
  }
  return run_samples(net, a[3], a[4]);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() < 4 || (a[0] == "run" && a.size() < 5) || (a[0] == "quantize" && a.size() < 6) ||
      (a[0] != "run" && a[0] != "save" && a[0] != "make" && a[0] != "quantize")) {
    std::fprintf(stderr, "usage: onnx_check {run NET model in.f32 out.f32 | save NET model out | make NET SEED out | "
                         "quantize NET SEED in.f32 out.onnx out.f32}\n");
    return 2;
  }
  try {
    if (a[1] == "course") return run<course>(a);
    if (a[1] == "wide") return run<wide>(a);
    if (a[1] == "ch6a") return run<ch6a>(a);
    if (a[1] == "padded") return run<padded>(a);
    std::fprintf(stderr, "onnx_check: no network '%s' (course, wide, ch6a, padded)\n", a[1].c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_check: %s\n", e.what());
    return 1;
  }
}
