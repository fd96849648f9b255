// tests/onnx_pytorch.py compiles this with a header nn-onnx wrote (NN_MODEL_HEADER, namespace model):
//   onnx_header_run inputs.f32 outputs.f32   every sample's outputs through model::load(), no file read
#include NN_MODEL_HEADER

#include <cstdio>

#include "f32_samples.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: onnx_header_run inputs.f32 outputs.f32\n");
    return 2;
  }
  constexpr auto net = model::load();
  return run_samples(net, argv[1], argv[2]);
}
