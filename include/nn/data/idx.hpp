// The IDX format of MNIST and Fashion-MNIST, plain or gzipped (detected from the content).
//   images: magic 2051, count, rows, cols (big-endian 32-bit), then count·rows·cols bytes;
//   labels: magic 2049, count, then count bytes.
// Not part of the umbrella header: it needs zlib (nn::nn links it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <zlib.h>

#include "nn/data/dataset.hpp"
#include "nn/data/error.hpp"
#include "nn/data/limits.hpp"
#include "nn/detail/content_reader.hpp"
#include "nn/detail/text.hpp"

namespace nn {

// The raw contents of one IDX file.
struct idx_array {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;  // e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;   // the values, row-major
};

namespace detail {

inline std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline std::string describe_magic(std::uint32_t m) {
  return std::to_string(m) + (m == 2051 ? " (images)" : m == 2049 ? " (labels)" : "");
}

// An IDX header: the magic number, the dimensions, its length in bytes and how many values follow.
struct idx_header {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;
  std::size_t bytes = 0, values = 1;
};

// The header's checks, once for the loader (a buffer) and the stream (zlib): `read(out, n)` gives up to
// n bytes of the file's content and returns how many it gave. `expected_magic` is checked when not 0; the
// type must be unsigned bytes (0x08); a forged product of dimensions that would wrap around is an error.
template <class Read>
idx_header read_idx_header(const std::string& path, std::uint32_t expected_magic, Read&& read) {
  std::uint8_t b[4 + 4 * 4] = {};
  const std::size_t got = read(b, 4);
  if (got == 0) throw data_error(path, 0, "the file is empty, expected an IDX header");
  if (got < 4) throw data_error(path, got, "truncated header: expected 4 bytes of magic number, found " + std::to_string(got));
  idx_header h;
  h.magic = big_endian_u32(b);
  if (expected_magic && h.magic != expected_magic)
    throw data_error(path, 0, "wrong magic number: expected " + describe_magic(expected_magic) + ", found " + describe_magic(h.magic));
  if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] == 0 || b[3] > 4)
    throw data_error(path, 0, "not an IDX file of unsigned bytes: expected magic 0x000008NN, found " + describe_magic(h.magic));
  const std::size_t rank = b[3];
  h.bytes = 4 + 4 * rank;
  const std::size_t have = read(b + 4, 4 * rank);
  if (have < 4 * rank)
    throw data_error(path, 4 + have, "truncated header: expected " + std::to_string(h.bytes) + " bytes for " +
                                         std::to_string(rank) + " dimensions, found " + std::to_string(4 + have));
  for (std::size_t d = 0; d < rank; ++d) h.dims.push_back(big_endian_u32(b + 4 + 4 * d));
  // A dimension of 0 makes no values, however large the others.
  if (std::find(h.dims.begin(), h.dims.end(), 0u) != h.dims.end()) {
    h.values = 0;
    return h;
  }
  for (std::size_t d = 0; d < rank; ++d) {
    if (h.values > std::numeric_limits<std::size_t>::max() / h.dims[d])
      throw data_error(path, 4 + 4 * d, "dimensions " + join(h.dims, " x ") + " multiply to more values than memory can address");
    h.values *= h.dims[d];
  }
  return h;
}

// The error for values that end early, from the loader and the stream alike.
inline data_error truncated_values(const std::string& path, const idx_header& h, std::uint64_t have) {
  return data_error(path, static_cast<std::size_t>(h.bytes + have),
                    "truncated data: expected " + std::to_string(h.values) + " bytes of values after the " +
                        std::to_string(h.bytes) + "-byte header, found " + std::to_string(have));
}
// A plain file's size says at once whether the header's values are all there (a forged header that
// promises gigabytes fails here, before anything is allocated or read).
inline void check_plain_length(const content_reader& in, const idx_header& h) {
  if (!in.file().regular() || in.gzip()) return;
  const std::uint64_t size = in.file().size(), have = size - std::min<std::uint64_t>(size, h.bytes);
  if (have < h.values) throw truncated_values(in.path(), h, have);
}

