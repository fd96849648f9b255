// Saving and loading a whole model: its input shape, every layer's kind, shape, activation and
// parameters, in format version 3 (docs/file-format.md); all integers little-endian:
//   "nnparams" | u32 version = 3 | u32 bytes per value (4 float, 8 double) | u32 L layers |
//   u32 rank, u32 dims[rank] (the input) | per layer: kind, u32 rank + dims (its output), activation
//   (each name u32 length + ASCII; activation length 0: none), u64 P, P values in the layer's order |
//   u64 FNV-1a hash of every byte before it.
// Versions 1 and 2 (dense networks: sizes and the two activations' names) still load into nn::network.
// save_parameters writes a temporary file and renames it, so a crash never leaves half a file.
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
#include "nn/detail/text.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {

namespace detail {

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

// A layer's record in a file: kind, output shape, activation (empty: none), and how many values.
template <class B>
std::string layer_kind() {
  if constexpr (requires { std::string(B::kind); }) return std::string(B::kind);
  else return "unnamed";
}
template <class B>
std::string layer_activation() {
  if constexpr (requires { typename B::activation; }) return activation_name<typename B::activation>();
  else return "";
}
// Visits a layer's parameters in its file order (nn::dense: the course's w[j][k], then b[j]); a layer that
// does not say has its whole block, padding included.
template <class B, class T, class F>
void visit_parameters(T* p, F&& f) {
  if constexpr (requires { B::visit_parameters(p, f); }) B::visit_parameters(p, f);
  else
    for (std::size_t i = 0; i < B::parameter_storage; ++i) f(p[i]);
}
// How many values a layer's record holds: its parameter_count when it visits them, else its whole block.
template <class B, class T>
constexpr std::size_t file_values() {
  if constexpr (requires(T* p, void (*f)(T&)) { B::visit_parameters(p, f); }) return B::parameter_count;
  else return B::parameter_storage;
}

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
template <class S>
void put_shape(std::vector<std::uint8_t>& out) {
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(S::rank));
  for (std::size_t d : S::dims) put_le<std::uint32_t>(out, static_cast<std::uint32_t>(d));
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

}  // namespace detail

// Writes the whole model (format version 3): its input shape, each layer's kind, output shape, activation
// and parameters.
template <class Net>
void save_parameters(const Net& net, const std::string& path) {
  using T = typename Net::value_type;
  std::vector<std::uint8_t> out(detail::params_magic, detail::params_magic + 8);
  detail::put_le<std::uint32_t>(out, detail::params_version);
  detail::put_le<std::uint32_t>(out, sizeof(T));
  detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(Net::layer_count));
  detail::put_shape<typename Net::input_shape>(out);
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    detail::put_text(out, detail::layer_kind<B>());
    detail::put_shape<typename B::output_shape>(out);
    detail::put_text(out, detail::layer_activation<B>());
    std::vector<std::uint8_t> values;
    std::uint64_t count = 0;
    detail::visit_parameters<B>(const_cast<T*>(net.template layer_parameters<i>()), [&](T& v) {
      detail::put_le<T>(values, v);
      ++count;
    });
    detail::put_le<std::uint64_t>(out, count);
    out.insert(out.end(), values.begin(), values.end());
  });
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

