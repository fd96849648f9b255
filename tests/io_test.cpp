// Saved parameters: round trips, and a clear error for every kind of wrong file.
#include <nn/io.hpp>
#include <nn/network.hpp>

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
  // Header: magic, version 1, 8-byte values, 3 sizes 3-7-2.
  const auto bytes = read_all(p);
  REQUIRE(std::string(bytes.data(), 8) == "nnparams");
  REQUIRE(bytes[8] == 1);
  REQUIRE(bytes[12] == 8);
  REQUIRE(bytes[16] == 3);
  REQUIRE(bytes[20] == 3);
  REQUIRE(bytes[24] == 7);
  REQUIRE(bytes[28] == 2);
  REQUIRE(bytes.size() == 8 + 12 + 12 + (3 * 7 + 7 + 7 * 2 + 2) * 8 + 8);
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
    b[8] = 2;
    write_all(p, b);
    expect_error("unsupported version: expected 1, found 2");
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
