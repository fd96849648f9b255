// libFuzzer target: any bytes as a network file, for nn::load_parameters (into a 4-3-2 float network)
// and nn::read_parameter_sizes. With the first byte's bit 0 set, the target writes a correct checksum
// over the rest first, so the fuzzer explores the structure behind it. A file that loads must hold a
// 4-3-2 network, and save and load back to the same parameters (a round trip); a file that does not
// must leave the network as it was. A file read_parameter_sizes refuses (which hashes values without
// keeping them) must fail to load with the same message (which keeps them).
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <cstring>
#include <vector>

#include "fuzz.hpp"

namespace {

using net_t = nn::network<4, 3, 2>;

std::vector<float> parameters(const net_t& n) {
  std::vector<float> v;
  for (std::size_t l = 0; l < net_t::layer_count; ++l)
    for (std::size_t j = 0; j < net_t::sizes[l + 1]; ++j) {
      for (std::size_t k = 0; k < net_t::sizes[l]; ++k) v.push_back(n.weight(l, j, k));
      v.push_back(n.bias(l, j));
    }
  return v;
}

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::uint8_t mode = fuzz::take(in);
  std::string bytes(in);
  if ((mode & 1) && bytes.size() >= 16) {
    const std::uint64_t h = nn::detail::fnv1a(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size() - 8);
    for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + static_cast<std::size_t>(i)] = static_cast<char>(h >> (8 * i));
  }
  const std::string path = fuzz::file("net.nnp", bytes);

  const auto sizes = fuzz::run([&] { return nn::read_parameter_sizes(path); });
  net_t net(7);
  const auto before = parameters(net);
  const auto loaded = fuzz::run([&] {
    nn::load_parameters(net, path);
    return true;
  });
  if (!sizes.ok())
    fuzz::check(!loaded.ok() && loaded.error == sizes.error,
                "read_parameter_sizes refuses a file that load_parameters reads otherwise", sizes.error,
                loaded.ok() ? "loaded" : loaded.error);
  if (!loaded.ok()) {
    fuzz::check(same(parameters(net), before), "a file that failed to load changed the network", loaded.error);
    return 0;
  }
  fuzz::check(sizes.ok() && *sizes.value == std::vector<std::uint32_t>{4, 3, 2},
              "a file loads into a 4-3-2 network, but read_parameter_sizes disagrees", sizes.ok() ? "sizes read" : sizes.error);
  const std::string again = fuzz::file("net2.nnp", "");
  nn::save_parameters(net, again);
  net_t copy(8);
  nn::load_parameters(copy, again);
  fuzz::check(same(parameters(copy), parameters(net)), "save and load do not round-trip the loaded parameters");
  return 0;
}