// Nothing after the header's `values` (which end at content offset `end`), or an error that counts up to
// 1 MiB of what follows (a gzip bomb is not inflated to the end to count it), from the loader and the
// stream alike.
inline void expect_end(content_reader& in, std::uint64_t end, std::size_t values) {
  constexpr std::size_t cap = std::size_t{1} << 20;
  std::uint8_t extra[4096];
  std::size_t more = 0, got;
  while (more < cap && (got = in.read(extra, sizeof extra)) > 0) more += got;
  if (more)
    throw data_error(in.path(), static_cast<std::size_t>(end), "expected the end of the file after " + std::to_string(values) +
                                                                   " values, found " + (more >= cap ? "at least " : "") +
                                                                   std::to_string(more) + " more bytes");
}

}  // namespace detail

// Reads an IDX file of unsigned bytes (type code 0x08). `expected_magic` (2051 images, 2049 labels) is
// checked when not 0. Offsets in errors count bytes of the decompressed content. Memory follows the
// bytes that arrive, never a header's promise ahead of them, and no more is read or decompressed than the
// header promises plus a little to see what follows (docs/untrusted-files.md).
inline idx_array read_idx(const std::string& path, std::uint32_t expected_magic = 0, const read_limits& limits = {}) {
  detail::content_reader in(path, "an IDX file, plain or .gz", limits.fifo_writer_seconds);
  const detail::idx_header h = detail::read_idx_header(path, expected_magic, [&](std::uint8_t* out, std::size_t n) {
    return in.read(out, n);
  });
  idx_array a;
  a.magic = h.magic;
  a.dims = h.dims;
  const std::size_t header = h.bytes, count = h.values;
  detail::check_plain_length(in, h);
  // A .gz can hold at most 1032 times its size (deflate's largest ratio); a pipe says nothing, and is
  // read as it comes.
  std::uint64_t bound = count;
  if (in.file().regular()) {
    bound = std::min<std::uint64_t>(bound, in.file().size() * (in.gzip() ? 1032 : 1));
  } else {
    bound = std::min<std::uint64_t>(bound, std::uint64_t{1} << 26);
  }
  a.data.reserve(static_cast<std::size_t>(bound));
  while (a.data.size() < count) {
    const std::size_t have = a.data.size(), chunk = std::min<std::size_t>(count - have, std::size_t{1} << 20);
    a.data.resize(have + chunk);
    const std::size_t got = in.read(a.data.data() + have, chunk);
    if (got < chunk) throw detail::truncated_values(path, h, have + got);
  }
  detail::expect_end(in, header + count, count);
  return a;
}

namespace detail {

// An IDX image file and its label file, each checked and then checked against the other: one label per
// image, every label below `classes`, and images of `expected_inputs` pixels when that is given. What
// load_idx and load_idx_bytes share, so both throw the same data_errors.
struct labelled_images {
  idx_array images, labels;
  std::size_t count = 0, pixels = 0;
};

inline labelled_images read_labelled_images(const std::string& images_path, const std::string& labels_path,
                                            std::size_t classes, std::size_t expected_inputs) {
  if (classes == 0) throw std::invalid_argument("nn: loading " + labels_path + ": classes must be at least 1");
  labelled_images s;
  s.images = read_idx(images_path, 2051);
  if (s.images.dims.size() != 3)
    throw data_error(images_path, 3, "expected 3 dimensions (count, rows, cols), found " + std::to_string(s.images.dims.size()));
  s.labels = read_idx(labels_path, 2049);
  if (s.labels.dims.size() != 1)
    throw data_error(labels_path, 3, "expected 1 dimension (count), found " + std::to_string(s.labels.dims.size()));
  s.count = s.images.dims[0];
  s.pixels = std::size_t{s.images.dims[1]} * s.images.dims[2];
  if (s.labels.dims[0] != s.count)
    throw data_error(labels_path, 4, "expected " + std::to_string(s.count) + " labels, one per image of " + images_path +
                                         ", found " + std::to_string(s.labels.dims[0]));
  if (s.pixels == 0) throw data_error(images_path, 8, "images of 0 pixels");
  if (expected_inputs != dynamic && s.pixels != expected_inputs)
    throw data_error(images_path, 8, "images of " + std::to_string(s.images.dims[1]) + "x" +
                                         std::to_string(s.images.dims[2]) + " = " + std::to_string(s.pixels) +
                                         " pixels, but the network has " + std::to_string(expected_inputs) + " inputs");
  for (std::size_t i = 0; i < s.count; ++i)
    if (s.labels.data[i] >= classes)
      throw data_error(labels_path, 8 + i, "label of image " + std::to_string(i) + ": expected 0 to " +
                                               std::to_string(classes - 1) + ", found " + std::to_string(s.labels.data[i]));
  return s;
}

}  // namespace detail

