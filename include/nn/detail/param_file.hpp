// The nn parameter file format, as bytes: writing a version 3 file from a model_layout and the
// parameters' bytes, and reading versions 1 to 3 back with every check (docs/file-format.md). Compiled
// once, whatever the model: nn/io.hpp holds the little that depends on the model's type.
#pragma once

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "nn/data/error.hpp"
#include "nn/data/limits.hpp"
#include "nn/detail/input_file.hpp"
#include "nn/detail/text.hpp"

namespace nn::detail {

inline constexpr char params_magic[8] = {'n', 'n', 'p', 'a', 'r', 'a', 'm', 's'};
inline constexpr std::uint32_t params_version = 3;

// The 64-bit FNV-1a hash of n bytes, or of more bytes after those that gave `h`.
inline std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ULL) {
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
U get_le(const std::uint8_t* p) {
  std::uint8_t b[sizeof(U)];
  std::memcpy(b, p, sizeof(U));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(U));
  U v;
  std::memcpy(&v, b, sizeof(U));
  return v;
}

inline std::string sizes_text(const std::vector<std::uint32_t>& s) { return join(s, "-"); }

// "dense<30, sigmoid>" from a record, for messages.
inline std::string record_text(const std::string& kind, const std::vector<std::uint32_t>& dims, const std::string& act) {
  std::string s = kind;
  s += '<';
  s += join(dims, "x");
  if (!act.empty()) {
    s += ", ";
    s += act;
  }
  s += '>';
  return s;
}
inline void put_text(std::vector<std::uint8_t>& out, const std::string& t) {
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(t.size()));
  out.insert(out.end(), t.begin(), t.end());
}
inline void put_dims(std::vector<std::uint8_t>& out, const std::vector<std::uint32_t>& dims) {
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(dims.size()));
  for (const std::uint32_t d : dims) put_le<std::uint32_t>(out, d);
}

// a + b, or the largest value if it does not fit.
inline std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// A file's FNV-1a hash as its bytes pass, in pieces of any size, holding back the last 8 bytes (the
// checksum of a parameter file): hash() is of every byte but the last 8, last8() those 8 as a u64.
class fnv_stream {
 public:
  void feed(const std::uint8_t* p, std::size_t k) {
    if (k >= 8) {  // what is held, and all of p but its last 8, now has 8 bytes after it
      h_ = fnv1a(held_, held(), h_);
      h_ = fnv1a(p, k - 8, h_);
      std::memcpy(held_, p + k - 8, 8);
      n_ += k;
      return;
    }
    for (std::size_t i = 0; i < k; ++i, ++n_) {
      if (n_ >= 8) {
        h_ = fnv1a(held_, 1, h_);
        std::memmove(held_, held_ + 1, 7);
        held_[7] = p[i];
      } else {
        held_[n_] = p[i];
      }
    }
  }
  std::uint64_t bytes() const noexcept { return n_; }
  std::uint64_t hash() const noexcept { return h_; }
  std::uint64_t last8() const noexcept { return n_ >= 8 ? get_le<std::uint64_t>(held_) : 0; }

 private:
  std::size_t held() const noexcept { return static_cast<std::size_t>(std::min<std::uint64_t>(n_, 8)); }
  std::uint64_t h_ = 0xcbf29ce484222325ULL, n_ = 0;
  std::uint8_t held_[8] = {};
};

// A parameter file being read: read on only as far as the fields ask (what the header promises), and
// never past `limit` bytes in all (`what_limit` says where the limit comes from). The constructor checks
// what every version shares: the magic (on the first 8 bytes, so a large file of something else costs
// nothing), the version and the value size. It holds the bytes read so far, except values skipped
// without keeping them (`keep_values` false: read_parameter_sizes), which are only hashed as they pass,
// so that memory stays small whatever the file promises.
class parameter_file {
 public:
  std::uint32_t version = 0, value_size = 0;

