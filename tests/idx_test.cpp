// The IDX loaders on small files each test writes itself, good and bad, plain and gzipped: load_idx
// (floats) and load_idx_bytes (bytes), which must check alike and give the same values.
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/online.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace fs = std::filesystem;

// A folder of this process's own, removed at exit: ctest runs the test cases (both instances of a
// TEMPLATE_TEST_CASE too) in parallel processes, which must not write the same files.
const fs::path& temp_dir() {
  static const struct folder {
    fs::path path = fs::temp_directory_path() / ("nn_idx_test." + std::to_string(std::random_device{}()));
    folder() { fs::create_directories(path); }
    ~folder() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } f;
  return f.path;
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

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& bytes) {
  const auto p = (temp_dir() / "gzip_scratch.gz").string();
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(g);
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The two loaders, for the tests that must hold for both: the same checks and the same data_errors.
struct float_loader {
  static auto load(const std::string& images, const std::string& labels, std::size_t classes = 10,
                   std::size_t inputs = nn::dynamic) {
    return nn::load_idx<float>(images, labels, classes, inputs);
  }
};
struct byte_loader {
  static auto load(const std::string& images, const std::string& labels, std::size_t classes = 10,
                   std::size_t inputs = nn::dynamic) {
    return nn::load_idx_bytes<float>(images, labels, classes, inputs);
  }
};

// The stream (nn::idx_stream), read to its end: it must check alike too, as it reaches each part.
struct stream_loader {
  static std::size_t load(const std::string& images, const std::string& labels, std::size_t classes = 10,
                          std::size_t inputs = nn::dynamic) {
    nn::idx_stream<float> s(images, labels, classes, inputs);
    std::vector<float> x(s.input_size()), y(s.output_size());
    while (s.next(x, y)) {
    }
    return s.position();
  }
};

// n random images of rows x cols and random labels below `classes`, written as IDX files.
std::pair<std::string, std::string> random_idx(const std::string& name, std::uint32_t n, std::uint32_t rows,
                                               std::uint32_t cols, std::size_t classes, std::uint64_t seed) {
  nn::rng r(seed);
  auto img = images_bytes(n, rows, cols);
  for (std::size_t i = 16; i < img.size(); ++i) img[i] = static_cast<std::uint8_t>(r.below(256));
  std::vector<std::uint8_t> labels(n);
  for (auto& l : labels) l = static_cast<std::uint8_t>(r.below(classes));
  return {write(name + "-images", img), write(name + "-labels", labels_bytes(labels))};
}

// Every input row the trainer would put into a workspace of Net, for all samples of d.
template <class Net, class Data>
std::vector<typename Net::value_type> gathered_inputs(const Data& d) {
  typename Net::workspace ws(d.size());
  std::vector<std::size_t> idx(d.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  nn::detail::gather<Net>(d, std::span<const std::size_t>(idx), ws);
  const auto x = ws.input();
  return {x.data(), x.data() + d.size() * x.stride};
}

// Trains Net from `seed` on `train` and returns it.
template <class Net, class Data>
Net trained(const Data& train, std::size_t epochs, std::uint64_t seed) {
  Net net(seed);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = epochs;
  t.seed = seed;
  t.on_epoch = nullptr;
  t.fit(net, train);
  return net;
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
      for (std::size_t k = 0; k < 4; ++k) REQUIRE(d.input(i)[k] == static_cast<float>(img[16 + i * 4 + k]) / 255.f);
    for (std::size_t c = 0; c < 10; ++c) {
      REQUIRE(d.target(0)[c] == (c == 7 ? 1.f : 0.f));
      REQUIRE(d.target(2)[c] == (c == 9 ? 1.f : 0.f));
    }
  }
}

TEMPLATE_TEST_CASE("bad IDX files give data_error naming the file, offset, expected and found", "[idx]", float_loader,
                   byte_loader, stream_loader) {
  const auto good_img = write("g-images", images_bytes(3, 2, 2));
  const auto good_lab = write("g-labels", labels_bytes({1, 2, 3}));

  SECTION("missing file") {
    const auto e = error_of([&] { TestType::load((temp_dir() / "nope").string(), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("nope"));
    REQUIRE_THAT(e.what(), contains_text("no such file"));
  }
  SECTION("empty file") {
    const auto p = write("empty", {});
    const auto e = error_of([&] { TestType::load(p, good_lab); });
    REQUIRE_THAT(e.what(), contains_text("empty"));
    REQUIRE(e.file() == p);
  }
  SECTION("wrong magic: labels given as images") {
    const auto e = error_of([&] { TestType::load(good_lab, good_img); });
    REQUIRE(e.offset() == 0);
    REQUIRE_THAT(e.what(), contains_text("expected 2051 (images), found 2049 (labels)"));
  }
  SECTION("not IDX at all") {
    const auto p = write("text", {'h', 'e', 'l', 'l', 'o', '\n'});
    REQUIRE_THROWS_AS(TestType::load(p, good_lab), nn::data_error);
  }
  SECTION("truncated header") {
    auto b = images_bytes(3, 2, 2);
    b.resize(10);
    const auto e = error_of([&] { TestType::load(write("short-header", b), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("truncated header: expected 16 bytes"));
    REQUIRE(e.offset() == 10);
  }
  SECTION("truncated data") {
    auto b = images_bytes(3, 2, 2);
    b.pop_back();
    const auto e = error_of([&] { TestType::load(write("short-data", b), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("expected 12 bytes"));
    REQUIRE_THAT(e.what(), contains_text("found 11"));
  }
  SECTION("dimensions whose product overflows") {
    // 2^16 images of 2^24 x 2^24 pixels: 2^64 values, which wraps to 0 in 64 bits.
    auto b = images_bytes(1, 1, 1);
    const std::uint8_t forged[] = {0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
    std::copy(std::begin(forged), std::end(forged), b.begin() + 4);
    const auto e = error_of([&] { TestType::load(write("forged", b), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("dimensions 65536 x 16777216 x 16777216 multiply to more values"));
  }
  SECTION("bytes after the data") {
    auto b = labels_bytes({1, 2, 3});
    b.push_back(4);
    const auto e = error_of([&] { TestType::load(good_img, write("long-labels", b)); });
    REQUIRE(e.offset() == 11);
    REQUIRE_THAT(e.what(), contains_text("1 more bytes"));
  }
  SECTION("image and label counts differ") {
    const auto e = error_of([&] { TestType::load(good_img, write("two-labels", labels_bytes({1, 2}))); });
    REQUIRE_THAT(e.what(), contains_text("expected 3 labels"));
    REQUIRE_THAT(e.what(), contains_text("found 2"));
  }
  SECTION("image size differs from the network's inputs") {
    const auto e = error_of([&] { TestType::load(good_img, good_lab, 10, 784); });
    REQUIRE_THAT(e.what(), contains_text("2x2 = 4 pixels, but the network has 784 inputs"));
  }
  SECTION("no classes") {
    REQUIRE_THROWS_AS(TestType::load(good_img, good_lab, 0), std::invalid_argument);
  }
  SECTION("label out of range") {
    const auto e = error_of([&] { TestType::load(good_img, write("bad-label", labels_bytes({1, 12, 3}))); });
    REQUIRE(e.offset() == 9);
    REQUIRE_THAT(e.what(), contains_text("found 12"));
  }
  SECTION("corrupt gzip") {
    auto gz = gzip(images_bytes(50, 28, 28));
    for (std::size_t i = 20; i < gz.size() - 20; i += 7) gz[i] ^= 0x5a;
    const auto e = error_of([&] { TestType::load(write("corrupt.gz", gz), good_lab); });
    REQUIRE_THAT(e.what(), contains_text("gzip"));
  }
  SECTION("gzip cut short") {
    auto gz = gzip(images_bytes(50, 28, 28));
    gz.resize(gz.size() / 2);
    REQUIRE_THROWS_AS(TestType::load(write("cut.gz", gz), good_lab), nn::data_error);
  }
}

// Files as a hostile user would give them (issue 13), each made here: bounded errors, at once.
TEMPLATE_TEST_CASE("hostile IDX files: devices, directories, FIFOs, gzip bombs and bytes after the gzip data", "[idx]",
                   float_loader, byte_loader, stream_loader) {
  const auto good_img = write("h-images", images_bytes(3, 2, 2));
  const auto good_lab = write("h-labels", labels_bytes({1, 2, 3}));
  ::alarm(30);  // a loader that blocks is killed rather than hanging the suite

  SECTION("/dev/zero: the magic is wrong at byte 0") {
    const auto e = error_of([&] { TestType::load("/dev/zero", good_lab); });
    REQUIRE(std::string(e.what()) == "/dev/zero: byte 0: wrong magic number: expected 2051 (images), found 0");
  }
  SECTION("a directory") {
    const auto e = error_of([&] { TestType::load(temp_dir().string(), good_lab); });
    REQUIRE(std::string(e.what()) == temp_dir().string() + ": is a directory, expected an IDX file, plain or .gz");
  }
  SECTION("FIFOs with a writer, plain and gzip, read like files") {
    for (const bool gz : {false, true}) {
      const auto f = (temp_dir() / "images.fifo").string();
      fs::remove(f);
      REQUIRE(::mkfifo(f.c_str(), 0600) == 0);
      const auto bytes = gz ? gzip(images_bytes(3, 2, 2)) : images_bytes(3, 2, 2);
      std::thread writer([&] {
        std::ofstream out(f, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      });
      TestType::load(f, good_lab);
      writer.join();
    }
  }
  SECTION("a gzip bomb: 7,840 values promised, 64 MiB of zeros sent; at most the values and 1 MiB are inflated") {
    auto b = images_bytes(10, 28, 28);
    b.resize(b.size() + (std::size_t{64} << 20));
    const auto bomb = gzip(b);
    REQUIRE(bomb.size() < b.size() / 500);
    const auto ten = write("ten-labels", labels_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    const auto e = error_of([&] { TestType::load(write("bomb.gz", bomb), ten); });
    REQUIRE(e.offset() == 16 + 7840);
    REQUIRE_THAT(e.what(), contains_text("expected the end of the file after 7840 values, found at least 1048576 more bytes"));
  }
  SECTION("bytes after the gzip member are an error; a second member is more content") {
    auto gz = gzip(images_bytes(3, 2, 2));
    const std::size_t end = gz.size();
    const std::string junk = "appended text";
    gz.insert(gz.end(), junk.begin(), junk.end());
    const auto e = error_of([&] { TestType::load(write("junk.gz", gz), good_lab); });
    REQUIRE(e.offset() == end);
    REQUIRE_THAT(e.what(), contains_text("expected the end of the file or another gzip member after the compressed data, "
                                         "found 13 other bytes"));
    auto whole = images_bytes(3, 2, 2);
    const std::vector<std::uint8_t> head(whole.begin(), whole.begin() + 20), tail(whole.begin() + 20, whole.end());
    auto two = gzip(head);
    const auto second = gzip(tail);
    two.insert(two.end(), second.begin(), second.end());
    TestType::load(write("two-members.gz", two), good_lab);
  }
  SECTION("a header that promises 4 GiB in a 20-byte file: truncated at once") {
    std::vector<std::uint8_t> b;
    for (const std::uint32_t x : {2051u, 1u, 65535u, 65535u}) put_u32(b, x);
    b.resize(20);
    const auto e = error_of([&] { TestType::load(write("promise", b), write("one-label", labels_bytes({1}))); });
    REQUIRE_THAT(e.what(), contains_text("truncated data: expected 4294836225 bytes of values after the 16-byte header"));
  }
  ::alarm(0);
}

TEST_CASE("Fashion-MNIST from Debian's package loads whole", "[idx]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dir + "t10k-images-idx3-ubyte.gz"))
    FAIL("Fashion-MNIST not found in " + dir + ": install Debian's dataset-fashion-mnist (scripts/install-deps.sh does)");
  const auto d = nn::load_idx<float>(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz", 10, 784);
  REQUIRE(d.size() == 10000);
  std::size_t per_class[10] = {};
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::size_t c = 0; c < 10; ++c) per_class[c] += d.target(i)[c] == 1.f;
  for (auto n : per_class) REQUIRE(n == 1000);
}

TEST_CASE("load_idx_bytes keeps the bytes, and the trainer's conversion gives load_idx's floats exactly", "[idx]") {
  // 16 images of 4x4: the pixels (i * 37) % 256 take every byte value once.
  const auto ip = write("all-bytes-images", images_bytes(16, 4, 4));
  const auto lp = write("all-bytes-labels", labels_bytes({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 0}));
  const auto b = nn::load_idx_bytes<float>(ip, lp);
  const auto f = nn::load_idx<float>(ip, lp);
  REQUIRE(b.size() == 16);
  REQUIRE(b.input_size() == 16);
  REQUIRE(b.output_size() == 10);
  REQUIRE(b.input_scale() == 255.f);
  std::vector<int> seen(256, 0);
  for (std::size_t i = 0; i < b.size(); ++i) {
    for (std::size_t k = 0; k < 16; ++k) {
      REQUIRE(b.input(i)[k] == static_cast<std::uint8_t>(((i * 16 + k) * 37) % 256));
      ++seen[b.input(i)[k]];
    }
    const auto t = b.target(i), u = f.target(i);
    REQUIRE(std::vector<float>(t.begin(), t.end()) == std::vector<float>(u.begin(), u.end()));
    REQUIRE(u[b.label(i)] == 1.f);
  }
  for (int c : seen) REQUIRE(c == 1);
  // What the trainer puts into its workspace, and copy_input, are load_idx's floats bit for bit.
  using net_t = nn::network<16, 4, 10>;
  REQUIRE(gathered_inputs<net_t>(b) == gathered_inputs<net_t>(f));
  std::vector<float> x(16);
  for (std::size_t i = 0; i < b.size(); ++i) {
    nn::copy_input(b, i, std::span<float>(x));
    REQUIRE(std::equal(x.begin(), x.end(), f.input(i).begin()));
  }
  // The same for double.
  const auto bd = nn::load_idx_bytes<double>(ip, lp);
  const auto fd = nn::load_idx<double>(ip, lp);
  using net_d = nn::basic_network<nn::policies<double>, 16, 4, 10>;
  REQUIRE(gathered_inputs<net_d>(bd) == gathered_inputs<net_d>(fd));
}

TEST_CASE("training on load_idx_bytes and on load_idx gives the same network, bit for bit", "[idx]") {
  const auto [ip, lp] = random_idx("train-both", 250, 4, 5, 10, 11);
  const auto b = nn::load_idx_bytes<float>(ip, lp);
  const auto f = nn::load_idx<float>(ip, lp);
  using net_t = nn::network<20, 12, 10>;
  const auto from_bytes = trained<net_t>(b, 3, 5);
  const auto from_floats = trained<net_t>(f, 3, 5);
  REQUIRE(from_bytes == from_floats);
  REQUIRE(!(from_bytes == net_t(5)));  // it did train
  REQUIRE(nn::evaluate(from_bytes, b) == nn::evaluate(from_floats, f));
}

TEST_CASE("Fashion-MNIST's test set: bytes and floats give the same values and train the same network", "[idx]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dir + "t10k-images-idx3-ubyte.gz"))
    FAIL("Fashion-MNIST not found in " + dir + ": install Debian's dataset-fashion-mnist (scripts/install-deps.sh does)");
  const auto images = dir + "t10k-images-idx3-ubyte.gz", labels = dir + "t10k-labels-idx1-ubyte.gz";
  const auto b = byte_loader::load(images, labels, 10, 784);
  const auto f = float_loader::load(images, labels, 10, 784);
  using net_t = nn::network<784, 30, 10>;
  REQUIRE(gathered_inputs<net_t>(b) == gathered_inputs<net_t>(f));
  std::size_t per_class[10] = {};
  for (std::size_t i = 0; i < b.size(); ++i) ++per_class[b.label(i)];
  for (auto n : per_class) REQUIRE(n == 1000);
  const auto from_bytes = trained<net_t>(b, 1, 1);
  REQUIRE(from_bytes == trained<net_t>(f, 1, 1));
  REQUIRE(nn::evaluate(from_bytes, b) == nn::evaluate(from_bytes, f));
}

static_assert(nn::example_stream<nn::idx_stream<float>, float>);
static_assert(nn::example_stream<nn::idx_stream<double>, double>);

TEST_CASE("idx_stream delivers load_idx's samples one at a time, plain or gzipped", "[idx][online]") {
  const auto [img, lab] = random_idx("stream", 57, 5, 7, 10, 11);
  const auto whole = nn::load_idx<float>(img, lab);
  for (const bool gz : {false, true}) {
    std::ifstream fi(img, std::ios::binary), fl(lab, std::ios::binary);
    const std::vector<std::uint8_t> ib{std::istreambuf_iterator<char>(fi), {}}, lb{std::istreambuf_iterator<char>(fl), {}};
    const std::string images = gz ? write("stream-img.gz", gzip(ib)) : img, labels = gz ? write("stream-lab.gz", gzip(lb)) : lab;
    nn::idx_stream<float> s(images, labels);
    REQUIRE(s.input_size() == 35);
    REQUIRE(s.output_size() == 10);
    REQUIRE(s.declared_size() == 57);
    std::vector<float> x(35), y(10);
    std::size_t n = 0;
    while (s.next(x, y)) {
      const auto wx = whole.input(n), wy = whole.target(n);
      REQUIRE(std::equal(x.begin(), x.end(), wx.begin(), wx.end()));  // bit for bit
      REQUIRE(std::equal(y.begin(), y.end(), wy.begin(), wy.end()));
      REQUIRE(y[s.label()] == 1.0f);
      ++n;
    }
    REQUIRE(n == 57);
    REQUIRE(s.position() == 57);
    REQUIRE_FALSE(s.next(x, y));  // stays at the end
    std::vector<float> wrong(34);
    REQUIRE_THROWS_WITH(s.next(wrong, y), "nn::idx_stream: next() needs spans of 35 and 10 values, got 34 and 10");
  }
}

TEST_CASE("a bad label is reported where it is, and the stream can go on past it", "[idx][online]") {
  const auto images = write("lab-stream-images", images_bytes(3, 2, 2));
  const auto labels = write("lab-stream-labels", labels_bytes({1, 12, 3}));
  nn::idx_stream<float> s(images, labels);
  std::vector<float> x(4), y(10);
  REQUIRE(s.next(x, y));
  const auto e = error_of([&] { s.next(x, y); });
  REQUIRE(e.file() == labels);
  REQUIRE(e.offset() == 9);
  REQUIRE_THAT(e.what(), contains_text("label of image 1: expected 0 to 9, found 12"));
  REQUIRE(s.next(x, y));  // image 2, label 3
  REQUIRE(s.label() == 3);
  REQUIRE(x[0] == static_cast<float>((8 * 37) % 256) / 255.0f);
  REQUIRE_FALSE(s.next(x, y));
  REQUIRE(s.position() == 3);
}

TEST_CASE("a truncated image is reported at once in a plain file, and when the stream reaches it in a .gz", "[idx][online]") {
  auto b = images_bytes(3, 2, 2);
  b.resize(b.size() - 3);  // the third image has 1 of its 4 bytes
  const auto labels = write("cut-stream-labels", labels_bytes({1, 2, 3}));
  // A plain file's size is held against its header when the stream opens.
  const auto plain = write("cut-stream-images", b);
  const auto at_open = error_of([&] { nn::idx_stream<float>(plain, labels); });
  REQUIRE(at_open.offset() == 25);
  REQUIRE_THAT(at_open.what(), contains_text("truncated data: expected 12 bytes of values after the 16-byte header, found 9"));
  // A .gz's length is known only by reading it: the good examples come first.
  const auto images = write("cut-stream-images.gz", gzip(b));
  nn::idx_stream<float> s(images, labels);
  std::vector<float> x(4), y(10);
  REQUIRE(s.next(x, y));
  REQUIRE(s.next(x, y));
  const auto e = error_of([&] { s.next(x, y); });
  REQUIRE(e.file() == images);
  REQUIRE(e.offset() == 25);
  REQUIRE_THAT(e.what(), contains_text("truncated data: expected 12 bytes of values after the 16-byte header, found 9 "
                                       "(example 2 of 3 ends early)"));
}

TEST_CASE("online training from an idx_stream equals online training on the loaded set, bit for bit", "[idx][online]") {
  const auto [img, lab] = random_idx("online", 300, 4, 5, 3, 12);
  using net_t = nn::network<20, 8, 3>;
  net_t a(4), b(4);
  nn::online_trainer<> t{nn::sgd{0.5}};
  t.on_report = nullptr;
  nn::idx_stream<float> from_file(img, lab, 3);
  const auto ra = t.fit(a, from_file);
  const auto loaded = nn::load_idx_bytes<float>(img, lab, 3);
  nn::sequential_stream<nn::byte_dataset<float>> in_memory(loaded);
  const auto rb = t.fit(b, in_memory);
  REQUIRE(ra.examples == 300);
  REQUIRE(rb.examples == 300);
  REQUIRE(ra.total_cost == rb.total_cost);
  REQUIRE(a == b);
  REQUIRE_FALSE(a == net_t(4));  // it did train
}

TEST_CASE("an IDX dimension of 0 makes an empty array, however large the other dimensions", "[idx]") {
  // (2^32 - 1)^3 overflows 64 bits, but times 0 it is 0: a valid, empty file.
  std::vector<std::uint8_t> b;
  put_u32(b, 0x804);
  for (std::uint32_t d : {0xffffffffu, 0xffffffffu, 0xffffffffu, 0u}) put_u32(b, d);
  const auto a = nn::read_idx(write("zero-dim", b));
  REQUIRE(a.dims == std::vector<std::uint32_t>{0xffffffffu, 0xffffffffu, 0xffffffffu, 0u});
  REQUIRE(a.data.empty());
  b.push_back(1);
  REQUIRE_THAT(error_of([&] { (void)nn::read_idx(write("zero-dim-long", b)); }).what(),
               contains_text("expected the end of the file after 0 values, found 1 more bytes"));
}

TEST_CASE("idx_source holds just the samples prepare asks for, with load_idx_bytes's bytes and labels", "[idx][distributed]") {
  for (const bool gz : {false, true}) {
    auto [ip, lp] = random_idx(gz ? "source-gz" : "source", 300, 4, 5, 10, 21);
    if (gz) {
      ip = write("source-gz-images.gz", gzip(read_file(ip)));
      lp = write("source-gz-labels.gz", gzip(read_file(lp)));
    }
    const auto all = nn::load_idx_bytes<float>(ip, lp);
    const nn::idx_source<float> s(ip, lp, 10, 20);
    REQUIRE(s.size() == 300);
    REQUIRE(s.input_size() == 20);
    REQUIRE(s.loaded() == 0);
    const std::vector<std::size_t> want{299, 3, 150, 3, 0, 151};  // any order, repeats
    s.prepare(want);
    REQUIRE(s.loaded() == 5);
    for (const std::size_t i : want) {
      REQUIRE(std::equal(s.input(i).begin(), s.input(i).end(), all.input(i).begin(), all.input(i).end()));
      REQUIRE(s.label(i) == all.label(i));
      REQUIRE(std::equal(s.target(i).begin(), s.target(i).end(), all.target(i).begin()));
    }
    REQUIRE_THROWS_AS(s.input(1), std::out_of_range);  // never asked for
    const std::vector<std::size_t> past{300};
    REQUIRE_THROWS_AS(s.prepare(past), std::out_of_range);
    REQUIRE(s.loaded() == 5);  // a failed prepare keeps what was there
    const std::vector<std::size_t> other{1, 2};
    s.prepare(other);
    REQUIRE(s.loaded() == 2);
    REQUIRE_THROWS_AS(s.input(299), std::out_of_range);
  }
}

TEST_CASE("training on an idx_source equals training on load_idx_bytes, bit for bit, and it reads only what it trains on",
          "[idx][distributed]") {
  const auto [ip, lp] = random_idx("source-train", 250, 4, 5, 10, 13);
  const nn::idx_source<float> s(ip, lp, 10, 20);
  const auto b = nn::load_idx_bytes<float>(ip, lp);
  using net_t = nn::network<20, 12, 10>;
  REQUIRE(trained<net_t>(s, 3, 5) == trained<net_t>(b, 3, 5));
  REQUIRE(s.loaded() == 250);  // one process trains on every sample
}

TEST_CASE("idx_source checks the headers when made and the labels it reads", "[idx][distributed]") {
  const auto files = random_idx("source-bad", 20, 2, 2, 10, 3);  // (clang 14 captures no structured binding)
  const std::string ip = files.first, lp = files.second;
  auto labels = read_file(lp);
  labels[8 + 7] = 12;  // sample 7's label
  const std::string bad = write("source-bad-labels", labels);
  const nn::idx_source<float> s(ip, bad, 10);
  const std::vector<std::size_t> fine{0, 6, 8};
  s.prepare(fine);  // sample 7 is never read
  const std::vector<std::size_t> with7{7};
  const auto e = error_of([&] { s.prepare(with7); });
  REQUIRE(e.file() == bad);
  REQUIRE(e.offset() == 15);
  REQUIRE(std::string(e.what()).find("label of image 7: expected 0 to 9, found 12") != std::string::npos);
  REQUIRE(s.loaded() == 3);
  auto images = read_file(ip);
  images.resize(images.size() - 3);  // the last image ends early
  const std::string cut = write("source-cut-images", images);
  const auto header = error_of([&] { nn::idx_source<float>(cut, lp, 10); });  // a plain file: found at once
  REQUIRE(std::string(header.what()).find("truncated") != std::string::npos);
  const auto wrong = error_of([&] { nn::idx_source<float>(lp, lp, 10); });
  REQUIRE(wrong.file() == lp);
}
