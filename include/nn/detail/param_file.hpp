// The nn parameter file format, as bytes: writing a version 3 file from a model_layout and the
// parameters' bytes, and reading versions 1 to 3 back with every check (docs/file-format.md). Compiled
// once, whatever the model: nn/io.hpp holds the little that depends on the model's type.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nn/data/error.hpp"
#include "nn/data/limits.hpp"
#include "nn/detail/input_file.hpp"
#include "nn/detail/text.hpp"

namespace nn::detail {

inline constexpr char params_magic[8] = {'n', 'n', 'p', 'a', 'r', 'a', 'm', 's'};
inline constexpr std::uint32_t params_version = 3;

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

// Reads a file's fields in order; every shortfall is a data_error naming the byte where it happened.
class byte_reader {
 public:
  byte_reader(const std::vector<std::uint8_t>& in, const std::string& path, std::size_t at) : in_(in), path_(path), at_(at) {}
  std::size_t at() const noexcept { return at_; }
  void need(std::size_t n, const std::string& what) const {
    const std::size_t end = in_.size() >= 8 ? in_.size() - 8 : 0;  // the last 8 bytes are the checksum
    if (at_ > end || end - at_ < n)
      throw data_error(path_, std::min(at_, in_.size()), "truncated: expected " + what + ", found the end of the file");
  }
  std::uint32_t u32(const std::string& what) {
    need(4, what);
    at_ += 4;
    return get_le<std::uint32_t>(in_, at_ - 4);
  }
  std::uint64_t u64(const std::string& what) {
    need(8, what);
    at_ += 8;
    return get_le<std::uint64_t>(in_, at_ - 8);
  }
  std::string text(const std::string& what, std::uint32_t min_len, std::uint32_t max_len) {
    const std::size_t start = at_;
    const std::uint32_t n = u32("the length of " + what);
    if (n < min_len || n > max_len)
      throw data_error(path_, start, "expected " + what + " of " + std::to_string(min_len) + " to " + std::to_string(max_len) +
                                         " bytes, found a length of " + std::to_string(n));
    need(n, what);
    std::string t(reinterpret_cast<const char*>(in_.data() + at_), n);
    for (const char c : t)
      if (c < 32 || c > 126)
        throw data_error(path_, at_, "expected " + what + " in printable ASCII, found byte " + std::to_string(static_cast<unsigned char>(c)));
    at_ += n;
    return t;
  }
  std::vector<std::uint32_t> shape(const std::string& what) {
    const std::size_t start = at_;
    const std::uint32_t rank = u32("the rank of " + what);
    if (rank < 1 || rank > 8)
      throw data_error(path_, start, "expected " + what + " of 1 to 8 dimensions, found " + std::to_string(rank));
    std::vector<std::uint32_t> dims(rank);
    for (auto& d : dims) {
      const std::size_t here = at_;
      d = u32("a dimension of " + what);
      if (d == 0) throw data_error(path_, here, "expected a dimension of at least 1 in " + what + ", found 0");
    }
    return dims;
  }
  void skip(std::uint64_t n, const std::string& what) {
    if (n > in_.size()) need(in_.size(), what);  // more than the whole file: truncated
    need(static_cast<std::size_t>(n), what);
    at_ += static_cast<std::size_t>(n);
  }

