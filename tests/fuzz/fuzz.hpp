// What nn's libFuzzer targets share (docs/untrusted-files.md): the input as a file, the outcome of a call
// (a value, or a data_error's message), and a check that stops the run, with both sides printed, when two
// ways of reading the same input disagree. Any exception other than nn::data_error escapes to libFuzzer,
// which reports it as a crash: nn promises that bad input only ever gives a data_error.
#pragma once

#include <nn/data/error.hpp>
#include <nn/detail/param_file.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fuzz {

// A file named for this process and `name` in $TMPDIR (or /tmp), holding `bytes`. Each call overwrites it.
inline std::string file(const std::string& name, std::string_view bytes) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path =
      std::string(dir && *dir ? dir : "/tmp") + "/nn_fuzz_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// A call's value, or the message of the data_error it threw.
template <class T>
struct outcome {
  std::optional<T> value;
  std::string error;
  bool ok() const { return value.has_value(); }
};

template <class F>
auto run(F&& f) -> outcome<decltype(f())> {
  try {
    return {f(), {}};
  } catch (const nn::data_error& e) {
    return {std::nullopt, e.what()};
  }
}

[[noreturn]] inline void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "\nnn fuzz: %s\n  one side: %s\n  the other: %s\n", what, a.c_str(), b.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool good, const char* what, const std::string& a = {}, const std::string& b = {}) {
  if (!good) fail(what, a, b);
}

// For a file in nn's checkpoint container (checkpoints, quantized networks): a header length and a hash that
// fit the bytes after them, so the fuzzer explores the contents behind the hash. (Offsets of
// nn/checkpoint.hpp: the payload's length at 20, the payload from 28, its hash in the last 8 bytes.)
inline void seal(std::string& bytes) {
  if (bytes.size() < 36) return;
  const std::uint64_t payload = bytes.size() - 36;
  std::memcpy(bytes.data() + 20, &payload, 8);
  const std::uint64_t h = nn::detail::fnv1a(reinterpret_cast<const std::uint8_t*>(bytes.data()) + 28, payload);
  std::memcpy(bytes.data() + bytes.size() - 8, &h, 8);
}

// A byte from the input's front (0 when it is empty), removed from it.
inline std::uint8_t take(std::string_view& in) {
  if (in.empty()) return 0;
  const auto b = static_cast<std::uint8_t>(in.front());
  in.remove_prefix(1);
  return b;
}

}  // namespace fuzz
