// The IDX format of MNIST and Fashion-MNIST, plain or gzipped (detected from the content).
//   images: magic 2051, count, rows, cols (big-endian 32-bit), then count·rows·cols bytes;
//   labels: magic 2049, count, then count bytes.
// Not part of the umbrella header: it needs zlib (nn::nn links it).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <zlib.h>

#include "nn/data/dataset.hpp"
#include "nn/data/error.hpp"

namespace nn {

// The raw contents of one IDX file.
struct idx_array {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;  // e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;   // the values, row-major
};

namespace detail {

// The whole (decompressed) content of a file. Plain files pass through zlib unchanged.
inline std::vector<std::uint8_t> read_maybe_gz(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw data_error(path, data_error::no_offset, "no such file (expected an IDX file, plain or .gz)");
  if (std::filesystem::is_directory(path, ec))
    throw data_error(path, data_error::no_offset, "is a directory, expected an IDX file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw data_error(path, data_error::no_offset, std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      throw data_error(path, out.size(), "corrupt gzip data (zlib: " + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  int code = 0;
  const std::string msg = gzerror(f, &code);
  gzclose(f);
  // A gzip stream cut short reads as a clean end of data in some zlib versions but sets an error here.
  if (code != Z_OK && code != Z_STREAM_END)
    throw data_error(path, out.size(), "corrupt or truncated gzip data (zlib: " + msg + ")");
  return out;
}

inline std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace detail

// Reads an IDX file of unsigned bytes (type code 0x08). `expected_magic` (2051 images, 2049 labels) is
// checked when not 0. Offsets in errors count bytes of the decompressed content.
inline idx_array read_idx(const std::string& path, std::uint32_t expected_magic = 0) {
  const std::vector<std::uint8_t> bytes = detail::read_maybe_gz(path);
  if (bytes.empty()) throw data_error(path, 0, "the file is empty, expected an IDX header");
  if (bytes.size() < 4)
    throw data_error(path, bytes.size(), "truncated header: expected 4 bytes of magic number, found " +
                                             std::to_string(bytes.size()));
  idx_array a;
  a.magic = detail::big_endian_u32(bytes.data());
  const auto describe = [](std::uint32_t m) {
    return std::to_string(m) + (m == 2051 ? " (images)" : m == 2049 ? " (labels)" : "");
  };
  if (expected_magic && a.magic != expected_magic)
    throw data_error(path, 0, "wrong magic number: expected " + describe(expected_magic) + ", found " + describe(a.magic));
  if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] == 0 || bytes[3] > 4)
    throw data_error(path, 0, "not an IDX file of unsigned bytes: expected magic 0x000008NN, found " + describe(a.magic));
  const std::size_t rank = bytes[3];
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header)
    throw data_error(path, bytes.size(), "truncated header: expected " + std::to_string(header) + " bytes for " +
                                             std::to_string(rank) + " dimensions, found " + std::to_string(bytes.size()));
  std::size_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    a.dims.push_back(detail::big_endian_u32(bytes.data() + 4 + 4 * d));
    count *= a.dims.back();
  }
  const std::size_t have = bytes.size() - header;
  if (have < count)
    throw data_error(path, bytes.size(), "truncated data: expected " + std::to_string(count) + " bytes of values after the " +
                                             std::to_string(header) + "-byte header, found " + std::to_string(have));
  if (have > count)
    throw data_error(path, header + count, "expected the end of the file after " + std::to_string(count) +
                                               " values, found " + std::to_string(have - count) + " more bytes");
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

// Images scaled to [0, 1] and labels as one-hot targets of `classes` values, from an IDX image file and
// an IDX label file (plain or gzipped). `expected_inputs`, when given (e.g. a network's inputs), must
// equal rows·cols.
template <class T = float>
dataset<T> load_idx(const std::string& images_path, const std::string& labels_path, std::size_t classes = 10,
                    std::size_t expected_inputs = dynamic) {
  const idx_array images = read_idx(images_path, 2051);
  if (images.dims.size() != 3)
    throw data_error(images_path, 3, "expected 3 dimensions (count, rows, cols), found " + std::to_string(images.dims.size()));
  const idx_array labels = read_idx(labels_path, 2049);
  if (labels.dims.size() != 1)
    throw data_error(labels_path, 3, "expected 1 dimension (count), found " + std::to_string(labels.dims.size()));
  const std::size_t n = images.dims[0], pixels = std::size_t{images.dims[1]} * images.dims[2];
  if (labels.dims[0] != n)
    throw data_error(labels_path, 4, "expected " + std::to_string(n) + " labels, one per image of " + images_path +
                                         ", found " + std::to_string(labels.dims[0]));
  if (pixels == 0) throw data_error(images_path, 8, "images of 0 pixels");
  if (expected_inputs != dynamic && pixels != expected_inputs)
    throw data_error(images_path, 8, "images of " + std::to_string(images.dims[1]) + "x" + std::to_string(images.dims[2]) +
                                         " = " + std::to_string(pixels) + " pixels, but the network has " +
                                         std::to_string(expected_inputs) + " inputs");
  dataset<T> d(pixels, classes);
  d.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t label = labels.data[i];
    if (label >= classes)
      throw data_error(labels_path, 8 + i, "label of image " + std::to_string(i) + ": expected 0 to " +
                                               std::to_string(classes - 1) + ", found " + std::to_string(label));
    const std::uint8_t* px = images.data.data() + i * pixels;
    auto x = d.input(i);
    for (std::size_t k = 0; k < pixels; ++k) x[k] = static_cast<T>(px[k]) / T(255);
    d.target(i)[label] = T(1);
  }
  return d;
}

}  // namespace nn