  parameter_file(const std::string& path, std::uint64_t limit, std::string what_limit, double writer_seconds,
                 bool keep_values = true)
      : file_(path, "saved nn parameters", writer_seconds), limit_(limit), what_limit_(std::move(what_limit)), keep_(keep_values) {
    if (!ensure(8) || std::memcmp(bytes_.data(), params_magic, 8) != 0)
      throw data_error(path, 0, "not an nn parameter file: expected magic \"nnparams\"");
    if (!ensure(20))
      throw data_error(path, held_end(), "truncated: expected version, value size and layer count, found the end of the file");
    version = get_le<std::uint32_t>(at(8));
    if (version < 1 || version > params_version)
      throw data_error(path, 8, "unsupported version: expected 1 to " + std::to_string(params_version) + ", found " +
                                    std::to_string(version));
    value_size = get_le<std::uint32_t>(at(12));
    if (value_size != 4 && value_size != 8)
      throw data_error(path, 12, "expected 4 or 8 bytes per value (float or double), found " + std::to_string(value_size));
  }
  const std::string& path() const noexcept { return file_.path(); }
  // The byte at file offset `pos`, which ensure() has read and skip_values() has not let pass.
  const std::uint8_t* at(std::uint64_t pos) const noexcept { return bytes_.data() + (pos - base_); }
  // Where the bytes read so far end.
  std::size_t held_end() const noexcept { return static_cast<std::size_t>(base_ + bytes_.size()); }
  // Reads on until the first `end` bytes of the file are read; false if it ends sooner.
  bool ensure(std::uint64_t end) {
    if (held_end() >= end) return true;
    if (ended_) return false;
    ended_ = !file_.read_to(bytes_, end, limit_, what_limit_);
    return !ended_;
  }
  // Reads on to byte `to` across values: keeping them, or (not keep_values) only hashing them as they
  // pass. False if the file ends sooner.
  bool skip_values(std::uint64_t to) {
    if (keep_ || held_end() >= to) return ensure(to);
    drop(bytes_.data(), bytes_.size());  // all of it is before `to`
    bytes_.clear();
    std::vector<std::uint8_t> chunk;
    while (!ended_ && base_ < to) {
      chunk.clear();
      ended_ = !file_.read_to(chunk, std::min<std::uint64_t>(to, base_ + (1 << 20)), limit_, what_limit_);
      drop(chunk.data(), chunk.size());
    }
    return base_ >= to;
  }
  // Whether the checksum at `end` (read) is that of the bytes before it.
  bool checksum_ok(std::uint64_t end) const {
    fnv_stream s = dropped_;
    s.feed(bytes_.data(), static_cast<std::size_t>(end + 8 - base_));
    return s.hash() == s.last8();
  }
  // Whether the whole file (the rest read now, hashed and not kept) ends with the checksum of the bytes
  // before it: tells a corrupted file from one nn cannot read.
  bool whole_file_checksum_ok() {
    fnv_stream s = dropped_;
    s.feed(bytes_.data(), bytes_.size());
    std::vector<std::uint8_t> chunk;
    while (!ended_) {
      chunk.clear();
      ended_ = !file_.read_to(chunk, file_.offset() + (1 << 20), limit_, what_limit_);
      s.feed(chunk.data(), chunk.size());
    }
    return s.bytes() >= 28 && s.hash() == s.last8();
  }

 private:
  void drop(const std::uint8_t* p, std::size_t n) {
    dropped_.feed(p, n);
    base_ += n;
  }
  input_file file_;
  std::vector<std::uint8_t> bytes_;  // the file from byte base_ on, as far as it has been read
  std::uint64_t base_ = 0;
  fnv_stream dropped_;  // the bytes before base_, which were not kept
  std::uint64_t limit_;
  std::string what_limit_;
  bool keep_, ended_ = false;
};

