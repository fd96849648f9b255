// Saved parameters: round trips, and a clear error for every kind of wrong file.
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

namespace fs = std::filesystem;

std::string temp_file(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / "nn_io_test";
  fs::create_directories(d);
  return (d / name).string();
}

std::vector<char> read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& p, const std::vector<char>& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
}

// A user's activation with no `name` member.
struct softsign {
  template <class V>
  V f(const V& z) const {
    return z / (V(nn::simd::scalar_of_t<V>(1)) + nn::simd::abs(z));
  }
  template <class V>
  V df(const V& z, const V&) const {
    const V d = V(nn::simd::scalar_of_t<V>(1)) + nn::simd::abs(z);
    return V(nn::simd::scalar_of_t<V>(1)) / (d * d);
  }
};

}  // namespace

TEST_CASE("parameters round-trip exactly, float and double", "[io]") {
  const auto p = temp_file("net.nnp");
  nn::network<784, 30, 10> a(5), b;
  nn::save_parameters(a, p);
  REQUIRE(!fs::exists(p + ".tmp"));
  nn::load_parameters(b, p);
  REQUIRE(a == b);

  nn::basic_network<nn::policies<double>, 3, 7, 2> c(6), d;
  nn::save_parameters(c, p);
  nn::load_parameters(d, p);
  REQUIRE(c == d);
  // Header: magic, version 2, 8-byte values, 3 sizes 3-7-2, then the activations' names.
  const auto bytes = read_all(p);
  REQUIRE(std::string(bytes.data(), 8) == "nnparams");
  REQUIRE(bytes[8] == 2);
  REQUIRE(bytes[12] == 8);
  REQUIRE(bytes[16] == 3);
  REQUIRE(bytes[20] == 3);
  REQUIRE(bytes[24] == 7);
  REQUIRE(bytes[28] == 2);
  REQUIRE(bytes[32] == 7);
  REQUIRE(std::string(bytes.data() + 36, 7) == "sigmoid");
  REQUIRE(bytes[43] == 7);
  REQUIRE(std::string(bytes.data() + 47, 7) == "sigmoid");
  REQUIRE(bytes.size() == 8 + 12 + 12 + 2 * (4 + 7) + (3 * 7 + 7 + 7 * 2 + 2) * 8 + 8);
  REQUIRE(nn::read_parameter_sizes(p) == std::vector<std::uint32_t>{3, 7, 2});
  REQUIRE_THROWS_AS(nn::read_parameter_sizes(temp_file("absent.nnp")), nn::data_error);
}

TEST_CASE("wrong parameter files are clear errors and leave the network unchanged", "[io]") {
  const auto p = temp_file("wrong.nnp");
  nn::network<4, 3, 2> saved(1);
  nn::save_parameters(saved, p);
  nn::network<4, 3, 2> net(2);
  const auto before = net;
  auto expect_error = [&](const std::string& text) {
    try {
      nn::load_parameters(net, p);
      FAIL("no exception");
    } catch (const nn::data_error& e) {
      REQUIRE_THAT(e.what(), contains_text(text));
      REQUIRE_THAT(e.what(), contains_text(p));
    }
    REQUIRE(net == before);
  };
  const auto good = read_all(p);

  SECTION("another shape") {
    nn::network<4, 5, 2> other(1);
    nn::save_parameters(other, p);
    expect_error("the file holds a 4-5-2 network, expected 4-3-2");
  }
  SECTION("another element type") {
    nn::basic_network<nn::policies<double>, 4, 3, 2> other(1);
    nn::save_parameters(other, p);
    expect_error("values of 8 bytes");
  }
  SECTION("another version") {
    auto b = good;
    b[8] = 3;
    write_all(p, b);
    expect_error("unsupported version: expected 1 or 2, found 3");
  }
  SECTION("not a parameter file") {
    write_all(p, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
    expect_error("not an nn parameter file");
  }
  SECTION("truncated") {
    auto b = good;
    b.resize(b.size() - 5);
    write_all(p, b);
    expect_error("truncated");
  }
  SECTION("other activations") {
    nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 4, 3, 2> other(1);
    nn::save_parameters(other, p);
    expect_error("byte 32: the file's network has hidden activation relu, expected sigmoid");
    nn::basic_network<nn::policies<float, nn::sigmoid, nn::softmax>, 4, 3, 2> half(1);
    nn::save_parameters(half, p);
    expect_error("byte 43: the file's network has output activation softmax, expected sigmoid");
  }
  SECTION("a flipped bit in an activation's name is corruption") {
    auto b = good;
    b[38] ^= 0x01;
    write_all(p, b);
    expect_error("checksum mismatch");
  }
  SECTION("a flipped bit") {
    auto b = good;
    b[40] ^= 0x10;
    write_all(p, b);
    expect_error("checksum mismatch");
  }
  SECTION("missing") {
    fs::remove(p);
    expect_error("no such file");
  }
}

TEST_CASE("a whole network round-trips (sizes, activations, parameters), and version 1 files still load", "[io]") {
  const auto p = temp_file("whole.nnp");
  using Net = nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 6, 5, 4, 3>;
  Net a(7, nn::he_init{}), b;
  nn::save_parameters(a, p);
  nn::load_parameters(b, p);
  REQUIRE(a == b);
  const std::array<float, 6> x{0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f};
  REQUIRE(a.feedforward(x) == b.feedforward(x));

  // The same network in format version 1 (no names): loads into any activations of that shape.
  auto bytes = read_all(p);
  const std::size_t names_at = 20 + 4 * 4, names_len = (4 + 4) + (4 + 7);  // "relu", "softmax"
  REQUIRE(std::string(bytes.data() + names_at + 4, 4) == "relu");
  std::vector<char> v1(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(names_at));
  v1.insert(v1.end(), bytes.begin() + static_cast<std::ptrdiff_t>(names_at + names_len), bytes.end() - 8);
  v1[8] = 1;
  const std::uint64_t h = nn::detail::fnv1a(reinterpret_cast<const std::uint8_t*>(v1.data()), v1.size());
  for (int i = 0; i < 8; ++i) v1.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
  write_all(p, v1);
  Net c;
  nn::load_parameters(c, p);
  REQUIRE(a == c);

  // A user's activation without a name is saved as "unnamed" and checked as such.
  nn::basic_network<nn::policies<float, softsign, nn::sigmoid>, 6, 5, 3> u(1), v;
  nn::save_parameters(u, p);
  REQUIRE(std::string(read_all(p).data() + 32 + 4, 7) == "unnamed");
  nn::load_parameters(v, p);
  REQUIRE(u == v);
}