// Images scaled to [0, 1] and labels as one-hot targets of `classes` values, from an IDX image file and
// an IDX label file (plain or gzipped). `expected_inputs`, when given (e.g. a network's inputs), must
// equal rows·cols. Pixel p becomes static_cast<T>(p) / T(255).
template <class T = float>
dataset<T> load_idx(const std::string& images_path, const std::string& labels_path, std::size_t classes = 10,
                    std::size_t expected_inputs = dynamic) {
  const auto s = detail::read_labelled_images(images_path, labels_path, classes, expected_inputs);
  dataset<T> d(s.pixels, classes);
  d.resize(s.count);
  for (std::size_t i = 0; i < s.count; ++i) {
    detail::bytes_to_values(s.images.data.data() + i * s.pixels, s.pixels, T(255), d.input(i).data());
    d.target(i)[s.labels.data[i]] = T(1);
  }
  return d;
}

// The same samples as load_idx, with the same checks and errors, kept as bytes: an nn::byte_dataset, a
// quarter of the memory, which trains exactly the same network (the trainer converts each mini-batch as
// load_idx converts the whole set). The pixels stay in the buffer they were read into.
template <class T = float>
byte_dataset<T> load_idx_bytes(const std::string& images_path, const std::string& labels_path, std::size_t classes = 10,
                               std::size_t expected_inputs = dynamic) {
  auto s = detail::read_labelled_images(images_path, labels_path, classes, expected_inputs);
  return byte_dataset<T>(s.pixels, classes, std::move(s.images.data), std::move(s.labels.data), T(255));
}

// An image file and its label file read one example at a time, for online learning (nn/online.hpp): the
// headers are read and checked when it opens (the same checks and messages as load_idx), then each
// next(x, y) reads one image and one label through zlib's buffers, so memory stays at a few hundred
// kilobytes whatever the files' size. Pixels become static_cast<T>(p) / T(255) and labels one-hot targets,
// exactly as load_idx gives them. Data that ends early, a label out of range and bytes after the last
// example are data_errors naming the file and byte offset (of the decompressed content), when they are
// reached. Move-only.
template <class T = float>
class idx_stream {
 public:
  idx_stream(const std::string& images_path, const std::string& labels_path, std::size_t classes = 10,
             std::size_t expected_inputs = dynamic)
      : images_(open(images_path)), labels_(open(labels_path)), classes_(classes) {
    if (classes == 0) throw std::invalid_argument("nn::idx_stream: classes must be at least 1");
    const std::vector<std::uint32_t> image_dims = header(images_, 2051);
    const std::vector<std::uint32_t> label_dims = header(labels_, 2049);
    count_ = image_dims[0];
    pixels_ = std::size_t{image_dims[1]} * image_dims[2];
    if (pixels_ != 0 && count_ > std::numeric_limits<std::size_t>::max() / pixels_)
      throw data_error(images_.path, 4, "dimensions " + std::to_string(image_dims[0]) + " x " + std::to_string(image_dims[1]) +
                                            " x " + std::to_string(image_dims[2]) +
                                            " multiply to more values than memory can address");
    if (label_dims[0] != count_)
      throw data_error(labels_.path, 4, "expected " + std::to_string(count_) + " labels, one per image of " +
                                            images_.path + ", found " + std::to_string(label_dims[0]));
    if (pixels_ == 0) throw data_error(images_.path, 8, "images of 0 pixels");
    if (expected_inputs != dynamic && pixels_ != expected_inputs)
      throw data_error(images_.path, 8, "images of " + std::to_string(image_dims[1]) + "x" + std::to_string(image_dims[2]) +
                                            " = " + std::to_string(pixels_) + " pixels, but the network has " +
                                            std::to_string(expected_inputs) + " inputs");
  }

