// Saving and loading a whole network: sizes, element type, activations and parameters. Format version 2
// (docs/file-format.md), all integers little-endian:
//   "nnparams" (8 bytes) | u32 version = 2 | u32 bytes per value (4 float, 8 double) | u32 n sizes |
//   u32 sizes[n] | hidden activation name, output activation name (each u32 length + ASCII) |
//   per layer: weights w[j][k] neuron by neuron (the course's order), then biases b[j] |
//   u64 FNV-1a hash of every byte before it.
// Version 1 files (no names) still load. save_parameters writes a temporary file and renames it, so a
// crash never leaves half a file.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nn/activation.hpp"
#include "nn/data/error.hpp"

namespace nn {

namespace detail {

inline constexpr char params_magic[8] = {'n', 'n', 'p', 'a', 'r', 'a', 'm', 's'};
inline constexpr std::uint32_t params_version = 2;

inline std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

template <class U>
void put_le(std::vector<std::uint8_t>& out, U v) {
  std::uint8_t b[sizeof(U)];
  std::memcpy(b, &v, sizeof(U));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(U));
  out.insert(out.end(), b, b + sizeof(U));
}

template <class U>
U get_le(const std::vector<std::uint8_t>& in, std::size_t at) {
  std::uint8_t b[sizeof(U)];
  std::memcpy(b, in.data() + at, sizeof(U));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(U));
  U v;
  std::memcpy(&v, b, sizeof(U));
  return v;
}

inline std::string sizes_text(const std::vector<std::uint32_t>& s) {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) t += '-';
    t += std::to_string(s[i]);
  }
  return t;
}

}  // namespace detail

template <class Net>
void save_parameters(const Net& net, const std::string& path) {
  using T = typename Net::value_type;
  std::vector<std::uint8_t> out(detail::params_magic, detail::params_magic + 8);
  detail::put_le<std::uint32_t>(out, detail::params_version);
  detail::put_le<std::uint32_t>(out, sizeof(T));
  detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(Net::sizes.size()));
  for (std::size_t s : Net::sizes) detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(s));
  for (const std::string& name : {detail::activation_name<typename Net::hidden_activation>(),
                                  detail::activation_name<typename Net::output_activation>()}) {
    detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
  }
  for (std::size_t l = 0; l < Net::layer_count; ++l) {
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j)
      for (std::size_t k = 0; k < Net::sizes[l]; ++k) detail::put_le<T>(out, net.weight(l, j, k));
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j) detail::put_le<T>(out, net.bias(l, j));
  }
  detail::put_le<std::uint64_t>(out, detail::fnv1a(out.data(), out.size()));

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw data_error(path, data_error::no_offset, "cannot create the temporary file " + tmp);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) throw data_error(path, data_error::no_offset, "writing " + tmp + " failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw data_error(path, data_error::no_offset, "cannot rename " + tmp + " into place: " + ec.message());
}

// The layer sizes stored in a parameter file's header (e.g. {784, 30, 10}), to choose the network type
// before loading it.
inline std::vector<std::uint32_t> read_parameter_sizes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw data_error(path, data_error::no_offset, "no such file (expected saved nn parameters)");
  std::vector<std::uint8_t> head(20);
  f.read(reinterpret_cast<char*>(head.data()), 20);
  if (f.gcount() < 20 || std::memcmp(head.data(), detail::params_magic, 8) != 0)
    throw data_error(path, 0, "not an nn parameter file: expected magic \"nnparams\" and a 20-byte header");
  const auto n = detail::get_le<std::uint32_t>(head, 16);
  if (n < 2 || n > 1024) throw data_error(path, 16, "expected 2 to 1024 layer sizes, found " + std::to_string(n));
  std::vector<std::uint8_t> body(4 * std::size_t{n});
  f.read(reinterpret_cast<char*>(body.data()), static_cast<std::streamsize>(body.size()));
  if (static_cast<std::size_t>(f.gcount()) != body.size())
    throw data_error(path, 20, "truncated: expected " + std::to_string(n) + " layer sizes");
  std::vector<std::uint32_t> sizes(n);
  for (std::size_t i = 0; i < n; ++i) sizes[i] = detail::get_le<std::uint32_t>(body, 4 * i);
  return sizes;
}