// Reads a file's fields in order, reading on as they ask; every shortfall is a data_error naming the
// byte where it happened.
class byte_reader {
 public:
  byte_reader(parameter_file& file, std::size_t at) : file_(file), at_(at) {}
  std::size_t at() const noexcept { return at_; }
  void need(std::uint64_t n, const std::string& what) const {
    if (!file_.ensure(add_sat(add_sat(at_, n), 8)))  // the last 8 bytes are the checksum
      throw data_error(file_.path(), std::min(at_, file_.held_end()), "truncated: expected " + what + ", found the end of the file");
  }
  std::uint32_t u32(const std::string& what) {
    need(4, what);
    at_ += 4;
    return get_le<std::uint32_t>(file_.at(at_ - 4));
  }
  std::uint64_t u64(const std::string& what) {
    need(8, what);
    at_ += 8;
    return get_le<std::uint64_t>(file_.at(at_ - 8));
  }
  std::string text(const std::string& what, std::uint32_t min_len, std::uint32_t max_len) {
    const std::size_t start = at_;
    const std::uint32_t n = u32("the length of " + what);
    if (n < min_len || n > max_len)
      throw data_error(file_.path(), start, "expected " + what + " of " + std::to_string(min_len) + " to " +
                                                std::to_string(max_len) + " bytes, found a length of " + std::to_string(n));
    need(n, what);
    std::string t(reinterpret_cast<const char*>(file_.at(at_)), n);
    for (const char c : t)
      if (c < 32 || c > 126)
        throw data_error(file_.path(), at_, "expected " + what + " in printable ASCII, found byte " +
                                                std::to_string(static_cast<unsigned char>(c)));
    at_ += n;
    return t;
  }
  std::vector<std::uint32_t> shape(const std::string& what) {
    const std::size_t start = at_;
    const std::uint32_t rank = u32("the rank of " + what);
    if (rank < 1 || rank > 8)
      throw data_error(file_.path(), start, "expected " + what + " of 1 to 8 dimensions, found " + std::to_string(rank));
    std::vector<std::uint32_t> dims(rank);
    for (auto& d : dims) {
      const std::size_t here = at_;
      d = u32("a dimension of " + what);
      if (d == 0) throw data_error(file_.path(), here, "expected a dimension of at least 1 in " + what + ", found 0");
    }
    return dims;
  }
  // Values the reader does not look at: kept, or only hashed as they pass (parameter_file).
  void skip(std::uint64_t n, const std::string& what) {
    (void)file_.skip_values(add_sat(at_, n));
    need(n, what);
    at_ += static_cast<std::size_t>(n);
  }

 private:
  parameter_file& file_;
  std::size_t at_;
};

// One layer as a file describes it.
struct layer_record {
  std::size_t at = 0;  // where its record starts
  std::string kind, activation;
  std::vector<std::uint32_t> dims;
  std::uint64_t values = 0;
  std::size_t values_at = 0;
};