  std::size_t input_size() const noexcept { return pixels_; }
  std::size_t output_size() const noexcept { return classes_; }
  // The count the headers declare (a stream's reader need not know it), and how many were delivered.
  std::size_t declared_size() const noexcept { return count_; }
  std::size_t position() const noexcept { return i_; }
  // The label of the example the last next() delivered.
  std::size_t label() const noexcept { return label_; }

  // The next image as input_size() values and its label as a one-hot target; false after the last,
  // once both files are checked to end there.
  bool next(std::span<T> x, std::span<T> y) {
    if (x.size() != pixels_ || y.size() != classes_)
      throw std::invalid_argument("nn::idx_stream: next() needs spans of " + std::to_string(pixels_) + " and " +
                                  std::to_string(classes_) + " values, got " + std::to_string(x.size()) + " and " +
                                  std::to_string(y.size()));
    if (i_ == count_) {
      expect_end(images_, pixels_);
      expect_end(labels_, 1);
      return false;
    }
    // Through a small buffer, so that no allocation follows the header's (possibly forged) image size.
    std::uint8_t bytes[4096];
    for (std::size_t k = 0; k < pixels_; k += sizeof bytes) {
      const std::size_t n = std::min(sizeof bytes, pixels_ - k);
      read_exactly(images_, bytes, n, pixels_);
      detail::bytes_to_values(bytes, n, T(255), x.data() + k);
    }
    std::uint8_t label = 0;
    read_exactly(labels_, &label, 1, 1);
    if (label >= classes_) {
      // Both files are past this example: a caller that goes on reads the next one, correctly numbered.
      ++i_;
      throw data_error(labels_.path, labels_.offset - 1, "label of image " + std::to_string(i_ - 1) + ": expected 0 to " +
                                                             std::to_string(classes_ - 1) + ", found " + std::to_string(label));
    }
    std::fill(y.begin(), y.end(), T(0));
    y[label] = T(1);
    label_ = label;
    ++i_;
    return true;
  }

 private:
  struct file {
    std::unique_ptr<detail::content_reader> in;
    std::string path;
    std::size_t offset = 0;  // bytes of content read so far
    std::size_t header = 0;  // bytes of header
  };

  static file open(const std::string& path) {
    auto in = std::make_unique<detail::content_reader>(path, "an IDX file, plain or .gz");
    return file{std::move(in), path};
  }

  static std::size_t read_some(file& f, std::uint8_t* out, std::size_t n) {
    const std::size_t got = f.in->read(out, n);
    f.offset += got;
    return got;
  }

  // n bytes of example i_'s values, or the error load_idx gives for data that ends early.
  void read_exactly(file& f, std::uint8_t* out, std::size_t n, std::size_t per_example) {
    if (read_some(f, out, n) < n)
      throw data_error(f.path, f.offset, "truncated data: expected " + std::to_string(count_ * per_example) +
                                             " bytes of values after the " + std::to_string(f.header) +
                                             "-byte header, found " + std::to_string(f.offset - f.header) + " (example " +
                                             std::to_string(i_) + " of " + std::to_string(count_) + " ends early)");
  }

  // Nothing after the last example, or an error that counts up to 1 MiB of what is there.
  void expect_end(file& f, std::size_t per_value) { detail::expect_end(*f.in, f.offset, count_ * per_value); }

  // The magic number and dimensions, with read_idx's checks (detail::read_idx_header); the rank must be
  // the magic's (2051 = 0x803: 3 dimensions, 2049 = 0x801: one).
  static std::vector<std::uint32_t> header(file& f, std::uint32_t magic) {
    const detail::idx_header h =
        detail::read_idx_header(f.path, magic, [&](std::uint8_t* out, std::size_t n) { return read_some(f, out, n); });
    detail::check_plain_length(*f.in, h);
    f.header = f.offset;
    return h.dims;
  }

  file images_, labels_;
  std::size_t classes_, count_ = 0, pixels_ = 0, i_ = 0, label_ = 0;
};