// Loads parameters saved by save_parameters into `net`, whose sizes and element type must match the file's.
template <class Net>
void load_parameters(Net& net, const std::string& path) {
  using T = typename Net::value_type;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw data_error(path, data_error::no_offset, "no such file (expected saved nn parameters)");
  const std::vector<std::uint8_t> in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto need = [&](std::size_t at, std::size_t n, const char* what) {
    if (in.size() < at + n)
      throw data_error(path, in.size(), std::string("truncated: expected ") + what + ", found the end of the file");
  };
  need(0, 8, "the 8-byte magic \"nnparams\"");
  if (std::memcmp(in.data(), detail::params_magic, 8) != 0)
    throw data_error(path, 0, "not an nn parameter file: expected magic \"nnparams\"");
  need(8, 12, "version, value size and layer count");
  const auto version = detail::get_le<std::uint32_t>(in, 8);
  if (version != 1 && version != detail::params_version)
    throw data_error(path, 8, "unsupported version: expected 1 or " + std::to_string(detail::params_version) +
                                  ", found " + std::to_string(version));
  const auto value_size = detail::get_le<std::uint32_t>(in, 12);
  if (value_size != 4 && value_size != 8)
    throw data_error(path, 12, "expected 4 or 8 bytes per value (float or double), found " + std::to_string(value_size));
  const auto n = detail::get_le<std::uint32_t>(in, 16);
  if (n < 2 || n > 1024) throw data_error(path, 16, "expected 2 to 1024 layer sizes, found " + std::to_string(n));
  need(20, 4 * std::size_t{n}, "the layer sizes");
  std::vector<std::uint32_t> sizes(n), want(Net::sizes.begin(), Net::sizes.end());
  for (std::size_t i = 0; i < n; ++i) sizes[i] = detail::get_le<std::uint32_t>(in, 20 + 4 * i);
  std::size_t at = 20 + 4 * std::size_t{n};
  // Version 2: the activations' names, hidden then output.
  std::string names[2];
  std::size_t names_at = at;
  const char* role[2] = {"hidden", "output"};
  for (int i = 0; version >= 2 && i < 2; ++i) {
    need(at, 4, "the length of an activation's name");
    const auto len = detail::get_le<std::uint32_t>(in, at);
    if (len == 0 || len > 64)
      throw data_error(path, at, std::string("expected the ") + role[i] + " activation's name (1 to 64 bytes), found a "
                                 "length of " + std::to_string(len));
    need(at + 4, len, "an activation's name");
    names[i].assign(reinterpret_cast<const char*>(in.data() + at + 4), len);
    at += 4 + len;
  }
  // The length the file's own header implies, then the checksum, before anything is compared with the
  // network (a corrupted byte is reported as corruption).
  long double values = 0;
  for (std::size_t l = 0; l + 1 < n; ++l) values += (static_cast<long double>(sizes[l]) + 1) * sizes[l + 1];
  const long double expected = static_cast<long double>(at) + values * value_size + 8;
  if (static_cast<long double>(in.size()) < expected)
    throw data_error(path, in.size(), "truncated: the header promises " +
                                          (expected < 1e18L ? std::to_string(static_cast<unsigned long long>(expected))
                                                            : std::string("more than 10^18")) +
                                          " bytes, found the end of the file");
  if (static_cast<long double>(in.size()) > expected)
    throw data_error(path, static_cast<std::size_t>(expected), "expected the end of the file, found more bytes");
  const std::size_t sum_at = in.size() - 8;
  if (detail::get_le<std::uint64_t>(in, sum_at) != detail::fnv1a(in.data(), sum_at))
    throw data_error(path, sum_at, "checksum mismatch: the file is corrupted");
  if (value_size != sizeof(T))
    throw data_error(path, 12, "values of " + std::to_string(value_size) + " bytes, but the network's are " +
                                   std::to_string(sizeof(T)) + " (float 4, double 8)");
  if (sizes != want)
    throw data_error(path, 20, "the file holds a " + detail::sizes_text(sizes) + " network, expected " +
                                   detail::sizes_text(want));
  const std::string want_names[2] = {detail::activation_name<typename Net::hidden_activation>(),
                                     detail::activation_name<typename Net::output_activation>()};
  for (int i = 0; version >= 2 && i < 2; ++i) {
    if (names[i] != want_names[i])
      throw data_error(path, names_at, std::string("the file's network has ") + role[i] + " activation " + names[i] +
                                           ", expected " + want_names[i]);
    names_at += 4 + names[i].size();
  }
  Net loaded;
  for (std::size_t l = 0; l < Net::layer_count; ++l) {
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j)
      for (std::size_t k = 0; k < Net::sizes[l]; ++k, at += sizeof(T)) loaded.weight(l, j, k) = detail::get_le<T>(in, at);
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j, at += sizeof(T)) loaded.bias(l, j) = detail::get_le<T>(in, at);
  }
  net = std::move(loaded);
}

}  // namespace nn
