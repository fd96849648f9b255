// Protocol buffers' wire format, the encoding of ONNX files: a reader that never reads past its bytes and
// names the byte offset of every problem (nn::data_error), and a writer. Only what a file of messages
// needs: varints, 32- and 64-bit fixed values and length-delimited fields (strings, bytes, nested
// messages, packed repeated numbers); the deprecated groups are an error. The caller knows the schema:
// it asks for a field's value in the type it expects, and skips what it does not know.
// (docs/design.md, "ONNX": why nn reads the format itself rather than through libprotobuf.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "nn/data/error.hpp"

namespace nn::detail::pb {

enum class wire : std::uint8_t { varint = 0, fixed64 = 1, bytes = 2, group_start = 3, group_end = 4, fixed32 = 5 };

struct field {
  std::uint32_t number;
  wire type;
  std::size_t offset;  // of the field's tag, in the file
};

class reader {
 public:
  // `base`: the file offset of bytes[0], so that errors inside a nested message name the file's offset.
  reader(std::span<const std::uint8_t> bytes, const std::string& file, std::size_t base = 0) noexcept
      : begin_(bytes.data()), p_(bytes.data()), end_(bytes.data() + bytes.size()), base_(base), file_(&file) {}

  bool done() const noexcept { return p_ == end_; }
  std::size_t offset() const noexcept { return base_ + static_cast<std::size_t>(p_ - begin_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  const std::string& file() const noexcept { return *file_; }

  // The next field's tag: its number (1 to 2^29 − 1) and wire type.
  field next() {
    const std::size_t at = offset();
    const std::uint64_t tag = varint();
    const auto type = static_cast<std::uint8_t>(tag & 7);
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > (1u << 29) - 1)
      fail(at, "a field number from 1 to 536870911, found " + std::to_string(number));
    if (type > 5 || type == 3 || type == 4)
      fail(at, "a field of wire type 0, 1, 2 or 5 (field " + std::to_string(number) + "), found wire type " +
                   std::to_string(type) + (type == 3 || type == 4 ? " (a group, which nn does not read)" : ""));
    return {static_cast<std::uint32_t>(number), static_cast<wire>(type), at};
  }

  std::uint64_t varint() {
    const std::size_t at = offset();
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_)
        fail(at, "a varint, found the end of the data after " + std::to_string(shift / 7) + " of its bytes");
      const std::uint8_t b = *p_++;
      if (shift == 63 && b > 1) fail(at, "a varint of at most 64 bits, found more");
      v |= std::uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(at, "a varint of at most 10 bytes, found more");  // not reached: the 10th byte returns or fails
  }
  std::uint32_t fixed32() {
    std::uint32_t v;
    std::memcpy(&v, take(4, "a 4-byte value"), 4);
    return v;  // little-endian in the file, as on every machine nn builds for
  }
  std::uint64_t fixed64() {
    std::uint64_t v;
    std::memcpy(&v, take(8, "an 8-byte value"), 8);
    return v;
  }
  float float32() {
    const std::uint32_t u = fixed32();
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  // A length-delimited field's bytes, and the file offset of the first.
  std::span<const std::uint8_t> bytes() {
    const std::size_t at = offset();
    const std::uint64_t n = varint();
    if (n > remaining())
      fail(at,
           "a length of at most the " + std::to_string(remaining()) + " bytes that remain, found " + std::to_string(n));
    return {take(static_cast<std::size_t>(n), "bytes"), static_cast<std::size_t>(n)};
  }
  std::string string() {
    const auto b = bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  // A nested message: a reader over its bytes.
  reader message() {
    const auto b = bytes();
    return reader(b, *file_, base_ + static_cast<std::size_t>(b.data() - begin_));
  }
  // Skips the value of a field whose tag was just read.
  void skip(const field& f) {
    switch (f.type) {
      case wire::varint: (void)varint(); break;
      case wire::fixed64: (void)take(8, "an 8-byte value"); break;
      case wire::fixed32: (void)take(4, "a 4-byte value"); break;
      default: (void)bytes(); break;  // next() admits no other type
    }
  }

  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw data_error(*file_, at, "expected " + what);
  }

 private:
  const std::uint8_t* take(std::size_t n, const char* what) {
    if (n > remaining())
      fail(offset(), std::string(what) + ", found the end of the data " + std::to_string(remaining()) +
                         (remaining() == 1 ? " byte" : " bytes") + " on");
    const std::uint8_t* at = p_;
    p_ += n;
    return at;
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::size_t base_;
  const std::string* file_;
};

// Appends fields to a string of bytes; a nested message is written into a writer of its own, then added.
class writer {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(std::uint32_t number, wire type) { varint(std::uint64_t(number) << 3 | static_cast<std::uint8_t>(type)); }
  void field_varint(std::uint32_t number, std::uint64_t v) {
    tag(number, wire::varint);
    varint(v);
  }
  void field_fixed32(std::uint32_t number, std::uint32_t v) {
    tag(number, wire::fixed32);
    out_.append(reinterpret_cast<const char*>(&v), 4);
  }
  void field_fixed64(std::uint32_t number, std::uint64_t v) {
    tag(number, wire::fixed64);
    out_.append(reinterpret_cast<const char*>(&v), 8);
  }
  void field_float(std::uint32_t number, float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    field_fixed32(number, u);
  }
  void field_bytes(std::uint32_t number, std::string_view bytes) {
    tag(number, wire::bytes);
    varint(bytes.size());
    out_.append(bytes);
  }
  void field_message(std::uint32_t number, const writer& message) { field_bytes(number, message.out_); }
  // A packed repeated float field: the values' little-endian bytes in one length-delimited field.
  void field_floats(std::uint32_t number, std::span<const float> values) {
    tag(number, wire::bytes);
    varint(values.size() * 4);
    if (!values.empty()) out_.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  }
  // A packed repeated varint field (ONNX's dims and ints).
  void field_varints(std::uint32_t number, std::span<const std::int64_t> values) {
    writer packed;
    for (const std::int64_t v : values) packed.varint(static_cast<std::uint64_t>(v));
    field_bytes(number, packed.out_);
  }

  const std::string& bytes() const noexcept { return out_; }

 private:
  std::string out_;
};

}  // namespace nn::detail::pb
