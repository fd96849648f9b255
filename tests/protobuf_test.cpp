// The protocol-buffer wire format (nn/detail/protobuf.hpp) against bytes written out by hand from the
// format's specification, writer and reader in both directions, and every way its bytes can be wrong:
// each an nn::data_error at the byte where the problem starts.
#include <nn/detail/protobuf.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace pb = nn::detail::pb;
const std::string file = "model.onnx";

std::vector<std::uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<std::uint8_t> v;
  for (const int b : list) v.push_back(static_cast<std::uint8_t>(b));
  return v;
}
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("protobuf: varints as the specification writes them", "[protobuf]") {
  // (value, encoding): 150 is the specification's example, 08 96 01 its field 1.
  const std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> cases = {
      {0, bytes({0x00})},
      {1, bytes({0x01})},
      {127, bytes({0x7f})},
      {128, bytes({0x80, 0x01})},
      {150, bytes({0x96, 0x01})},
      {300, bytes({0xac, 0x02})},
      {std::uint64_t(1) << 35, bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01})},
      // −1 as an int64 (ONNX writes negative dims and ints so): ten bytes.
      {std::numeric_limits<std::uint64_t>::max(), bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})}};
  for (const auto& [value, encoding] : cases) {
    CAPTURE(value);
    pb::writer w;
    w.varint(value);
    REQUIRE(bytes(w.bytes()) == encoding);
    pb::reader r(encoding, file);
    REQUIRE(r.varint() == value);
    REQUIRE(r.done());
  }
  const auto example = bytes({0x08, 0x96, 0x01});
  pb::reader r(example, file);
  const pb::field f = r.next();
  REQUIRE((f.number == 1 && f.type == pb::wire::varint && f.offset == 0));
  REQUIRE(r.varint() == 150);
  // The largest field number, 2^29 − 1, with wire type 5.
  const auto largest = bytes({0xfd, 0xff, 0xff, 0xff, 0x0f});
  pb::reader big(largest, file);
  const pb::field g = big.next();
  REQUIRE((g.number == 536870911 && g.type == pb::wire::fixed32));
}

TEST_CASE("protobuf: nested messages, packed values and skipped fields read back as written", "[protobuf]") {
  pb::writer inner;
  inner.field_bytes(8, "conv1.weight");
  const std::vector<std::int64_t> dims{20, 1, 5, 5};
  inner.field_varints(1, dims);
  const std::vector<float> values{0.5f, -1.25f, 3e-8f};
  inner.field_floats(4, values);
  inner.field_float(2, 2.5f);
  pb::writer outer;
  outer.field_varint(1, 8);  // a field the reader skips
  outer.field_message(5, inner);
  outer.field_fixed32(9, 0xdeadbeefu);  // skipped too
  outer.field_fixed64(10, 42);          // and an 8-byte one
  outer.field_bytes(11, "");            // and an empty length-delimited one
  const auto data = bytes(outer.bytes());

  std::string name;
  std::vector<std::int64_t> got_dims;
  std::vector<float> got_values;
  float f2 = 0;
  int skipped = 0;
  std::size_t inner_at = 0;
  pb::reader whole(data, file);
  while (!whole.done()) {
    const pb::field f = whole.next();
    if (f.number != 5) {
      whole.skip(f);
      ++skipped;
      continue;
    }
    inner_at = whole.offset();
    pb::reader m = whole.message();
    REQUIRE(m.offset() == inner_at + 1);  // the length took one byte
    while (!m.done()) {
      const pb::field g = m.next();
      if (g.number == 8)
        name = m.string();
      else if (g.number == 1) {
        pb::reader packed = m.message();
        while (!packed.done()) got_dims.push_back(static_cast<std::int64_t>(packed.varint()));
      } else if (g.number == 4) {
        pb::reader packed = m.message();
        while (!packed.done()) got_values.push_back(packed.float32());
      } else if (g.number == 2)
        f2 = m.float32();
    }
  }
  REQUIRE(name == "conv1.weight");
  REQUIRE(got_dims == dims);
  REQUIRE(got_values == values);
  REQUIRE(f2 == 2.5f);
  REQUIRE(skipped == 4);
}

TEST_CASE("protobuf: every malformed input is a data_error at its byte", "[protobuf]") {
  auto check = [](std::vector<std::uint8_t> data, auto read, std::size_t offset, const std::string& text) {
    CAPTURE(text);
    pb::reader r(data, file);
    const auto e = error_of([&] { read(r); });
    INFO(e.what());
    CHECK(e.file() == file);
    CHECK(e.offset() == offset);
    CHECK(e.problem().find(text) != std::string::npos);
  };
  auto next = [](pb::reader& r) { (void)r.next(); };
  auto varint = [](pb::reader& r) { (void)r.varint(); };
  auto field_then_value = [](pb::reader& r) {
    const pb::field f = r.next();
    r.skip(f);
  };
  // A varint cut off, one longer than ten bytes, one over 64 bits.
  check(bytes({0x96}), varint, 0, "a varint, found the end of the data after 1 of its bytes");
  check(bytes({0x08, 0x80, 0x80}), field_then_value, 1, "a varint, found the end of the data after 2");
  check(bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}), varint, 0, "at most 64 bits");
  check(bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00}), varint, 0, "at most 64 bits");
  // Field number 0, one past 2^29 − 1, groups, and wire types 6 and 7.
  check(bytes({0x00}), next, 0, "a field number from 1 to 536870911, found 0");
  check(bytes({0x80, 0x80, 0x80, 0x80, 0x10}), next, 0, "found 536870912");
  check(bytes({0x0b}), next, 0, "found wire type 3 (a group");
  check(bytes({0x0c}), next, 0, "found wire type 4 (a group");
  check(bytes({0x0e}), next, 0, "found wire type 6");
  check(bytes({0x0f}), next, 0, "found wire type 7");
  // Lengths past the end, fixed values cut off.
  check(bytes({0x0a, 0x05, 'a', 'b'}), field_then_value, 1, "a length of at most the 2 bytes that remain, found 5");
  check(bytes({0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), field_then_value, 1, "found 4294967295");
  check(bytes({0x0d, 0x01, 0x02, 0x03}), field_then_value, 1, "a 4-byte value, found the end of the data 3 bytes on");
  check(bytes({0x09, 0x01}), field_then_value, 1, "an 8-byte value, found the end of the data 1 byte on");
  // Inside a nested message the offset is the file's, not the message's.
  check(
      bytes({0x12, 0x03, 0x08, 0x96, 0x96}),
      [](pb::reader& r) {
        (void)r.next();
        pb::reader m = r.message();
        (void)m.next();
        (void)m.varint();
      },
      3, "a varint, found the end of the data after 2");
  // The message names the file and the byte.
  const auto empty = bytes({});
  pb::reader at_end(empty, file);
  REQUIRE(at_end.done());
  REQUIRE(std::string(error_of([&] { (void)at_end.next(); }).what()) ==
          "model.onnx: byte 0: expected a varint, found the end of the data after 0 of its bytes");
}