// What a model says of itself, to write or to hold against a file: its input shape, and each layer's
// kind, output shape, activation and value count (layer_record::values).
struct model_layout {
  std::vector<std::uint32_t> input;
  std::vector<layer_record> layers;
};
inline void put_raw(std::vector<std::uint8_t>& out, const std::uint8_t* p, std::size_t bytes, std::size_t value_size) {
  const std::size_t from = out.size();
  out.insert(out.end(), p, p + bytes);
  if constexpr (std::endian::native == std::endian::big)
    for (std::size_t i = from; i < out.size(); i += value_size) std::reverse(out.begin() + i, out.begin() + i + value_size);
}
// Renames the written temporary file `tmp` over `path` (POSIX: in one step); on failure removes it.
inline void rename_into_place(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::generic_category().message(errno);
    std::remove(tmp.c_str());
    throw data_error(path, data_error::no_offset, "cannot rename " + tmp + " into place: " + why);
  }
}
// Writes `path` through a temporary file and a rename: a crash leaves the old file or the new one.
inline void write_atomically(const std::string& path, const std::vector<std::uint8_t>& out) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw data_error(path, data_error::no_offset, "cannot create the temporary file " + tmp + ": " + std::generic_category().message(errno));
  const bool written = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw data_error(path, data_error::no_offset, "writing " + tmp + " failed (disk full?)");
  }
  rename_into_place(tmp, path);
}
// A version 3 file from a layout and the parameters' bytes in file order (native byte order).
inline void write_v3(const std::string& path, const model_layout& m, std::size_t value_size, const std::uint8_t* raw) {
  std::vector<std::uint8_t> out(params_magic, params_magic + 8);
  put_le<std::uint32_t>(out, params_version);
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(value_size));
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(m.layers.size()));
  put_dims(out, m.input);
  for (const auto& r : m.layers) {
    put_text(out, r.kind);
    put_dims(out, r.dims);
    put_text(out, r.activation);
    put_le<std::uint64_t>(out, r.values);
    put_raw(out, raw, r.values * value_size, value_size);
    raw += r.values * value_size;
  }
  put_le<std::uint64_t>(out, fnv1a(out.data(), out.size()));
  write_atomically(path, out);
}

// The length of a version 3 file of a model with this layout.
inline std::uint64_t file_bytes(const model_layout& m, std::size_t value_size) {
  std::uint64_t n = 20 + 4 + 4 * std::uint64_t{m.input.size()} + 8;
  for (const auto& r : m.layers)
    n += 4 + r.kind.size() + 4 + 4 * std::uint64_t{r.dims.size()} + 4 + r.activation.size() + 8 + r.values * value_size;
  return n;
}
// The bound on reading a file for a model of `model_bytes` (0: no model), from the caller's limits.
inline std::uint64_t parameter_file_limit(const read_limits& limits, std::uint64_t model_bytes, std::string& what) {
  if (limits.parameter_file_bytes) {
    what = "the limit nn::read_limits::parameter_file_bytes is " + std::to_string(limits.parameter_file_bytes) + " bytes";
    return limits.parameter_file_bytes;
  }
  if (model_bytes == 0) {
    what = "the default limit for a file read without a model is 1 GiB; raise nn::read_limits::parameter_file_bytes";
    return std::uint64_t{1} << 30;
  }
  const std::uint64_t n = 4 * model_bytes + (std::uint64_t{1} << 20);
  what = "this network's file takes " + std::to_string(model_bytes) + " bytes, and nn reads at most " + std::to_string(n) +
         " for it; raise nn::read_limits::parameter_file_bytes";
  return n;
}

// Version 3: the layer records, read as far as the header promises, and the checksum held against the
// bytes before it, before anything is compared with a model. A record that makes no sense is told apart
// from corruption by the checksum of the whole file (a flipped bit reads as corruption, whatever field it
// landed in).
inline std::vector<layer_record> parse_records(parameter_file& file, std::vector<std::uint32_t>& input, std::size_t& end);
inline std::vector<layer_record> read_records(parameter_file& file, std::vector<std::uint32_t>& input) {
  std::vector<layer_record> records;
  std::size_t end = 0;  // where the checksum is
  try {
    records = parse_records(file, input, end);
  } catch (const data_error& e) {
    if (file.whole_file_checksum_ok()) throw;
    throw data_error(file.path(), e.offset(), "checksum mismatch: the file is corrupted or cut short; reading it: " + e.problem());
  }
  if (!file.checksum_ok(end))
    throw data_error(file.path(), end, "checksum mismatch: the file is corrupted");
  if (file.ensure(std::uint64_t{end} + 9))
    throw data_error(file.path(), end + 8, "expected the end of the file after the checksum, found more bytes");
  return records;
}
inline std::vector<layer_record> parse_records(parameter_file& file, std::vector<std::uint32_t>& input, std::size_t& end) {
  byte_reader r(file, 16);
  const std::uint32_t layers = r.u32("the layer count");
  if (layers < 1 || layers > 1024) throw data_error(file.path(), 16, "expected 1 to 1024 layers, found " + std::to_string(layers));
  input = r.shape("the input shape");
  std::vector<layer_record> records(layers);
  for (std::size_t i = 0; i < layers; ++i) {
    const std::string which = "layer " + std::to_string(i + 1) + "'s ";
    auto& rec = records[i];
    rec.at = r.at();
    rec.kind = r.text(which + "kind", 1, 64);
    rec.dims = r.shape(which + "output shape");
    rec.activation = r.text(which + "activation", 0, 64);
    rec.values = r.u64(which + "value count");
    rec.values_at = r.at();
    const std::uint64_t bytes = rec.values > UINT64_MAX / file.value_size ? UINT64_MAX : rec.values * file.value_size;
    r.skip(bytes, which + std::to_string(rec.values) + " values");
  }
  end = r.at();
  return records;
}

