// The IDX loaders against the reference (idx_reference.hpp), for the targets fuzz_idx and fuzz_idx_gzip:
// read_idx on the file, and load_idx / load_idx_bytes with a partner file made to match it.
#pragma once

#include <nn/data/idx.hpp>

#include <cstring>
#include <string>
#include <string_view>

#include "fuzz.hpp"
#include "idx_reference.hpp"

namespace fuzz {

inline std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// `file` (the bytes on disk) read by nn's loaders, against the reference's reading of it.
inline void check_idx_file(std::string_view file, const std::string& name) {
  const std::string path = fuzz::file(name, file);
  const std::optional<std::string> content = gunzip_all(file);
  const std::optional<idx_file> ref = content ? parse_idx(*content) : std::nullopt;

  const auto got = run([&] { return nn::read_idx(path); });
  check(got.ok() == ref.has_value(), "read_idx and the reference disagree on whether the file is good",
        got.ok() ? "read_idx: good" : "read_idx: " + got.error, ref ? "reference: good" : "reference: bad");
  if (!ref) return;
  check(got.value->magic == ref->magic && got.value->dims == ref->dims &&
            std::string_view(reinterpret_cast<const char*>(got.value->data.data()), got.value->data.size()) == ref->values,
        "read_idx and the reference read different values");

  // As images (2051, 3 dimensions) with made-up labels, or as labels (2049, 1 dimension) with made-up
  // 1x1 images: load_idx_bytes and load_idx must give the reference's pixels and labels.
  const bool images = ref->magic == 2051 && ref->dims.size() == 3, labels = ref->magic == 2049 && ref->dims.size() == 1;
  if (!images && !labels) return;
  const std::uint32_t count = ref->dims[0];
  if (count > (1u << 20)) return;  // a partner file that large would only slow the run down
  std::string partner;
  if (images) {
    partner = be32(2049) + be32(count);
    for (std::uint32_t i = 0; i < count; ++i) partner += static_cast<char>(i % 10);
  } else {
    partner = be32(2051) + be32(count) + be32(1) + be32(1);
    for (std::uint32_t i = 0; i < count; ++i) partner += static_cast<char>(i);
  }
  const std::string partner_path = fuzz::file(name + ".partner", partner);
  const std::string& images_path = images ? path : partner_path;
  const std::string& labels_path = images ? partner_path : path;
  const std::string& pixels = images ? ref->values : partner.substr(16);
  const std::string& label_bytes = images ? partner.substr(8) : ref->values;
  const std::size_t per = pixels.size() / (count ? count : 1);
  bool labels_ok = true;
  for (char c : label_bytes) labels_ok &= static_cast<unsigned char>(c) < 10;
  const bool good = labels_ok && (!images || std::uint64_t{ref->dims[1]} * ref->dims[2] > 0);

  const auto bytes = run([&] { return nn::load_idx_bytes(images_path, labels_path); });
  check(bytes.ok() == good, "load_idx_bytes and the reference disagree on whether the pair is good",
        bytes.ok() ? "load_idx_bytes: good" : bytes.error, good ? "reference: good" : "reference: bad");
  const auto floats = run([&] { return nn::load_idx(images_path, labels_path); });
  check(floats.ok() == good, "load_idx and load_idx_bytes disagree", floats.ok() ? "good" : floats.error,
        bytes.ok() ? "good" : bytes.error);
  if (!good) {
    check(floats.error == bytes.error, "load_idx and load_idx_bytes give different errors", floats.error, bytes.error);
    return;
  }
  check(bytes.value->size() == count && floats.value->size() == count, "a loader has the wrong number of examples");
  for (std::size_t i = 0; i < count; ++i) {
    const auto in = bytes.value->input(i);
    check(in.size() == per && std::memcmp(in.data(), pixels.data() + i * per, per) == 0, "load_idx_bytes: wrong pixels");
    check(bytes.value->label(i) == static_cast<unsigned char>(label_bytes[i]), "load_idx_bytes: wrong label");
    const auto x = floats.value->input(i);
    const auto y = floats.value->target(i);
    for (std::size_t k = 0; k < per; ++k)
      check(x[k] == static_cast<float>(static_cast<unsigned char>(pixels[i * per + k])) / 255.0f, "load_idx: wrong pixel");
    for (std::size_t c = 0; c < 10; ++c)
      check(y[c] == (c == static_cast<unsigned char>(label_bytes[i]) ? 1.0f : 0.0f), "load_idx: wrong target");
  }
}

}  // namespace fuzz