 private:
  const std::vector<std::uint8_t>& in_;
  const std::string& path_;
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
// Writes `path` through a temporary file and a rename: a crash leaves the old file or the new one.
inline void write_atomically(const std::string& path, const std::vector<std::uint8_t>& out) {
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

// Reads a whole parameter file and checks what every version shares: the magic, the version, the value size.
// The magic is checked before anything else is read (a large file of something else costs nothing), and
// no more than `limit` bytes are read in all (`what_limit` says where the limit comes from).
struct parameter_file {
  std::vector<std::uint8_t> bytes;
  std::uint32_t version = 0, value_size = 0;
};
inline parameter_file open_parameter_file(const std::string& path, std::uint64_t limit, const std::string& what_limit,
                                          double writer_seconds) {
  input_file f(path, "saved nn parameters", writer_seconds);
  parameter_file p;
  auto& in = p.bytes;
  in.resize(8);
  in.resize(f.read(in.data(), 8));
  if (in.size() < 8 || std::memcmp(in.data(), params_magic, 8) != 0)
    throw data_error(path, 0, "not an nn parameter file: expected magic \"nnparams\"");
  f.read_rest(in, limit, what_limit);
  if (in.size() < 20) throw data_error(path, in.size(), "truncated: expected version, value size and layer count, found the end of the file");
  p.version = get_le<std::uint32_t>(in, 8);
  if (p.version < 1 || p.version > params_version)
    throw data_error(path, 8, "unsupported version: expected 1 to " + std::to_string(params_version) + ", found " +
                                  std::to_string(p.version));
  p.value_size = get_le<std::uint32_t>(in, 12);
  if (p.value_size != 4 && p.value_size != 8)
    throw data_error(path, 12, "expected 4 or 8 bytes per value (float or double), found " + std::to_string(p.value_size));
  return p;
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

// Version 3: the layer records, and the length and checksum checked before anything is compared with a
// model (so a corrupted byte reads as corruption).
inline std::vector<layer_record> parse_records(const parameter_file& file, const std::string& path,
                                               std::vector<std::uint32_t>& input);
inline std::vector<layer_record> read_records(const parameter_file& file, const std::string& path,
                                              std::vector<std::uint32_t>& input) {
  // The checksum first (it is always the last 8 bytes), so a corrupted byte reads as corruption whatever
  // field it landed in; the structure then says whether the file is also cut short.
  const auto& in = file.bytes;
  if (in.size() >= 28 && get_le<std::uint64_t>(in, in.size() - 8) == fnv1a(in.data(), in.size() - 8))
    return parse_records(file, path, input);
  try {
    (void)parse_records(file, path, input);
  } catch (const data_error& e) {
    throw data_error(path, e.offset(), "checksum mismatch: the file is corrupted or cut short; reading it: " + e.problem());
  }
  throw data_error(path, in.size() - 8, "checksum mismatch: the file is corrupted");
}
inline std::vector<layer_record> parse_records(const parameter_file& file, const std::string& path,
                                               std::vector<std::uint32_t>& input) {
  const auto& in = file.bytes;
  byte_reader r(in, path, 16);
  const std::uint32_t layers = r.u32("the layer count");
  if (layers < 1 || layers > 1024) throw data_error(path, 16, "expected 1 to 1024 layers, found " + std::to_string(layers));
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
    if (rec.values > in.size() / file.value_size) r.need(in.size(), which + std::to_string(rec.values) + " values");
    r.skip(rec.values * file.value_size, which + std::to_string(rec.values) + " values");
  }
  if (r.at() + 8 != in.size())
    throw data_error(path, r.at(), "expected the checksum and the end of the file, found " +
                                       std::to_string(in.size() - r.at() - 8) + " more bytes");
  return records;
}

// The bytes of `count` values from `at`, in native byte order.
inline std::vector<std::uint8_t> raw_values(const parameter_file& file, std::size_t at, std::uint64_t count) {
  const std::size_t n = static_cast<std::size_t>(count) * file.value_size;
  std::vector<std::uint8_t> raw(file.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                                file.bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
  if constexpr (std::endian::native == std::endian::big)
    for (std::size_t i = 0; i < n; i += file.value_size) std::reverse(raw.begin() + i, raw.begin() + i + file.value_size);
  return raw;
}

// Version 3: holds the file against the model's layout (the first layer that differs, and how) and gives
// the parameters' bytes in file order.
inline std::vector<std::uint8_t> read_v3(const parameter_file& file, const std::string& path, const model_layout& m,
                                         std::size_t value_size) {
  std::vector<std::uint32_t> input;
  const auto records = read_records(file, path, input);
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

// Versions 1 and 2: the layer sizes of a dense network, and (2) its two activations' names (hidden,
// output), held against the network's; gives the parameters' bytes, which are in nn::dense's order.
inline std::vector<std::uint8_t> read_v2(const parameter_file& file, const std::string& path,
                                         const std::vector<std::uint32_t>& want, const std::string (&want_names)[2],
                                         std::size_t value_size_wanted) {
  const auto& in = file.bytes;
  const std::uint32_t version = file.version, value_size = file.value_size;
  auto need = [&](std::size_t at, std::size_t n, const char* what) {
    if (in.size() < at + n)
      throw data_error(path, in.size(), std::string("truncated: expected ") + what + ", found the end of the file");
  };
  const auto n = get_le<std::uint32_t>(in, 16);
  if (n < 2 || n > 1024) throw data_error(path, 16, "expected 2 to 1024 layer sizes, found " + std::to_string(n));
  need(20, 4 * std::size_t{n}, "the layer sizes");
  std::vector<std::uint32_t> sizes(n);
  for (std::size_t i = 0; i < n; ++i) sizes[i] = get_le<std::uint32_t>(in, 20 + 4 * i);
  std::size_t at = 20 + 4 * std::size_t{n};
  // Version 2: the activations' names, hidden then output.
  std::string names[2];
  std::size_t names_at = at;
  const char* role[2] = {"hidden", "output"};
  for (int i = 0; version >= 2 && i < 2; ++i) {
    need(at, 4, "the length of an activation's name");
    const auto len = get_le<std::uint32_t>(in, at);
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
  if (get_le<std::uint64_t>(in, sum_at) != fnv1a(in.data(), sum_at))
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
