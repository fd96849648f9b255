// An IDX reader written from the format's description alone (and nn's documented choice of 1 to 4
// dimensions), for the fuzz targets to hold nn's loaders
// against: the whole file in memory, gunzipped in one go (every gzip member; anything else after the
// last is an error), then the header and exactly the values it promises. It shares no code with nn.
//   magic: 0x00 0x00 0x08 (unsigned bytes) and the number of dimensions; the dimensions, big-endian
//   32-bit; then the product of the dimensions in bytes, and nothing after them.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

struct idx_file {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;
  std::string values;
};

// The content of a file as nn defines it: gzip when it starts with 1f 8b, else the bytes themselves.
// nullopt for a broken gzip stream, or bytes after the last member that do not start another. Output
// beyond `max` bytes is refused (nullopt).
inline std::optional<std::string> gunzip_all(std::string_view file, std::size_t max = std::size_t{64} << 20) {
  if (file.size() < 2 || static_cast<unsigned char>(file[0]) != 0x1f || static_cast<unsigned char>(file[1]) != 0x8b)
    return std::string(file);
  std::string out;
  std::size_t at = 0;
  while (at < file.size()) {
    if (file.size() - at < 2 || static_cast<unsigned char>(file[at]) != 0x1f ||
        static_cast<unsigned char>(file[at + 1]) != 0x8b)
      return std::nullopt;  // junk after a member
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data() + at));
    z.avail_in = static_cast<uInt>(file.size() - at);
    int r = Z_OK;
    char buf[65536];
    while (r == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      r = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
      if (out.size() > max) r = Z_MEM_ERROR;
      if (r == Z_BUF_ERROR) break;  // the input ended inside the member
    }
    const std::size_t used = file.size() - at - z.avail_in;
    inflateEnd(&z);
    if (r != Z_STREAM_END) return std::nullopt;
    at += used;
  }
  return out;
}

// The header at the front of `content` (magic, type, 1 to 4 dimensions; `expected_magic` when not 0),
// with `values` holding whatever follows it, however many bytes that is; nullopt for a bad header.
inline std::optional<idx_file> parse_idx_header(std::string_view content, std::uint32_t expected_magic = 0) {
  const auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(content[at + i]);
    return v;
  };
  if (content.size() < 4) return std::nullopt;
  idx_file f;
  f.magic = u32(0);
  if (expected_magic != 0 && f.magic != expected_magic) return std::nullopt;
  if (content[0] != 0 || content[1] != 0 || content[2] != 8) return std::nullopt;
  const std::size_t rank = static_cast<unsigned char>(content[3]);
  if (rank < 1 || rank > 4) return std::nullopt;  // nn reads 1 to 4 dimensions (docs/untrusted-files.md)
  if (content.size() < 4 + 4 * rank) return std::nullopt;
  for (std::size_t d = 0; d < rank; ++d) f.dims.push_back(u32(4 + 4 * d));
  f.values = std::string(content.substr(4 + 4 * rank));
  return f;
}

// The IDX array in `content`, or nullopt when it is not one: a bad header, or more or fewer bytes of
// values than its dimensions multiply to.
inline std::optional<idx_file> parse_idx(std::string_view content, std::uint32_t expected_magic = 0) {
  auto f = parse_idx_header(content, expected_magic);
  if (!f) return f;
  unsigned __int128 values = 1;  // 4 dimensions below 2^32 multiply to less than 2^128
  for (const std::uint32_t d : f->dims) values *= d;
  if (f->values.size() != values) return std::nullopt;
  return f;
}

// `content` as one gzip member (level 1), or as two when `split` falls inside it (cut there).
inline std::string gzip(std::string_view content, std::size_t split = std::string_view::npos) {
  const auto member = [](std::string_view part) {
    z_stream z{};
    deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, static_cast<uLong>(part.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
    z.avail_in = static_cast<uInt>(part.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
  };
  if (split >= content.size()) return member(content);
  return member(content.substr(0, split)) + member(content.substr(split));
}

}  // namespace fuzz
