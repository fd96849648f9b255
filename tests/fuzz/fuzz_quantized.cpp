// libFuzzer target: any bytes as a quantized network's file (nn::load_quantized, nn/quantize.hpp), loaded into
// a network of a float convolution and two int8 dense layers. With the first byte's bit 0 set, the target
// writes a correct header length and hash over the rest first, so the fuzzer explores the contents behind
// them. A file must either load, and the network then infer (forged but valid scales and weights may give
// any outputs), or be a data_error that leaves the network as it was; never a crash, a hang or a huge
// allocation.
#include <cstring>

#include "fuzz.hpp"
#include "quantized_run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data_in, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data_in), size);
  const std::uint8_t mode = fuzz::take(in);
  std::string bytes(in);
  if (mode & 1) fuzz::seal(bytes);
  const std::string path = fuzz::file("net.nni8", bytes);
  static const auto example = fuzz::quantized_example();
  auto q = example;
  const auto x = fuzz::quantized_sample(1);
  const auto before = q.feedforward(x);
  const auto loaded = fuzz::run([&] {
    nn::load_quantized(q, path);
    return true;
  });
  const auto after = q.feedforward(x);
  if (!loaded.ok()) fuzz::check(std::memcmp(&after, &before, sizeof after) == 0, "a file that failed to load changed the network", loaded.error);
  return 0;
}
