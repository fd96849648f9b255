// What tests/onnx_pytorch.py and its programs (onnx_check, onnx_header_run) pass each other: raw
// little-endian float32 values, sample after sample. run_samples reads the inputs, writes every sample's
// outputs through `net` (a network or an nn::network_view) and returns the program's exit status.
#pragma once

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

template <class Net>
int run_samples(const Net& net, const std::string& inputs, const std::string& outputs) {
  constexpr std::size_t n_in = Net::inputs;
  std::ifstream in(inputs, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in || bytes.size() % (n_in * 4) != 0) {
    std::fprintf(stderr, "%s: expected whole samples of %zu float32 values\n", inputs.c_str(), n_in);
    return 1;
  }
  std::vector<float> x(bytes.size() / 4), y;
  std::memcpy(x.data(), bytes.data(), bytes.size());
  for (std::size_t s = 0; s < x.size() / n_in; ++s) {
    const auto out = net.feedforward(std::span<const float, n_in>(x.data() + s * n_in, n_in));
    y.insert(y.end(), out.begin(), out.end());
  }
  std::ofstream(outputs, std::ios::binary).write(reinterpret_cast<const char*>(y.data()), std::streamsize(y.size() * 4));
  return 0;
}
