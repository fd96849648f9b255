// tests/onnx_pytorch.py compiles this with a header nn-onnx wrote (NN_MODEL_HEADER, namespace model):
//   onnx_header_run inputs.f32 outputs.f32   every sample's outputs through model::load(), no file read
#include NN_MODEL_HEADER

#include <cstdio>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: onnx_header_run inputs.f32 outputs.f32\n");
    return 2;
  }
  constexpr std::size_t n_in = model::network::inputs;
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in || bytes.size() % (n_in * 4) != 0) {
    std::fprintf(stderr, "%s: expected whole samples of %zu float32 values\n", argv[1], n_in);
    return 1;
  }
  std::vector<float> x(bytes.size() / 4), y;
  std::copy_n(reinterpret_cast<const float*>(bytes.data()), x.size(), x.begin());
  constexpr auto net = model::load();
  for (std::size_t s = 0; s < x.size() / n_in; ++s) {
    const auto out = net.feedforward(std::span<const float, n_in>(x.data() + s * n_in, n_in));
    y.insert(y.end(), out.begin(), out.end());
  }
  std::ofstream(argv[2], std::ios::binary).write(reinterpret_cast<const char*>(y.data()), std::streamsize(y.size() * 4));
  return 0;
}
