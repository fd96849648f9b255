// Saved parameters: round trips, and a clear error for every kind of wrong file.
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"

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

// A version 2 file of a dense network, byte for byte as docs/file-format.md describes it (nn writes
// version 3 since 2026-12-02, and must still read these).
template <class Net>
std::vector<char> version_2(const Net& net, const std::string& hidden, const std::string& output) {
  using T = typename Net::value_type;
  std::vector<std::uint8_t> out{'n', 'n', 'p', 'a', 'r', 'a', 'm', 's'};
  nn::detail::put_le<std::uint32_t>(out, 2);
  nn::detail::put_le<std::uint32_t>(out, sizeof(T));
  nn::detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(Net::sizes.size()));
  for (std::size_t n : Net::sizes) nn::detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(n));
  for (const std::string& name : {hidden, output}) {
    nn::detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
  }
  for (std::size_t l = 0; l < Net::layer_count; ++l) {
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j)
      for (std::size_t k = 0; k < Net::sizes[l]; ++k) nn::detail::put_le<T>(out, net.weight(l, j, k));
    for (std::size_t j = 0; j < Net::sizes[l + 1]; ++j) nn::detail::put_le<T>(out, net.bias(l, j));
  }
  nn::detail::put_le<std::uint64_t>(out, nn::detail::fnv1a(out.data(), out.size()));
  return {out.begin(), out.end()};
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
  // Header: magic, version 3, 8-byte values, 2 layers after an input of rank 1 (3 values), then each
  // layer's record: kind, output shape, activation, value count, values.
  const auto bytes = read_all(p);
  REQUIRE(std::string(bytes.data(), 8) == "nnparams");
  REQUIRE(bytes[8] == 3);
  REQUIRE(bytes[12] == 8);
  REQUIRE(bytes[16] == 2);
  REQUIRE(bytes[20] == 1);
  REQUIRE(bytes[24] == 3);
  REQUIRE(bytes[28] == 5);
  REQUIRE(std::string(bytes.data() + 32, 5) == "dense");
  REQUIRE(bytes[37] == 1);
  REQUIRE(bytes[41] == 7);
  REQUIRE(bytes[45] == 7);
  REQUIRE(std::string(bytes.data() + 49, 7) == "sigmoid");
  REQUIRE(bytes[56] == 28);  // (3 + 1) * 7 values, u64
  const std::size_t record = 4 + 5 + 8 + 4 + 7 + 8;
  REQUIRE(bytes.size() == 28 + record + 28 * 8 + record + 16 * 8 + 8);
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
    expect_error("byte 28: layer 1 differs: the file has dense<5, sigmoid>, the network has dense<3, sigmoid>");
  }
  SECTION("another element type") {
    nn::basic_network<nn::policies<double>, 4, 3, 2> other(1);
    nn::save_parameters(other, p);
    expect_error("values of 8 bytes");
  }
  SECTION("another version") {
    auto b = good;
    b[8] = 4;
    write_all(p, b);
    expect_error("byte 8: unsupported version: expected 1 to 3, found 4");
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
    expect_error("byte 28: layer 1 differs: the file has dense<3, relu>, the network has dense<3, sigmoid>");
    nn::basic_network<nn::policies<float, nn::sigmoid, nn::softmax>, 4, 3, 2> half(1);
    nn::save_parameters(half, p);
    expect_error("byte 124: layer 2 differs: the file has dense<2, softmax>, the network has dense<2, sigmoid>");
  }
  SECTION("a flipped bit in an activation's name is corruption") {
    auto b = good;
    REQUIRE(std::string(b.data() + 49, 7) == "sigmoid");
    b[50] ^= 0x01;
    write_all(p, b);
    expect_error("checksum mismatch");
  }
  SECTION("a flipped bit") {
    auto b = good;
    b[40] ^= 0x10;
    write_all(p, b);
    expect_error("checksum mismatch");
  }
  SECTION("another number of layers") {
    nn::network<4, 3, 2, 2> deeper(1);
    nn::save_parameters(deeper, p);
    expect_error("byte 16: the file's network has 3 layers after its input, this one 2; the file's next is dense<2, sigmoid>");
  }
  SECTION("a layer record that runs past the end") {
    auto b = good;
    b[60] = 0x7f;  // layer 1's value count (u64 at 56): more values than the file has
    write_all(p, b);
    expect_error("truncated: expected layer 1's");
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

  // The same network in format versions 2 and 1 (written here by the documented layout): they still load.
  write_all(p, version_2(a, "relu", "softmax"));
  Net from2;
  nn::load_parameters(from2, p);
  REQUIRE(a == from2);
  REQUIRE(nn::read_parameter_sizes(p) == std::vector<std::uint32_t>{6, 5, 4, 3});
  nn::basic_network<nn::policies<float, nn::sigmoid, nn::softmax>, 6, 5, 4, 3> other_hidden;
  REQUIRE_THROWS_WITH(nn::load_parameters(other_hidden, p),
                      contains_text("the file's network has hidden activation relu, expected sigmoid"));
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
  // A model that is not a dense network cannot take them.
  nn::sequential<nn::input<6>, nn::dense<5, nn::relu>, nn::dense<4, nn::relu>, nn::dense<3, nn::softmax>> seq;
  REQUIRE_THROWS_WITH(nn::load_parameters(seq, p), contains_text("a version 1 file holds an nn::network of dense layers"));

  // A user's activation without a name is saved as "unnamed" and checked as such.
  nn::basic_network<nn::policies<float, softsign, nn::sigmoid>, 6, 5, 3> u(1), v;
  nn::save_parameters(u, p);
  REQUIRE(std::string(read_all(p).data() + 49, 7) == "unnamed");
  nn::load_parameters(v, p);
  REQUIRE(u == v);
}

