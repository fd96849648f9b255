// Checkpoint files of training (trainer::checkpoint, docs/file-format.md): the bytes of a state, written
// atomically and read back with every check. What a checkpoint holds is the trainer's business
// (nn/train.hpp, trainer::state); this header knows only how values go into bytes and back:
//   "nnckpoint" + 7 zero bytes | u32 version = 1 | u64 payload bytes | payload | u64 FNV-1a of the payload
// all little-endian. The payload is a sequence of values; a vector is a u64 count and its values. A reader
// checks the hash before it parses anything, and every count against the bytes that are left, so a
// truncated, corrupt or forged file is a data_error naming the byte, never a crash or a huge allocation.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <sys/stat.h>  // POSIX, as nn/detail/input_file.hpp

#if __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#define NN_HAS_FSYNC 1
#endif

#include "nn/data/error.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/param_file.hpp"

namespace nn::detail {

inline constexpr std::size_t checkpoint_header = 16 + 4 + 8;

// A kind of file in this container: its magic (up to 16 bytes, zero-filled), its version, and what
// messages call it. Checkpoints and quantized networks (nn/quantize.hpp) are two.
struct state_format {
  char magic[16];
  std::uint32_t version;
  const char* what;  // "checkpoint"
};
inline constexpr state_format checkpoint_format{{'n', 'n', 'c', 'k', 'p', 'o', 'i', 'n', 't'}, 1, "checkpoint"};

// Values into bytes. A state's save(a) and load(a) are one function template over the archive: the same
// calls, in the same order, write and read it (a(x) for a number, a(vector) for a vector).
class state_writer {
 public:
  static constexpr bool loading = false;
  template <class V>
    requires std::is_arithmetic_v<V>
  void operator()(const V& v) {
    put_le(bytes_, v);
  }
  template <class V>
  void operator()(const std::vector<V>& v) {
    put_le<std::uint64_t>(bytes_, v.size());
    for (const V& x : v) (*this)(x);
  }
  template <class V>
  void operator()(const aligned_buffer<V>& v) {
    put_le<std::uint64_t>(bytes_, v.size());
    put_raw(bytes_, reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(V), sizeof(V));
  }
  void operator()(const std::string& s) {
    put_le<std::uint64_t>(bytes_, s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  // The file offset the next value goes to.
  std::size_t offset() const noexcept { return checkpoint_header + bytes_.size(); }
  // A value that must be the same when read back: a setting of the run (the reader compares).
  template <class V>
  void expect(const char*, const V& v) {
    (*this)(v);
  }

  // The whole file: header, payload, hash. (Sized once and filled: g++ 12 warns falsely of overflows in
  // vector::insert here.)
  std::vector<std::uint8_t> file(const state_format& format = checkpoint_format) const {
    if (bytes_.size() > (std::size_t{1} << 56)) throw std::length_error(std::string("nn: a ") + format.what + "'s state is too large");
    std::vector<std::uint8_t> out(checkpoint_header + bytes_.size() + 8);
    std::memcpy(out.data(), format.magic, 16);
    put_at(out.data() + 16, format.version);
    put_at(out.data() + 20, static_cast<std::uint64_t>(bytes_.size()));
    if (!bytes_.empty()) std::memcpy(out.data() + checkpoint_header, bytes_.data(), bytes_.size());
    put_at(out.data() + checkpoint_header + bytes_.size(), fnv1a(bytes_.data(), bytes_.size()));
    return out;
  }

 private:
  template <class U>
  static void put_at(std::uint8_t* p, U v) {
    std::memcpy(p, &v, sizeof(U));
    if constexpr (std::endian::native == std::endian::big) std::reverse(p, p + sizeof(U));
  }

  std::vector<std::uint8_t> bytes_;
};

// Bytes back into values, each read checked against what is left; offsets in errors count from the
// file's first byte.
class state_reader {
 public:
  static constexpr bool loading = true;
  // The checked payload of a whole file's bytes.
  state_reader(std::string path, std::vector<std::uint8_t> file, const state_format& format = checkpoint_format)
      : path_(std::move(path)), bytes_(std::move(file)), what_(format.what) {
    if (bytes_.size() < checkpoint_header + 8 || std::memcmp(bytes_.data(), format.magic, 16) != 0)
      throw data_error(path_, 0, std::string("expected an nn ") + what_ + " (\"" + std::string(format.magic, std::find(format.magic, format.magic + 16, '\0')) +
                                     "\" and " + std::to_string(checkpoint_header + 8) + " bytes at least), found " + describe_start());
    const auto version = get_le<std::uint32_t>(bytes_.data() + 16);
    if (version != format.version)
      throw data_error(path_, 16, std::string("expected ") + what_ + " version " + std::to_string(format.version) + ", found " +
                                      std::to_string(version));
    const auto payload = get_le<std::uint64_t>(bytes_.data() + 20);
    if (payload != bytes_.size() - checkpoint_header - 8)
      throw data_error(path_, 20, "the header promises " + std::to_string(payload) + " bytes of state, the file holds " +
                                      std::to_string(bytes_.size() - checkpoint_header - 8) + " (a truncated or extended file)");
    const auto stored = get_le<std::uint64_t>(bytes_.data() + bytes_.size() - 8);
    if (stored != fnv1a(bytes_.data() + checkpoint_header, payload))
      throw data_error(path_, bytes_.size() - 8, "the state's hash does not match its bytes (a corrupt file)");
    at_ = checkpoint_header;
    end_ = bytes_.size() - 8;
  }

  template <class V>
    requires std::is_arithmetic_v<V>
  void operator()(V& v) {
    need(sizeof(V), "a value");
    if constexpr (std::is_same_v<V, bool>) {  // one byte, 0 or 1 (any other is no bool)
      if (bytes_[at_] > 1) throw data_error(path_, at_, "expected a bool (0 or 1), found " + std::to_string(bytes_[at_]));
      v = bytes_[at_] == 1;
    } else {
      v = get_le<V>(bytes_.data() + at_);
    }
    at_ += sizeof(V);
  }
  template <class V>
  void operator()(std::vector<V>& v) {
    const std::size_t n = count(sizeof(V));
    v.assign(n, V{});
    for (V& x : v) (*this)(x);
  }
  template <class V>
  void operator()(aligned_buffer<V>& v) {
    const std::size_t n = count(sizeof(V));
    if (v.size() != n) v = aligned_buffer<V>(n);
    if (n) std::memcpy(v.data(), bytes_.data() + at_, n * sizeof(V));  // (an empty buffer's data() is null)
    if constexpr (std::endian::native == std::endian::big)
      for (std::size_t i = 0; i < n; ++i) v.data()[i] = get_le<V>(reinterpret_cast<const std::uint8_t*>(v.data() + i));
    at_ += n * sizeof(V);
  }
  void operator()(std::string& s) {
    const std::size_t n = count(1);
    s.assign(reinterpret_cast<const char*>(bytes_.data() + at_), n);
    at_ += n;
  }
  // A setting of the run that must equal this one's.
  template <class V>
  void expect(const char* what, const V& want) {
    const std::size_t here = at_;
    V found{};
    (*this)(found);
    if (!(found == want))
      throw data_error(path_, here, std::string("the ") + what_ + "'s " + what + " is " + text(found) + ", this run's is " +
                                        text(want) + " (resume with the settings it was made with)");
  }
  // Everything read: nothing may follow.
  void finish() const {
    if (at_ != end_)
      throw data_error(path_, at_, "expected the end of the state, found " + std::to_string(end_ - at_) + " more bytes");
  }
  std::size_t offset() const noexcept { return at_; }
  std::size_t left() const noexcept { return end_ - at_; }
  const std::string& path() const noexcept { return path_; }

 private:
  template <class V>
  static std::string text(const V& v) {
    if constexpr (std::is_same_v<V, std::string>) return '"' + v + '"';
    else if constexpr (std::is_floating_point_v<V>) {
      char b[32];
      std::snprintf(b, sizeof b, "%.17g", static_cast<double>(v));  // every digit: 0.01 is not 0.0100000001
      return b;
    } else if constexpr (std::is_arithmetic_v<V>) return std::to_string(v);
    else return "another value";
  }
  std::string describe_start() const {
    return std::to_string(bytes_.size()) + " bytes" + (bytes_.empty() ? "" : " starting \"" + printable(bytes_, 9) + "\"");
  }
  static std::string printable(const std::vector<std::uint8_t>& b, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < std::min(n, b.size()); ++i) s += (b[i] >= 32 && b[i] < 127) ? static_cast<char>(b[i]) : '?';
    return s;
  }
  void need(std::size_t bytes, const char* what) const {
    if (end_ - at_ < bytes)
      throw data_error(path_, at_, std::string("expected ") + what + " of " + std::to_string(bytes) + " bytes, found " +
                                       std::to_string(end_ - at_) + " before the hash");
  }
  // A u64 count of values of `size` bytes each, which must fit in what is left.
  std::size_t count(std::size_t size) {
    std::uint64_t n = 0;
    (*this)(n);
    if (n > (end_ - at_) / size)
      throw data_error(path_, at_ - 8, "a count of " + std::to_string(n) + " values of " + std::to_string(size) +
                                           " bytes, but only " + std::to_string(end_ - at_) + " bytes are left");
    return static_cast<std::size_t>(n);
  }

  std::string path_;
  std::vector<std::uint8_t> bytes_;
  const char* what_;
  std::size_t at_ = 0, end_ = 0;
};

// Writes `bytes` to `path` so that a crash at any moment leaves the old file or the new one, whole: a
// temporary file in the same directory, flushed to the disk (fsync), renamed over `path`, and the
// directory flushed too (so the rename itself survives a power cut).
inline void write_durably(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
#ifdef NN_HAS_FSYNC
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw data_error(path, data_error::no_offset, "cannot create the temporary file " + tmp + ": " + std::generic_category().message(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ::ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      throw data_error(path, data_error::no_offset, "writing " + tmp + " failed: " + std::generic_category().message(e));
    }
    done += static_cast<std::size_t>(w);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    std::remove(tmp.c_str());
    throw data_error(path, data_error::no_offset,
                     "flushing " + tmp + " to the disk failed: " + std::generic_category().message(synced ? errno : sync_error));
  }
  rename_into_place(tmp, path);
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
#else
  write_atomically(path, bytes);
#endif
}

// A checkpoint file's bytes, at most `limit` of them (what the state can hold, from the run's settings).
inline std::vector<std::uint8_t> read_checkpoint_bytes(const std::string& path, std::uint64_t limit, const char* what = "checkpoint",
                                                       const std::string& raise = {}) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists || !S_ISREG(st.st_mode))
    throw data_error(path, data_error::no_offset, std::string("expected a ") + what + " file, found " +
                                                      std::string(exists ? "something that is not a regular file" : "no file"));
  // The size of the file opened, not of the path (a writer may rename a new one over it meanwhile).
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw data_error(path, data_error::no_offset, "cannot open it");
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
  if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    std::fclose(f);
    throw data_error(path, data_error::no_offset, "cannot read its size");
  }
  if (static_cast<std::uint64_t>(size) > limit) {
    std::fclose(f);
    throw data_error(path, data_error::no_offset, std::string("a ") + what + " of this kind holds at most " + std::to_string(limit) +
                                                      " bytes, the file has " + std::to_string(size) + (raise.empty() ? "" : " (" + raise + ")"));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size())
    throw data_error(path, got, "the file ended after " + std::to_string(got) + " of its " + std::to_string(size) + " bytes");
  return bytes;
}

}  // namespace nn::detail