// The bytes of `count` values from `at`, in native byte order.
inline std::vector<std::uint8_t> raw_values(const parameter_file& file, std::size_t at, std::uint64_t count) {
  const std::size_t n = static_cast<std::size_t>(count) * file.value_size;
  std::vector<std::uint8_t> raw(file.at(at), file.at(at) + n);
  if constexpr (std::endian::native == std::endian::big)
    for (std::size_t i = 0; i < n; i += file.value_size) std::reverse(raw.begin() + i, raw.begin() + i + file.value_size);
  return raw;
}

// Version 3: holds the file against the model's layout (the first layer that differs, and how) and gives
// the parameters' bytes in file order.
inline std::vector<std::uint8_t> read_v3(parameter_file& file, const model_layout& m, std::size_t value_size) {
  const std::string& path = file.path();
  std::vector<std::uint32_t> input;
  const auto records = read_records(file, input);
  if (file.value_size != value_size)
    throw data_error(path, 12, "values of " + std::to_string(file.value_size) + " bytes, but the network's are " +
                                   std::to_string(value_size) + " (float 4, double 8)");
  if (input != m.input)
    throw data_error(path, 20, "the file's input is " + record_text("input", input, "") + ", the network's " +
                                   record_text("input", m.input, ""));
  const std::size_t layers = m.layers.size();
  for (std::size_t i = 0; i < layers && i < records.size(); ++i) {
    const auto& rec = records[i];
    const std::string mine = record_text(m.layers[i].kind, m.layers[i].dims, m.layers[i].activation);
    const std::string theirs = record_text(rec.kind, rec.dims, rec.activation);
    if (mine != theirs)
      throw data_error(path, rec.at, "layer " + std::to_string(i + 1) + " differs: the file has " + theirs +
                                         ", the network has " + mine);
    if (m.layers[i].values != rec.values)
      throw data_error(path, rec.values_at - 8, "layer " + std::to_string(i + 1) + " (" + mine + ") has " +
                                                    std::to_string(m.layers[i].values) + " parameters, the file " +
                                                    std::to_string(rec.values));
  }
  if (records.size() != layers)
    throw data_error(path, 16, "the file's network has " + std::to_string(records.size()) + " layers after its input, " +
                                   "this one " + std::to_string(layers) +
                                   (records.size() > layers ? "; the file's next is " + record_text(records[layers].kind,
                                                                                                    records[layers].dims,
                                                                                                    records[layers].activation)
                                                            : std::string()));
  std::vector<std::uint8_t> raw;
  for (const auto& rec : records) {
    const auto part = raw_values(file, rec.values_at, rec.values);
    raw.insert(raw.end(), part.begin(), part.end());
  }
  return raw;
}

