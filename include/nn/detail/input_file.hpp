// Opening a file that nn reads, as hostile input: a directory is refused, a FIFO waits a bounded time for
// a writer instead of blocking in open() for ever, every failure is a data_error naming the file, and reads
// go through a bound given by the caller (what the header promises, or a limit), so /dev/zero or an
// endless pipe cannot fill memory. POSIX (open, fstat, read); docs/untrusted-files.md.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "nn/data/error.hpp"

namespace nn::detail {

class input_file {
 public:
  // `expected` says what the file should be, for messages: "saved nn parameters", "an IDX file". A FIFO
  // (a named pipe) gets `writer_seconds` for a writer to connect and send its first bytes.
  input_file(std::string path, const std::string& expected, double writer_seconds = 10) : path_(std::move(path)) {
    // Non-blocking, so that opening a FIFO does not wait for a writer; blocking again for the reads.
    fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      const int e = errno;
      if (e == ENOENT) throw data_error(path_, data_error::no_offset, "no such file (expected " + expected + ")");
      throw data_error(path_, data_error::no_offset, "cannot open (expected " + expected + "): " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || S_ISDIR(st.st_mode)) {
      const bool dir = S_ISDIR(st.st_mode);
      const int e = errno;
      ::close(fd_);
      throw data_error(path_, data_error::no_offset,
                       dir ? "is a directory, expected " + expected : "cannot read its type: " + std::string(std::strerror(e)));
    }
    regular_ = S_ISREG(st.st_mode);
    size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (S_ISFIFO(st.st_mode)) {
      // Opened without a writer, a FIFO's read would say "end of file" at once; wait for one instead,
      // for a bounded time (a writer that connects and closes is a clean end of file).
      pollfd p{fd_, POLLIN, 0};
      int r;
      do r = ::poll(&p, 1, static_cast<int>(writer_seconds * 1000));
      while (r < 0 && errno == EINTR);
      if (r == 0) {
        ::close(fd_);
        char secs[32];
        std::snprintf(secs, sizeof secs, "%g", writer_seconds);
        throw data_error(path_, data_error::no_offset,
                         "a FIFO with no writer: nothing came in " + std::string(secs) + " s (expected " + expected + ")");
      }
    }
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  }
  input_file(input_file&& o) noexcept
      : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), regular_(o.regular_), size_(o.size_), offset_(o.offset_) {}
  input_file& operator=(input_file&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      path_ = std::move(o.path_);
      fd_ = std::exchange(o.fd_, -1);
      regular_ = o.regular_;
      size_ = o.size_;
      offset_ = o.offset_;
    }
    return *this;
  }
  ~input_file() {
    if (fd_ >= 0) ::close(fd_);
  }

  const std::string& path() const noexcept { return path_; }
  int fd() const noexcept { return fd_; }
  // A regular file's size from the file system (0 for pipes and devices, whose length is unknown).
  bool regular() const noexcept { return regular_; }
  std::uint64_t size() const noexcept { return size_; }
  // Bytes read so far.
  std::uint64_t offset() const noexcept { return offset_; }

  // Up to n bytes; fewer only at the end of the file.
  std::size_t read(void* buf, std::size_t n) {
    auto* p = static_cast<unsigned char*>(buf);
    std::size_t got = 0;
    while (got < n) {
      const ::ssize_t r = ::read(fd_, p + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw data_error(path_, static_cast<std::size_t>(offset_ + got), std::string("read error: ") + std::strerror(errno));
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    offset_ += got;
    return got;
  }

  // Reads on, appending to `out`, until `end` bytes of the file have been read (offset() == end) or it
  // ends (then false). Never reads past byte `limit`: a file with more is an error at that byte, and no
  // more is read; `what` says what the limit is, for the message ("this network's file takes 95,072
  // bytes"). Memory grows with what the file really has, in steps of at most 1 MiB, not with `end`.
  bool read_to(std::vector<std::uint8_t>& out, std::uint64_t end, std::uint64_t limit, const std::string& what) {
    const std::uint64_t target = std::min(end, limit == UINT64_MAX ? limit : limit + 1);
    while (offset_ < target) {
      std::uint64_t chunk = std::min<std::uint64_t>(target - offset_, 1 << 20);
      // A regular file's size says how much is left (one more byte shows its end, or that it grew).
      if (regular_ && size_ >= offset_) chunk = std::min<std::uint64_t>(chunk, size_ - offset_ + 1);
      const std::size_t old = out.size();
      out.resize(old + static_cast<std::size_t>(chunk));
      const std::size_t got = read(out.data() + old, static_cast<std::size_t>(chunk));
      out.resize(old + got);
      if (got < chunk) break;
    }
    if (offset_ > limit)
      throw data_error(path_, static_cast<std::size_t>(limit), "expected the end of the file (" + what + "), found more bytes");
    return offset_ >= end;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool regular_ = false;
  std::uint64_t size_ = 0, offset_ = 0;
};

}  // namespace nn::detail
