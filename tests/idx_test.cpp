// The IDX loader on small files each test writes itself, good and bad, plain and gzipped.
#include <nn/data/idx.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / "nn_idx_test";
  fs::create_directories(d);
  return d;
}

void put_u32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
}

std::vector<std::uint8_t> images_bytes(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::vector<std::uint8_t> v;
  put_u32(v, 2051);
  put_u32(v, n);
  put_u32(v, rows);
  put_u32(v, cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) v.push_back(static_cast<std::uint8_t>((i * 37) % 256));
  return v;
}

std::vector<std::uint8_t> labels_bytes(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> v;
  put_u32(v, 2049);
  put_u32(v, static_cast<std::uint32_t>(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const auto p = (temp_dir() / name).string();
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& bytes) {
  const auto p = (temp_dir() / "gzip_scratch.gz").string();
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(g);
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a valid image and label file load as scaled inputs and one-hot targets, plain or gzipped", "[idx]") {
  const auto img = images_bytes(3, 2, 2);
  const auto lab = labels_bytes({7, 0, 9});
  for (bool gz : {false, true}) {
    const auto ip = write(gz ? "ok-images.gz" : "ok-images", gz ? gzip(img) : img);
    const auto lp = write(gz ? "ok-labels.gz" : "ok-labels", gz ? gzip(lab) : lab);
    const auto d = nn::load_idx<float>(ip, lp);
    REQUIRE(d.size() == 3);
    REQUIRE(d.input_size() == 4);
    REQUIRE(d.output_size() == 10);
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t k = 0; k < 4; ++k) REQUIRE(d.input(i)[k] == Approx(img[16 + i * 4 + k] / 255.0f));
    for (std::size_t c = 0; c < 10; ++c) {
      REQUIRE(d.target(0)[c] == (c == 7 ? 1.f : 0.f));
      REQUIRE(d.target(2)[c] == (c == 9 ? 1.f : 0.f));
    }
  }
}

TEST_CASE("bad IDX files give data_error naming the file, offset, expected and found", "[idx]") {
  const auto good_img = write("g-images", images_bytes(3, 2, 2));
  const auto good_lab = write("g-labels", labels_bytes({1, 2, 3}));

  SECTION("missing file") {
    const auto e = error_of([&] { nn::load_idx<float>((temp_dir() / "nope").string(), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("nope"));
    REQUIRE_THAT(e.what(), contains_text("no such file"));
  }
  SECTION("empty file") {
    const auto p = write("empty", {});
    const auto e = error_of([&] { nn::load_idx<float>(p, good_lab); });
    REQUIRE_THAT(e.what(), contains_text("empty"));
    REQUIRE(e.file() == p);
  }
  SECTION("wrong magic: labels given as images") {
    const auto e = error_of([&] { nn::load_idx<float>(good_lab, good_img); });
    REQUIRE(e.offset() == 0);
    REQUIRE_THAT(e.what(), contains_text("expected 2051 (images), found 2049 (labels)"));
  }
  SECTION("not IDX at all") {
    const auto p = write("text", {'h', 'e', 'l', 'l', 'o', '\n'});
    REQUIRE_THROWS_AS(nn::load_idx<float>(p, good_lab), nn::data_error);
  }
  SECTION("truncated header") {
    auto b = images_bytes(3, 2, 2);
    b.resize(10);
    const auto e = error_of([&] { nn::load_idx<float>(write("short-header", b), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("truncated header: expected 16 bytes"));
    REQUIRE(e.offset() == 10);
  }
  SECTION("truncated data") {
    auto b = images_bytes(3, 2, 2);
    b.pop_back();
    const auto e = error_of([&] { nn::load_idx<float>(write("short-data", b), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("expected 12 bytes"));
    REQUIRE_THAT(e.what(), contains_text("found 11"));
  }
  SECTION("bytes after the data") {
    auto b = labels_bytes({1, 2, 3});
    b.push_back(4);
    const auto e = error_of([&] { nn::load_idx<float>(good_img, write("long-labels", b)); });
    REQUIRE(e.offset() == 11);
    REQUIRE_THAT(e.what(), contains_text("1 more bytes"));
  }
  SECTION("image and label counts differ") {
    const auto e = error_of([&] { nn::load_idx<float>(good_img, write("two-labels", labels_bytes({1, 2}))); });
    REQUIRE_THAT(e.what(), contains_text("expected 3 labels"));
    REQUIRE_THAT(e.what(), contains_text("found 2"));
  }
  SECTION("image size differs from the network's inputs") {
    const auto e = error_of([&] { nn::load_idx<float>(good_img, good_lab, 10, 784); });
    REQUIRE_THAT(e.what(), contains_text("2x2 = 4 pixels, but the network has 784 inputs"));
  }
  SECTION("label out of range") {
    const auto e = error_of([&] { nn::load_idx<float>(good_img, write("bad-label", labels_bytes({1, 12, 3}))); });
    REQUIRE(e.offset() == 9);
    REQUIRE_THAT(e.what(), contains_text("found 12"));
  }
  SECTION("corrupt gzip") {
    auto gz = gzip(images_bytes(50, 28, 28));
    for (std::size_t i = 20; i < gz.size() - 20; i += 7) gz[i] ^= 0x5a;
    const auto e = error_of([&] { nn::load_idx<float>(write("corrupt.gz", gz), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("gzip"));
  }
  SECTION("gzip cut short") {
    auto gz = gzip(images_bytes(50, 28, 28));
    gz.resize(gz.size() / 2);
    REQUIRE_THROWS_AS(nn::load_idx<float>(write("cut.gz", gz), good_lab), nn::data_error);
  }
}

TEST_CASE("Fashion-MNIST from Debian's package loads whole, when installed", "[idx]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dir + "t10k-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist is not installed: nothing to check");
    return;
  }
  const auto d = nn::load_idx<float>(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz", 10, 784);
  REQUIRE(d.size() == 10000);
  std::size_t per_class[10] = {};
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::size_t c = 0; c < 10; ++c) per_class[c] += d.target(i)[c] == 1.f;
  for (auto n : per_class) REQUIRE(n == 1000);
}