namespace detail {

// Reads a whole parameter file and checks what every version shares: the magic, the version, the value size.
struct parameter_file {
  std::vector<std::uint8_t> bytes;
  std::uint32_t version = 0, value_size = 0;
};
inline parameter_file open_parameter_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw data_error(path, data_error::no_offset, "no such file (expected saved nn parameters)");
  parameter_file p;
  p.bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  const auto& in = p.bytes;
  if (in.size() < 8 || std::memcmp(in.data(), params_magic, 8) != 0)
    throw data_error(path, 0, "not an nn parameter file: expected magic \"nnparams\"");
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

template <class Net>
void load_v3(Net& net, const parameter_file& file, const std::string& path) {
  using T = typename Net::value_type;
  std::vector<std::uint32_t> input;
  const auto records = read_records(file, path, input);
  if (file.value_size != sizeof(T))
    throw data_error(path, 12, "values of " + std::to_string(file.value_size) + " bytes, but the network's are " +
                                   std::to_string(sizeof(T)) + " (float 4, double 8)");
  const std::vector<std::uint32_t> want_input(Net::input_shape::dims.begin(), Net::input_shape::dims.end());
  if (input != want_input)
    throw data_error(path, 20, "the file's input is " + record_text("input", input, "") + ", the network's " +
                                   record_text("input", want_input, ""));
  // The first layer that differs, and how.
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    if (i >= records.size()) return;
    const auto& rec = records[i];
    const std::vector<std::uint32_t> dims(B::output_shape::dims.begin(), B::output_shape::dims.end());
    const std::uint64_t count = file_values<B, T>();
    const std::string mine = record_text(layer_kind<B>(), dims, layer_activation<B>());
    const std::string theirs = record_text(rec.kind, rec.dims, rec.activation);
    if (mine != theirs)
      throw data_error(path, rec.at, "layer " + std::to_string(i + 1) + " differs: the file has " + theirs +
                                         ", the network has " + mine);
    if (count != rec.values)
      throw data_error(path, rec.values_at - 8, "layer " + std::to_string(i + 1) + " (" + mine + ") has " +
                                                    std::to_string(count) + " parameters, the file " + std::to_string(rec.values));
  });
  if (records.size() != Net::layer_count)
    throw data_error(path, 16, "the file's network has " + std::to_string(records.size()) + " layers after its input, " +
                                   "this one " + std::to_string(Net::layer_count) +
                                   (records.size() > Net::layer_count ? "; the file's next is " +
                                        record_text(records[Net::layer_count].kind, records[Net::layer_count].dims,
                                                    records[Net::layer_count].activation)
                                                                    : std::string()));
  Net loaded(net);
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    std::size_t at = records[i].values_at;
    visit_parameters<B>(loaded.template layer_parameters<i>(), [&](T& v) {
      v = get_le<T>(file.bytes, at);
      at += sizeof(T);
    });
  });
  net = std::move(loaded);
}

// Versions 1 and 2: the layer sizes of a dense network, and (2) its two activations' names.
template <class Net>
void load_v2(Net& net, const parameter_file& file, const std::string& path) {
  using T = typename Net::value_type;
  const auto& in = file.bytes;
  const std::uint32_t version = file.version, value_size = file.value_size;
  auto need = [&](std::size_t at, std::size_t n, const char* what) {
    if (in.size() < at + n)
      throw data_error(path, in.size(), std::string("truncated: expected ") + what + ", found the end of the file");
  };
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

}  // namespace detail

// The layer sizes stored in a parameter file (e.g. {784, 30, 10}: the input's values, then each layer's
// outputs), to choose the network type before loading it.
inline std::vector<std::uint32_t> read_parameter_sizes(const std::string& path) {
  const auto file = detail::open_parameter_file(path);
  std::vector<std::uint32_t> sizes;
  const auto flat = [](const std::vector<std::uint32_t>& d) {
    std::uint64_t n = 1;
    for (const auto v : d) n = std::min<std::uint64_t>(n * v, 0xffffffffULL);
    return static_cast<std::uint32_t>(n);
  };
  if (file.version >= 3) {
    std::vector<std::uint32_t> input;
    const auto records = detail::read_records(file, path, input);
    sizes.push_back(flat(input));
    for (const auto& r : records) sizes.push_back(flat(r.dims));
    return sizes;
  }
  const auto n = detail::get_le<std::uint32_t>(file.bytes, 16);
  if (n < 2 || n > 1024) throw data_error(path, 16, "expected 2 to 1024 layer sizes, found " + std::to_string(n));
  if (file.bytes.size() < 20 + 4 * std::size_t{n}) throw data_error(path, 20, "truncated: expected " + std::to_string(n) + " layer sizes");
  for (std::size_t i = 0; i < n; ++i) sizes.push_back(detail::get_le<std::uint32_t>(file.bytes, 20 + 4 * i));
  return sizes;
}

// Loads a file written by save_parameters into `net`, whose layers and element type must match the file's.
// The network is changed only when the whole file is good. Version 1 and 2 files (dense networks) load
// into an nn::network of the same sizes.
template <class Net>
void load_parameters(Net& net, const std::string& path) {
  const auto file = detail::open_parameter_file(path);
  if (file.version >= 3) return detail::load_v3(net, file, path);
  if constexpr (requires { Net::sizes; typename Net::hidden_activation; }) {
    detail::load_v2(net, file, path);
  } else {
    throw data_error(path, 8, "a version " + std::to_string(file.version) + " file holds an nn::network of dense layers; "
                              "load it into one (this model is " + Net::name() + ")");
  }
}

}  // namespace nn
