// A file's content, plain or gzip (told from its first two bytes), read in order through small buffers:
// what the IDX loader and stream read. Inflated here with zlib's inflate, not its gz* functions, so that
// nothing is decompressed ahead of the caller (a gzip bomb costs what the caller asks for, no more) and
// bytes after the last gzip member are an error (gz* ignores them). Several members in a row are one
// content, as gzip itself reads them. Needs zlib.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

#include "nn/data/error.hpp"
#include "nn/detail/input_file.hpp"

namespace nn::detail {

class content_reader {
 public:
  content_reader(const std::string& path, const std::string& expected, double writer_seconds = 10)
      : file_(path, expected, writer_seconds), in_(1 << 16) {
    in_len_ = file_.read(in_.data(), 2);
    gzip_ = in_len_ == 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    if (gzip_ && inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)
      throw data_error(path, data_error::no_offset, "zlib could not start (out of memory?)");
  }
  content_reader(const content_reader&) = delete;
  content_reader& operator=(const content_reader&) = delete;
  ~content_reader() {
    if (gzip_) inflateEnd(&z_);
  }

  const std::string& path() const noexcept { return file_.path(); }
  bool gzip() const noexcept { return gzip_; }
  // The file itself (its size, when it is a regular file).
  const input_file& file() const noexcept { return file_; }
  // Bytes of content given so far.
  std::uint64_t offset() const noexcept { return offset_; }

  // Up to n bytes of content; fewer only at its end.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    std::size_t got = gzip_ ? inflate_into(out, n) : copy_into(out, n);
    offset_ += got;
    return got;
  }

 private:
  std::size_t copy_into(std::uint8_t* out, std::size_t n) {
    std::size_t got = std::min(n, in_len_ - in_pos_);
    std::copy_n(in_.data() + in_pos_, got, out);
    in_pos_ += got;
    if (got < n) got += file_.read(out + got, n - got);
    return got;
  }

  // More compressed input; false at the end of the file.
  bool fill() {
    in_pos_ = 0;
    in_len_ = file_.read(in_.data(), in_.size());
    return in_len_ > 0;
  }

  std::size_t inflate_into(std::uint8_t* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      if (member_done_) {
        // The end, another member, or bytes that are neither.
        if (in_pos_ == in_len_ && !fill()) break;
        if (in_len_ - in_pos_ < 2) {  // a member's first two bytes may straddle two reads
          in_[0] = in_[in_pos_];
          in_pos_ = 0;
          in_len_ = 1 + file_.read(in_.data() + 1, in_.size() - 1);
        }
        if (in_len_ - in_pos_ < 2 || in_[in_pos_] != 0x1f || in_[in_pos_ + 1] != 0x8b)
          throw data_error(path(), static_cast<std::size_t>(file_.offset() - (in_len_ - in_pos_)),
                           "expected the end of the file or another gzip member after the compressed data, found " +
                               std::to_string(in_len_ - in_pos_) + (in_len_ - in_pos_ == in_.size() ? " or more" : "") +
                               " other bytes (offset in the compressed file)");
        inflateReset(&z_);
        member_done_ = false;
      }
      if (in_pos_ == in_len_ && !fill())
        throw data_error(path(), static_cast<std::size_t>(offset_ + got),
                         "truncated gzip data: the compressed stream ends before its end marker");
      z_.next_in = in_.data() + in_pos_;
      z_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      z_.next_out = out + got;
      z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - got, 1u << 30));
      const uInt before = z_.avail_out;
      const int r = inflate(&z_, Z_NO_FLUSH);
      got += before - z_.avail_out;
      in_pos_ = in_len_ - z_.avail_in;
      if (r == Z_STREAM_END) member_done_ = true;
      else if (r != Z_OK && r != Z_BUF_ERROR)
        throw data_error(path(), static_cast<std::size_t>(offset_ + got),
                         std::string("corrupt gzip data (zlib: ") + (z_.msg ? z_.msg : "error " + std::to_string(r)) + ")");
    }
    return got;
  }

  input_file file_;
  std::vector<std::uint8_t> in_;
  std::size_t in_pos_ = 0, in_len_ = 0;
  z_stream z_{};
  bool gzip_ = false, member_done_ = false;
  std::uint64_t offset_ = 0;
};

}  // namespace nn::detail