// Versions 1 and 2: the layer sizes of a dense network (inputs first).
inline std::vector<std::uint32_t> v2_sizes(parameter_file& file) {
  const auto n = get_le<std::uint32_t>(file.at(16));
  if (n < 2 || n > 1024) throw data_error(file.path(), 16, "expected 2 to 1024 layer sizes, found " + std::to_string(n));
  if (!file.ensure(20 + 4 * std::size_t{n}))
    throw data_error(file.path(), file.held_end(), "truncated: expected the layer sizes, found the end of the file");
  std::vector<std::uint32_t> sizes(n);
  for (std::size_t i = 0; i < n; ++i) sizes[i] = get_le<std::uint32_t>(file.at(20 + 4 * i));
  return sizes;
}

// Versions 1 and 2: the layer sizes, and (2) the two activations' names (hidden, output), held against
// the network's; gives the parameters' bytes, which are in nn::dense's order.
inline std::vector<std::uint8_t> read_v2(parameter_file& file, const std::vector<std::uint32_t>& want,
                                         const std::string (&want_names)[2], std::size_t value_size_wanted) {
  const std::string& path = file.path();
  const std::uint32_t version = file.version, value_size = file.value_size;
  auto need = [&](std::size_t at, std::size_t n, const char* what) {
    if (!file.ensure(at + n))
      throw data_error(path, file.held_end(), std::string("truncated: expected ") + what + ", found the end of the file");
  };
  const auto sizes = v2_sizes(file);
  std::size_t at = 20 + 4 * sizes.size();
  // Version 2: the activations' names, hidden then output.
  std::string names[2];
  std::size_t names_at = at;
  const char* role[2] = {"hidden", "output"};
  for (int i = 0; version >= 2 && i < 2; ++i) {
    need(at, 4, "the length of an activation's name");
    const auto len = get_le<std::uint32_t>(file.at(at));
    if (len == 0 || len > 64)
      throw data_error(path, at, std::string("expected the ") + role[i] + " activation's name (1 to 64 bytes), found a "
                                 "length of " + std::to_string(len));
    need(at + 4, len, "an activation's name");
    names[i].assign(reinterpret_cast<const char*>(file.at(at + 4)), len);
    at += 4 + len;
  }
  // The length the file's own header implies, then the checksum, before anything is compared with the
  // network (a corrupted byte is reported as corruption). The file is read no further than that length.
  long double values = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) values += (static_cast<long double>(sizes[l]) + 1) * sizes[l + 1];
  const long double expected = static_cast<long double>(at) + values * value_size + 8;
  const std::uint64_t length = expected < 1.8e19L ? static_cast<std::uint64_t>(expected) : UINT64_MAX;
  if (!file.ensure(length))
    throw data_error(path, file.held_end(), "truncated: the header promises " +
                                                    (expected < 1e18L ? std::to_string(length) : std::string("more than 10^18")) +
                                                    " bytes, found the end of the file");
  if (file.ensure(length + 1))
    throw data_error(path, static_cast<std::size_t>(length), "expected the end of the file, found more bytes");
  const std::size_t sum_at = static_cast<std::size_t>(length - 8);
  if (!file.checksum_ok(sum_at))
    throw data_error(path, sum_at, "checksum mismatch: the file is corrupted");
  if (value_size != value_size_wanted)
    throw data_error(path, 12, "values of " + std::to_string(value_size) + " bytes, but the network's are " +
                                   std::to_string(value_size_wanted) + " (float 4, double 8)");
  if (sizes != want)
    throw data_error(path, 20, "the file holds a " + sizes_text(sizes) + " network, expected " + sizes_text(want));
  for (int i = 0; version >= 2 && i < 2; ++i) {
    if (names[i] != want_names[i])
      throw data_error(path, names_at, std::string("the file's network has ") + role[i] + " activation " + names[i] +
                                           ", expected " + want_names[i]);
    names_at += 4 + names[i].size();
  }
  return raw_values(file, at, static_cast<std::uint64_t>(values));
}

}  // namespace nn::detail
