// libFuzzer target: any bytes as an ONNX file, for nn::onnx::read_model (nn/detail/onnx_proto.hpp) and
// nn::load_onnx (into the networks of tests/data/onnx: tiny_mlp, flatten_mlp and bn_cnn), and
// nn::describe_onnx (nn-onnx's reader, where the file gives every size). Every input must give a model
// or an nn::data_error. A model read from it, written by nn, must read back, and writing that again must
// give the same bytes: what nn writes is a fixed point of reading and writing. A file that fails to load
// leaves the network as it was.
#include <nn/detail/onnx_proto.hpp>
#include <nn/network.hpp>
#include <nn/onnx.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string name = "model.onnx";
  const auto model = fuzz::run([&] { return nn::onnx::read_model({data, size}, name); });
  if (!model.ok()) return 0;
  const std::string once = nn::onnx::write_model(*model.value);
  const std::vector<std::uint8_t> bytes(once.begin(), once.end());
  const auto again = fuzz::run([&] { return nn::onnx::read_model(bytes, "written.onnx"); });
  fuzz::check(again.ok(), "a model nn wrote does not read back", again.ok() ? "" : again.error);
  fuzz::check(nn::onnx::write_model(*again.value) == once, "writing a model nn wrote and read back changes its bytes");

  const std::string path = fuzz::file("model.onnx", {reinterpret_cast<const char*>(data), size});
  auto load = [&](auto net) {
    const auto before = net;
    const auto loaded = fuzz::run([&] {
      nn::load_onnx(net, path);
      return true;
    });
    if (!loaded.ok()) fuzz::check(net == before, "a file that failed to load changed the network", loaded.error);
  };
  const auto described = fuzz::run([&] { return nn::describe_onnx(path); });
  if (described.ok()) {
    const auto& d = *described.value;
    fuzz::check(d.layers.size() == d.values.size() && !d.type_text().empty(), "describe_onnx: layers without values");
  }
  load(nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>>(1));
  load(nn::sequential<nn::input<1, 2, 3>, nn::flatten, nn::dense<3, nn::relu>, nn::dense<2, nn::identity>>(1));
  load(nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::identity, 1, nn::padding::same>,
                      nn::batch_norm<nn::relu>, nn::avg_pool<2>, nn::conv2d<2, 3, 3, nn::tanh, 2, nn::padding::same>,
                      nn::flatten, nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>(1));
  return 0;
}