// An image file and its label file as a data source that holds only the samples it is asked for: each
// process of a training over several (trainer::processes, docs/distributed.md) reads just its part of
// every epoch, so its memory falls with the number of processes. The headers are read and checked when it
// opens (load_idx's checks and messages); prepare(indices), which the trainer calls before each epoch and
// before evaluating, reads exactly those samples (in one pass through each file, the others skipped) and
// checks their labels. input(i) for a sample not prepared is an error. Inputs are bytes (byte_input_source),
// converted as load_idx converts them, so it trains the same network as load_idx_bytes, bit for bit.
template <class T = float>
class idx_source {
 public:
  idx_source(std::string images_path, std::string labels_path, std::size_t classes = 10, std::size_t expected_inputs = dynamic)
      : images_(std::move(images_path)), labels_(std::move(labels_path)), classes_(classes) {
    idx_stream<T> headers(images_, labels_, classes, expected_inputs);  // every header check, nothing more read
    count_ = headers.declared_size();
    pixels_ = headers.input_size();
    one_hot_.assign(classes_ * classes_, T(0));
    for (std::size_t c = 0; c < classes_; ++c) one_hot_[c * classes_ + c] = T(1);
  }

  std::size_t size() const noexcept { return count_; }
  std::size_t input_size() const noexcept { return pixels_; }
  std::size_t output_size() const noexcept { return classes_; }
  T input_scale() const noexcept { return T(255); }
  std::span<const std::uint8_t> input(std::size_t i) const { return {bytes_.data() + slot(i) * pixels_, pixels_}; }
  std::span<const T> target(std::size_t i) const { return {one_hot_.data() + label(i) * classes_, classes_}; }
  std::size_t label(std::size_t i) const { return labels_read_[slot(i)]; }
  // The samples in memory now.
  std::size_t loaded() const noexcept { return held_.size(); }

  // Holds exactly the samples `indices` (any order, repeats allowed) from now on.
  void prepare(std::span<const std::size_t> indices) const {
    std::vector<std::size_t> want(indices.begin(), indices.end());
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    if (want == held_) return;
    if (!want.empty() && want.back() >= count_)
      throw std::out_of_range("nn::idx_source: sample " + std::to_string(want.back()) + " asked of " + images_ + ", which holds " +
                              std::to_string(count_));
    std::vector<std::uint8_t> bytes = read_items(images_, 2051, want, pixels_), labels = read_items(labels_, 2049, want, 1);
    for (std::size_t k = 0; k < want.size(); ++k)
      if (labels[k] >= classes_)
        throw data_error(labels_, 8 + want[k], "label of image " + std::to_string(want[k]) + ": expected 0 to " +
                                                  std::to_string(classes_ - 1) + ", found " + std::to_string(labels[k]));
    bytes_ = std::move(bytes);
    labels_read_ = std::move(labels);
    held_ = std::move(want);
  }

 private:
  std::size_t slot(std::size_t i) const {
    const auto it = std::lower_bound(held_.begin(), held_.end(), i);
    if (it == held_.end() || *it != i)
      throw std::out_of_range("nn::idx_source: sample " + std::to_string(i) + " of " + images_ +
                              " is not in memory (prepare() did not ask for it)");
    return static_cast<std::size_t>(it - held_.begin());
  }
  // The items (`item` bytes each) at the sorted indices `want`, in one pass through the file.
  static std::vector<std::uint8_t> read_items(const std::string& path, std::uint32_t magic, const std::vector<std::size_t>& want,
                                              std::size_t item) {
    detail::content_reader in(path, "an IDX file, plain or .gz");
    const detail::idx_header h = detail::read_idx_header(path, magic, [&](std::uint8_t* out, std::size_t n) { return in.read(out, n); });
    detail::check_plain_length(in, h);
    std::vector<std::uint8_t> out(want.size() * item), skip(std::size_t{1} << 16);
    std::uint64_t at = 0;  // items passed
    const auto read = [&](std::uint8_t* to, std::size_t n) {
      if (in.read(to, n) < n) throw detail::truncated_values(path, h, at * item);
    };
    for (std::size_t k = 0; k < want.size(); ++k) {
      for (std::uint64_t gap = (want[k] - at) * item; gap > 0;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(gap, skip.size()));
        read(skip.data(), n);
        gap -= n;
      }
      read(out.data() + k * item, item);
      at = want[k] + 1;
    }
    return out;
  }

  std::string images_, labels_;
  std::size_t classes_, count_ = 0, pixels_ = 0;
  std::vector<T> one_hot_;
  // What prepare() read: a cache of the files' contents, so a const source may fill it.
  mutable std::vector<std::size_t> held_;
  mutable std::vector<std::uint8_t> bytes_, labels_read_;
};

}  // namespace nn