TEST_CASE("any model round-trips, and a file for another model names the first layer that differs", "[io]") {
  const auto p = temp_file("model.nnp");
  using Net = nn::basic_sequential<double, nn::input<2, 3>, nn::dense<4, nn::tanh>, nn::dense<2, nn::identity>>;
  Net a(3, nn::scaled_normal_init{}), b;
  nn::save_parameters(a, p);
  nn::load_parameters(b, p);
  REQUIRE(a == b);
  REQUIRE(nn::read_parameter_sizes(p) == std::vector<std::uint32_t>{6, 4, 2});
  nn::basic_sequential<double, nn::input<3, 2>, nn::dense<4, nn::tanh>, nn::dense<2, nn::identity>> transposed;
  REQUIRE_THROWS_WITH(nn::load_parameters(transposed, p), contains_text("byte 20: the file's input is input<2x3>, the network's input<3x2>"));
  nn::basic_sequential<double, nn::input<2, 3>, nn::dense<4, nn::tanh>, nn::dense<2, nn::sigmoid>> other_output;
  REQUIRE_THROWS_WITH(nn::load_parameters(other_output, p),
                      contains_text("layer 2 differs: the file has dense<2, identity>, the network has dense<2, sigmoid>"));
}

// Files as a hostile user would give them (issue 13): every one a data_error naming the file, at once,
// reading no more than the bound.
TEST_CASE("hostile parameter files: devices, directories, FIFOs and long files are bounded errors", "[io]") {
  using net_t = nn::network<4, 3, 2>;
  net_t net(2);
  const auto before = net;
  // A test that blocks is killed (SIGALRM) rather than hanging the suite.
  ::alarm(20);
  const auto error_of = [&](const std::string& path, const nn::read_limits& limits = {}) -> std::string {
    try {
      nn::load_parameters(net, path, limits);
    } catch (const nn::data_error& e) {
      REQUIRE(e.file() == path);
      REQUIRE(net == before);
      return e.what();
    }
    FAIL("no exception");
    return {};
  };

  SECTION("/dev/zero: the magic is checked on the first 8 bytes") {
    REQUIRE(error_of("/dev/zero") == "/dev/zero: byte 0: not an nn parameter file: expected magic \"nnparams\"");
  }
  SECTION("a directory") {
    const auto d = temp_file("a_directory");
    fs::create_directories(d);
    REQUIRE(error_of(d) == d + ": is a directory, expected saved nn parameters");
  }
  SECTION("a FIFO with no writer waits a bounded time instead of blocking in open()") {
    const auto f = temp_file("no_writer.fifo");
    fs::remove(f);
    REQUIRE(::mkfifo(f.c_str(), 0600) == 0);
    nn::read_limits quick;
    quick.fifo_writer_seconds = 0.2;
    REQUIRE(error_of(f, quick) == f + ": a FIFO with no writer: nothing came in 0.2 s (expected saved nn parameters)");
    fs::remove(f);
  }
  SECTION("a FIFO with a writer loads like the file") {
    const auto p = temp_file("piped.nnp");
    nn::save_parameters(net_t(7), p);
    const auto bytes = read_all(p);
    const auto f = temp_file("writer.fifo");
    fs::remove(f);
    REQUIRE(::mkfifo(f.c_str(), 0600) == 0);
    std::thread writer([&] {
      std::ofstream out(f, std::ios::binary);  // blocks until the reader opens
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
    net_t piped;
    nn::load_parameters(piped, f);
    writer.join();
    REQUIRE(piped == net_t(7));
    fs::remove(f);
  }
  SECTION("1 GiB of zeros after a good magic: the version is checked on the first 20 bytes") {
    const auto p = temp_file("long.nnp");
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out.write("nnparams", 8);
    }
    fs::resize_file(p, std::uint64_t{1} << 30);  // sparse: no disk used
    REQUIRE(error_of(p) == p + ": byte 8: unsupported version: expected 1 to 3, found 0");
    REQUIRE_THROWS_WITH(nn::read_parameter_sizes(p), p + ": byte 8: unsupported version: expected 1 to 3, found 0");
    fs::remove(p);
  }
  // A good file whose first layer's value count says 2^40 + 15 (4 TiB of floats), made 1 GiB long: read up to
  // the bound, then an error at the bound.
  const auto promising = [&](const std::string& p) {
    nn::save_parameters(net_t(7), p);
    auto b = read_all(p);
    b[56 + 5] = 1;  // layer 1's value count, a u64 at byte 56
    write_all(p, b);
    fs::resize_file(p, std::uint64_t{1} << 30);
    return p;
  };
  SECTION("a header that promises 4 TiB, in a 1 GiB file: read up to the bound, not to the end") {
    const auto p = promising(temp_file("promising.nnp"));
    // The bound: 4 times the size of this network's file, plus 1 MiB.
    const auto saved = temp_file("model.nnp");
    nn::save_parameters(net, saved);
    const std::uint64_t model_bytes = fs::file_size(saved), bound = 4 * model_bytes + (1 << 20);
    REQUIRE(error_of(p) == p + ": byte " + std::to_string(bound) + ": expected the end of the file (this network's file takes " +
                               std::to_string(model_bytes) + " bytes, and nn reads at most " +
                               std::to_string(bound) + " for it; raise nn::read_limits::parameter_file_bytes), found more bytes");
    nn::read_limits small;
    small.parameter_file_bytes = 100;
    REQUIRE(error_of(p, small) == p + ": byte 100: expected the end of the file (the limit "
                                      "nn::read_limits::parameter_file_bytes is 100 bytes), found more bytes");
    try {
      (void)nn::read_parameter_sizes(p, small);
      FAIL("no exception");
    } catch (const nn::data_error& e) {
      REQUIRE(e.offset() == 100);
    }
    fs::remove(p);
  }
  SECTION("the same header in a short file: truncated, and the checksum says it is corrupted") {
    const auto p = promising(temp_file("promising.nnp"));
    fs::resize_file(p, 300);
    REQUIRE(error_of(p) == p + ": byte 64: checksum mismatch: the file is corrupted or cut short; reading it: truncated: "
                               "expected layer 1's 1099511627791 values, found the end of the file");
    fs::remove(p);
  }
  SECTION("a good file followed by 1 GiB: read only as far as the header promises, plus a byte") {
    const auto p = temp_file("trailing.nnp");
    nn::save_parameters(net_t(7), p);
    const std::uint64_t n = fs::file_size(p);
    fs::resize_file(p, std::uint64_t{1} << 30);
    REQUIRE(error_of(p) == p + ": byte " + std::to_string(n) + ": expected the end of the file after the checksum, found more bytes");
    REQUIRE_THROWS_WITH(nn::read_parameter_sizes(p),
                        p + ": byte " + std::to_string(n) + ": expected the end of the file after the checksum, found more bytes");
    fs::remove(p);
  }
  SECTION("the same header in a 64 MiB file: read_parameter_sizes hashes the values as they pass, keeping none") {
    const auto p = promising(temp_file("promising.nnp"));
    fs::resize_file(p, std::uint64_t{64} << 20);
    counting_new::reset_largest();
    REQUIRE_THROWS_WITH(nn::read_parameter_sizes(p), p + ": byte 64: checksum mismatch: the file is corrupted or cut short; "
                                                         "reading it: truncated: expected layer 1's 1099511627791 values, "
                                                         "found the end of the file");
    REQUIRE(counting_new::largest.load() <= (std::size_t{1} << 20) + 4096);
    fs::remove(p);
  }
  ::alarm(0);
}

// read_parameter_sizes reads a whole file, to check its checksum, but keeps only the records: a 3 MB
// file costs no allocation over the 1 MiB it reads at a time. load_parameters keeps the values.
TEST_CASE("read_parameter_sizes keeps no values, and a file's hash is the same however it is cut", "[io]") {
  const auto p = temp_file("wide.nnp");
  using wide = nn::network<784, 1000, 10>;  // 785,000 + 10,010 floats
  auto net = std::make_unique<wide>(3);
  nn::save_parameters(*net, p);
  REQUIRE(fs::file_size(p) > (std::size_t{3} << 20));
  counting_new::reset_largest();
  REQUIRE(nn::read_parameter_sizes(p) == std::vector<std::uint32_t>{784, 1000, 10});
  REQUIRE(counting_new::largest.load() <= (std::size_t{1} << 20) + 4096);
  counting_new::reset_largest();
  nn::load_parameters(*net, p);
  REQUIRE(counting_new::largest.load() > (std::size_t{3} << 20));

  const auto bytes = read_all(p);
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::uint64_t whole = nn::detail::fnv1a(data, 1000), stored = nn::detail::get_le<std::uint64_t>(data + 1000);
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{8}, std::size_t{9}, std::size_t{100}}) {
    nn::detail::fnv_stream s;
    for (std::size_t at = 0; at < 1008; at += piece) s.feed(data + at, std::min(piece, 1008 - at));
    CAPTURE(piece);
    REQUIRE(s.bytes() == 1008);
    REQUIRE(s.hash() == whole);
    REQUIRE(s.last8() == stored);
  }
}

