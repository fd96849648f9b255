// Writes each fuzz target's seed corpus: small good files of every kind, and a few broken ones, in the
// form the target reads (its mode byte first). Usage: fuzz_seeds DIR; DIR/<target>/ gets the seeds.
#include <nn/detail/onnx_proto.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checkpoint_run.hpp"
#include "idx_reference.hpp"
#include "quantized_run.hpp"

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  std::string s = be32(2051) + be32(count) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) s += static_cast<char>(i * 37);
  return s;
}

std::string labels(std::uint32_t count) {
  std::string s = be32(2049) + be32(count);
  for (std::uint32_t i = 0; i < count; ++i) s += static_cast<char>(i % 10);
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path dir = argv[1];
  int n = 0;
  const auto seed = [&](const std::string& target, const std::string& bytes) {
    fs::create_directories(dir / target);
    std::ofstream(dir / target / ("seed" + std::to_string(n++)), std::ios::binary) << bytes;
  };
  const std::string mode0(1, '\0');

  const std::vector<std::string> idx = {images(3, 2, 2), labels(3), images(1, 28, 28), labels(0), images(2, 1, 3).substr(0, 17),
                                        be32(0x801) + be32(4) + "abcd", images(0, 5, 5), labels(12) + "x"};
  for (const auto& f : idx) {
    seed("idx", f);
    seed("idx", fuzz::gzip(f));
    seed("idx_gzip", mode0 + '\0' + f);
    seed("idx_gzip", std::string(1, 2) + '\x80' + f);
    seed("idx_gzip", std::string(1, 1) + fuzz::gzip(f));
  }
  seed("idx_gzip", std::string(1, 4) + '\0' + labels(5));
  for (int mode = 0; mode < 4; ++mode)
    for (std::uint32_t count : {0u, 1u, 3u}) {
      const std::string im = images(count, 2, 3), lb = labels(count);
      seed("idx_stream", std::string(1, static_cast<char>(mode)) + static_cast<char>(im.size() & 255) +
                             static_cast<char>(im.size() >> 8) + im + lb);
    }

  const std::vector<std::string> csv = {
      "a,\"b, quoted\",c\r\n1,2.5,-3e2\r\n\"4\",+5,6\n7,8,9",
      "x,y\n1,\n,2\n3,4\n",
      "\xEF\xBB\xBFx\n1\n\n2\n\n",
      "a,b\n\"1\"\"\",2\n\"3\n\",4\n",
      "price,rooms\n1e300,inf\nNaN,NA\n-0,+7\n",
      "one\n\n\n",
      "a;b\n1;2\n",
      "",
  };
  for (const auto& f : csv)
    for (char mode : {'\0', '\1', '\4'}) seed("csv", std::string(1, mode) + f);

  const std::string tmp = (dir / "net.tmp").string();
  nn::network<4, 3, 2> net(1);
  nn::save_parameters(net, tmp);
  const std::string v3 = slurp(tmp);
  nn::network<4, 5, 2> other(2);
  nn::save_parameters(other, tmp);
  const std::string other_v3 = slurp(tmp);
  fs::remove(tmp);
  for (const auto& f : {v3, other_v3}) {
    seed("params", mode0 + f);
    seed("params", std::string(1, 1) + f);
    seed("params", std::string(1, 1) + f.substr(0, f.size() / 2));
  }
  // Checkpoints of fuzz_checkpoint's run (Adam, dropout, early stopping): at the start and after epoch 1.
  for (const std::size_t epochs : {0, 1}) {
    const std::string ckpt = (dir / "run.ckpt").string();
    fuzz::checkpoint_net small(7);
    auto t = fuzz::checkpoint_trainer(ckpt, epochs);
    t.fit(small, fuzz::checkpoint_data(), fuzz::checkpoint_data());
    const std::string f = slurp(ckpt);
    fs::remove(ckpt);
    seed("checkpoint", mode0 + f);
    seed("checkpoint", std::string(1, 1) + f);
    seed("checkpoint", std::string(1, 1) + f.substr(0, f.size() / 2));
  }
  // fuzz_quantized's network, saved.
  {
    const std::string qfile = (dir / "net.nni8").string();
    nn::save_quantized(fuzz::quantized_example(), qfile);
    const std::string f = slurp(qfile);
    fs::remove(qfile);
    seed("quantized", mode0 + f);
    seed("quantized", std::string(1, 1) + f);
    seed("quantized", std::string(1, 1) + f.substr(0, f.size() / 2));
  }
  // A version 2 file of the 4-3-2 network, as docs/file-format.md describes it.
  std::vector<std::uint8_t> v2{'n', 'n', 'p', 'a', 'r', 'a', 'm', 's'};
  nn::detail::put_le<std::uint32_t>(v2, 2);
  nn::detail::put_le<std::uint32_t>(v2, 4);
  nn::detail::put_le<std::uint32_t>(v2, 3);
  for (std::uint32_t s : {4u, 3u, 2u}) nn::detail::put_le<std::uint32_t>(v2, s);
  for (const std::string name : {"sigmoid", "sigmoid"}) {
    nn::detail::put_le<std::uint32_t>(v2, static_cast<std::uint32_t>(name.size()));
    v2.insert(v2.end(), name.begin(), name.end());
  }
  for (std::size_t l = 0; l < 2; ++l) {
    for (std::size_t j = 0; j < net.sizes[l + 1]; ++j)
      for (std::size_t k = 0; k < net.sizes[l]; ++k) nn::detail::put_le<float>(v2, net.weight(l, j, k));
    for (std::size_t j = 0; j < net.sizes[l + 1]; ++j) nn::detail::put_le<float>(v2, net.bias(l, j));
  }
  nn::detail::put_le<std::uint64_t>(v2, nn::detail::fnv1a(v2.data(), v2.size()));
  seed("params", std::string(1, 1) + std::string(v2.begin(), v2.end()));
  // ONNX: the file PyTorch exported (tests/data/onnx), its first half, and nn's writing of it with a
  // convolution node added (ints and a tensor attribute).
  const std::string onnx = slurp(std::string(NN_TEST_DATA) + "/onnx/tiny_mlp.onnx");
  seed("onnx", onnx);
  seed("onnx", onnx.substr(0, onnx.size() / 2));
  for (const char* name : {"flatten_mlp", "small_cnn", "bn_cnn", "bn_cnn_fused"})
    seed("onnx", slurp(std::string(NN_TEST_DATA) + "/onnx/" + name + ".onnx"));
  auto model = nn::onnx::read_model({reinterpret_cast<const std::uint8_t*>(onnx.data()), onnx.size()}, "seed");
  nn::onnx::node conv;
  conv.op_type = "Conv";
  conv.inputs = {"x", "w"};
  conv.outputs = {"c"};
  conv.attributes.push_back({.name = "kernel_shape", .type = nn::onnx::attr_ints, .ints = {5, 5}});
  conv.attributes.push_back({.name = "value", .type = nn::onnx::attr_tensor, .t = {model.main.initializers.front()}});
  model.main.nodes.push_back(conv);
  seed("onnx", nn::onnx::write_model(model));
  std::printf("fuzz_seeds: %d seeds in %s\n", n, dir.c_str());
  return 0;
}
