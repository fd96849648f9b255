// int8 inference (nn/quantize.hpp, nn/simd/int8.hpp): every instruction set's kernels against the plain C++
// twins, bit for bit, at sizes that fill no register exactly; packing against sums written out by hand; a
// quantized network against its float network, the same bits on every path and from every entry point;
// files that round-trip and files that do not load. (Accuracy on Fashion-MNIST: int8_accuracy_test.cpp.)
#include <nn/network.hpp>
#include <nn/quantize.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace k8 = nn::simd::int8;

std::vector<k8::isa> paths() {
  std::vector<k8::isa> v;
  for (const k8::isa i : {k8::isa::scalar, k8::isa::sse2, k8::isa::avx2, k8::isa::avx_vnni, k8::isa::avx512, k8::isa::avx512_vnni})
    if (k8::supported(i)) v.push_back(i);
  return v;
}

// Weights q[o][k] into the packed layout, and the sums written out: Σ_k x[s][k]·q[o][k].
nn::detail::int8_affine layer_of(std::size_t n, std::size_t m, nn::rng& r) {
  nn::detail::int8_affine L;
  L.inputs = n;
  L.outputs = m;
  L.w_scale.assign(m, 1.0f);
  L.bias.assign(m, 0.0f);
  L.q.resize(n * m);
  for (auto& v : L.q) {
    const double u = r.uniform();  // the extremes often: they are where saturation would show
    v = static_cast<std::int8_t>(u < 0.1 ? -128 : u < 0.2 ? 127 : static_cast<int>(r.uniform() * 256) - 128);
  }
  L.finish();
  return L;
}

TEST_CASE("int8 sums: every path's, bit for bit the plain twin's and the sums written out", "[int8]") {
  nn::rng r(7);
  for (const std::size_t n : {1, 3, 4, 5, 17, 64, 65, 130, 784})
    for (const std::size_t m : {1, 5, 16, 17, 33, 64, 100}) {
      const auto L = layer_of(n, m, r);
      const std::size_t rows = 1 + (n * 7 + m) % 14;  // 1..14: every row block and remainder
      const std::size_t rb = k8::row_bytes(n), P = k8::panels(m), os = P * k8::panel;
      nn::detail::aligned_buffer<std::uint8_t> x(rows * rb);
      for (std::size_t s = 0; s < rows; ++s)
        for (std::size_t k = 0; k < n; ++k) {
          const double u = r.uniform();
          x.data()[s * rb + k] = static_cast<std::uint8_t>(u < 0.2 ? 255 : static_cast<int>(r.uniform() * 256));
        }
      std::vector<std::int32_t> want(rows * m);
      for (std::size_t s = 0; s < rows; ++s)
        for (std::size_t o = 0; o < m; ++o) {
          std::int64_t sum = 0;
          for (std::size_t k = 0; k < n; ++k) sum += std::int64_t{x.data()[s * rb + k]} * L.q[o * n + k];
          want[s * m + o] = static_cast<std::int32_t>(sum);
        }
      for (const k8::isa path : paths()) {
        INFO(k8::name(path) << " " << n << " inputs, " << m << " outputs, " << rows << " rows");
        nn::detail::aligned_buffer<std::int32_t> out(rows * os);
        k8::kernels_for(path).gemm({x.data(), rb, rows, L.packed.data(), k8::quads(n), P, out.data(), os});
        bool same = true;
        for (std::size_t s = 0; s < rows; ++s) {
          for (std::size_t o = 0; o < m; ++o) same = same && out.data()[s * os + o] == want[s * m + o];
          for (std::size_t o = m; o < os; ++o) same = same && out.data()[s * os + o] == 0;  // zero weights
        }
        REQUIRE(same);
      }
    }
}

TEST_CASE("int8 sums: rows 4 bytes apart, and 65,536 inputs of the extremes, exact", "[int8]") {
  nn::rng r(9);
  // Rows packed as tightly as the kernels allow (a multiple of 4 bytes: a byte matrix's own stride).
  for (const std::size_t n : {3, 13, 36}) {
    const auto L = layer_of(n, 21, r);
    const std::size_t xs = k8::quads(n) * 4, rows = 11, P = k8::panels(21), os = P * k8::panel;
    std::vector<std::uint8_t> x(rows * xs + 64, 0);
    for (std::size_t s = 0; s < rows; ++s)
      for (std::size_t k = 0; k < n; ++k) x[s * xs + k] = static_cast<std::uint8_t>(r.uniform() * 256);
    nn::detail::aligned_buffer<std::int32_t> want(rows * os), got(rows * os);
    k8::kernels_for(k8::isa::scalar).gemm({x.data(), xs, rows, L.packed.data(), k8::quads(n), P, want.data(), os});
    for (std::size_t s = 0; s < rows; ++s)
      for (std::size_t o = 0; o < 21; ++o) {
        std::int32_t sum = 0;
        for (std::size_t k = 0; k < n; ++k) sum += std::int32_t{x[s * xs + k]} * L.q[o * n + k];
        REQUIRE(want.data()[s * os + o] == sum);
      }
    for (const k8::isa path : paths()) {
      INFO(k8::name(path) << " " << n << " inputs");
      k8::kernels_for(path).gemm({x.data(), xs, rows, L.packed.data(), k8::quads(n), P, got.data(), os});
      REQUIRE(std::equal(got.data(), got.data() + rows * os, want.data()));
    }
  }
  // The largest layer nn quantizes: 65,536 inputs of 255 times weights of −128 or 127, within int32.
  constexpr std::size_t n = 65536;
  nn::detail::int8_affine L;
  L.inputs = n;
  L.outputs = 2;
  L.w_scale.assign(2, 1.0f);
  L.bias.assign(2, 0.0f);
  L.q.resize(2 * n);
  for (std::size_t k = 0; k < n; ++k) {
    L.q[k] = -128;
    L.q[n + k] = 127;
  }
  L.finish();
  nn::detail::aligned_buffer<std::uint8_t> x(k8::row_bytes(n));
  std::fill(x.data(), x.data() + n, std::uint8_t{255});
  for (const k8::isa path : paths()) {
    INFO(k8::name(path));
    nn::detail::aligned_buffer<std::int32_t> out(k8::panel);
    k8::kernels_for(path).gemm({x.data(), k8::row_bytes(n), 1, L.packed.data(), k8::quads(n), 1, out.data(), k8::panel});
    CHECK(out.data()[0] == -255 * 128 * 65536);
    CHECK(out.data()[1] == 255 * 127 * 65536);
  }
}

TEST_CASE("int8 quantization of floats: every path's bytes are the twin's, with rounding, clamping, NaN, padding", "[int8]") {
  // The twin itself, by hand: x·(1/0.5) rounded to nearest even, clamped to [−zero, 255 − zero], plus zero.
  const auto one = [](float x, std::int32_t zero) { return k8::detail::quantize_one(x, 2.0f, zero); };
  CHECK(one(0.25f, 10) == 10);   // 0.5 rounds to 0 (even)
  CHECK(one(0.75f, 10) == 12);   // 1.5 to 2
  CHECK(one(1.25f, 10) == 12);   // 2.5 to 2
  CHECK(one(-0.75f, 10) == 8);   // −1.5 to −2
  CHECK(one(-100.0f, 10) == 0);  // clamped
  CHECK(one(1e30f, 10) == 255);
  CHECK(one(std::numeric_limits<float>::infinity(), 0) == 255);
  CHECK(one(-std::numeric_limits<float>::infinity(), 3) == 0);
  CHECK(one(std::numeric_limits<float>::quiet_NaN(), 7) == 0);

  nn::rng r(3);
  const float specials[] = {0.0f, -0.0f, 0.5f, 1.5f, 2.5f, -2.5f, 127.5f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min()};
  for (const std::size_t n : {1, 3, 4, 5, 15, 16, 17, 33, 100, 784})
    for (const std::int32_t zero : {0, 7, 128, 255})
      for (const float inv : {1.0f, 2.0f, 1.0f / 0.75f}) {  // (1 and 2: halves in, ties to round)
      const std::size_t rows = 3, xs = (n + 15) / 16 * 16, rb = k8::row_bytes(n);
      std::vector<float> x(rows * xs, 0.0f);
      for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = r.uniform() < 0.2 ? specials[i % std::size(specials)]
               : r.uniform() < 0.3 ? static_cast<float>(std::floor((r.uniform() - 0.5) * 600)) * 0.5f  // halves
                                   : static_cast<float>((r.uniform() - 0.5) * 300);
      std::vector<std::uint8_t> want(rows * rb, 0xcc), got;
      k8::kernels_for(k8::isa::scalar).quantize({x.data(), xs, rows, n, inv, zero, want.data(), rb});
      for (std::size_t s = 0; s < rows; ++s) {
        for (std::size_t k = 0; k < n; ++k) REQUIRE(want[s * rb + k] == k8::detail::quantize_one(x[s * xs + k], inv, zero));
        for (std::size_t k = n; k < rb; ++k) REQUIRE(want[s * rb + k] == 0);
      }
      for (const k8::isa path : paths()) {
        INFO(k8::name(path) << " n " << n << " zero " << zero << " inv " << inv);
        got.assign(rows * rb, 0xcc);
        k8::kernels_for(path).quantize({x.data(), xs, rows, n, inv, zero, got.data(), rb});
        REQUIRE(got == want);
      }
    }
}

TEST_CASE("int8 paths: NN_ISA forces one, and says what is wrong with a name it does not know", "[int8]") {
  const char* old = std::getenv("NN_ISA");
  const std::string saved = old ? old : "";
  ::setenv("NN_ISA", "sse2", 1);
  if (k8::supported(k8::isa::sse2)) CHECK(k8::select() == k8::isa::sse2);
  else CHECK_THROWS_AS(k8::select(), std::invalid_argument);
  ::setenv("NN_ISA", "scalar", 1);
  CHECK(k8::select() == k8::isa::scalar);
  ::setenv("NN_ISA", "avx3", 1);
  try {
    (void)k8::select();
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "nn: NN_ISA=avx3 names no instruction set; expected avx512-vnni, avx512, avx-vnni, avx2, sse2 or scalar");
  }
  ::unsetenv("NN_ISA");
  CHECK(k8::select() == k8::best());
  if (!saved.empty()) ::setenv("NN_ISA", saved.c_str(), 1);
  // The best is one this CPU runs, and the scalar twin runs anywhere.
  CHECK(k8::supported(k8::best()));
  CHECK(k8::supported(k8::isa::scalar));
}

// ctest runs this file once more for each path with NN_ISA set (tests/CMakeLists.txt): a network made then
// takes that path, or, on a CPU that cannot run it, is not made.
TEST_CASE("int8 paths: a network made while NN_ISA is set takes that path", "[int8]") {
  const char* v = std::getenv("NN_ISA");
  using tiny = nn::sequential<nn::input<3>, nn::dense<2>>;
  const std::array<nn::int8_range, 1> r{nn::int8_range{0, 1}};
  if (!v || !*v) {
    CHECK(nn::quantized<tiny>(tiny(1), r).path() == k8::best());
    return;
  }
  const std::string want = v;
  bool runs = false;
  for (const k8::isa i : {k8::isa::scalar, k8::isa::sse2, k8::isa::avx2, k8::isa::avx_vnni, k8::isa::avx512, k8::isa::avx512_vnni})
    if (want == k8::name(i)) runs = k8::supported(i);
  if (runs) CHECK(k8::name(nn::quantized<tiny>(tiny(1), r).path()) == want);
  else CHECK_THROWS_AS(nn::quantized<tiny>(tiny(1), r), std::invalid_argument);
}

// A network and inputs whose ranges the calibration sees.
using mlp = nn::sequential<nn::input<50>, nn::dense<37, nn::relu>, nn::dense<19, nn::tanh>, nn::dense<10, nn::softmax>>;

nn::dataset<float> samples(std::size_t count, std::uint64_t seed, std::size_t inputs = 50) {
  nn::rng r(seed);
  nn::dataset<float> d(inputs, 10);
  std::vector<float> x(inputs), y(10, 0.0f);
  for (std::size_t s = 0; s < count; ++s) {
    for (auto& v : x) v = static_cast<float>(r.uniform() * 2 - 0.5);  // [−0.5, 1.5): a zero point above 0
    d.add(x, y);
  }
  return d;
}

TEST_CASE("int8 network: close to float, the same bits on every path, from predict, feedforward and evaluate", "[int8]") {
  const mlp net(5, nn::he_init{});
  const auto data = samples(300, 11);
  auto q = nn::quantize(net, data, 200);
  // Layer 0 saw inputs in [−0.5, 1.5): 0 is code 64 (−lo / scale = 0.5 / (2/255) = 63.75, rounded).
  const auto& L0 = q.int8_layer<0>();
  CHECK(L0.zero == 64);
  CHECK(L0.in_scale == Approx(2.0 / 255).epsilon(1e-3));
  CHECK(q.int8_layer<1>().zero == 0);  // relu's outputs are ≥ 0

  nn::matrix<float, nn::dynamic, 50> x(data.size());
  for (std::size_t s = 0; s < data.size(); ++s) std::copy_n(data.input(s).data(), 50, x.view().row_data(s));
  const auto want = net.predict(x);
  std::vector<nn::matrix<float, nn::dynamic, 10>> outs;
  for (const k8::isa path : paths()) {
    q.use(path);
    CHECK(q.path() == path);
    outs.push_back(q.predict(x));
  }
  const auto& got = outs.front();
  double worst = 0;
  for (std::size_t s = 0; s < x.rows(); ++s)
    for (std::size_t o = 0; o < 10; ++o) worst = std::max(worst, double(std::fabs(got(s, o) - want(s, o))));
  INFO("largest difference from float: " << worst);
  CHECK(worst < 0.02);  // softmax probabilities
  CHECK(worst > 0);     // (it is int8)
  for (const auto& o : outs) CHECK(std::equal(o.view().storage().begin(), o.view().storage().end(), got.view().storage().begin()));
  // One sample at a time gives predict's bits.
  for (const std::size_t s : {0, 1, 150, 299}) {
    const auto one = q.feedforward(data.input(s));
    for (std::size_t o = 0; o < 10; ++o) REQUIRE(one[o] == got(s, o));
  }
  // nn::evaluate takes it as it takes the float network: the same count as argmax over predict's rows.
  std::size_t agree = 0;
  nn::dataset<float> labelled(50, 10);
  for (std::size_t s = 0; s < data.size(); ++s) {
    std::vector<float> y(10, 0.0f);
    y[nn::detail::argmax(want.view().row_data(s), 10)] = 1;  // float's answer as the label
    labelled.add(std::span<const float>(data.input(s)), y);
    agree += nn::detail::argmax(got.view().row_data(s), 10) == nn::detail::argmax(want.view().row_data(s), 10);
  }
  CHECK(nn::evaluate(q, labelled) == agree);
  CHECK(nn::evaluate(q, labelled, 2) == agree);
  CHECK(agree >= 290);
}

TEST_CASE("int8 network: layers that are not affine run in float, and weights of a single value and all-zero outputs", "[int8]") {
  using conv_net = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::relu>, nn::max_pool<2>, nn::flatten, nn::dense<10, nn::sigmoid>>;
  static_assert(!nn::quantized<conv_net>::in_int8<0> && nn::quantized<conv_net>::in_int8<3>);
  conv_net net(2, nn::scaled_normal_init{});
  // An output whose weights are all zero, and one whose weights are all equal.
  float* p = net.layer_parameters<3>();
  using D = conv_net::layer_type<3>;
  for (std::size_t k = 0; k < D::inputs; ++k) {
    p[k * D::stride + 0] = 0;
    p[k * D::stride + 1] = 0.25f;
  }
  const auto data = samples(100, 4, 64);
  auto q = nn::quantize(net, data);
  CHECK(q.int8_layer<3>().w_scale[0] == 1.0f);
  for (std::size_t k = 0; k < D::inputs; ++k) {
    REQUIRE(q.int8_layer<3>().q[0 * D::inputs + k] == 0);
    REQUIRE(q.int8_layer<3>().q[1 * D::inputs + k] == 127);
  }
  for (std::size_t s = 0; s < 100; s += 9) {
    const auto f = net.feedforward(data.input(s));
    const auto g = q.feedforward(data.input(s));
    for (std::size_t o = 0; o < 10; ++o) REQUIRE(g[o] == Approx(f[o]).margin(0.01));
    CHECK(g[0] == f[0]);  // sigmoid(bias) exactly: zero weights contribute nothing
  }
}

// Bytes b / 255 through predict's byte form, and as floats: the same bits, whether the first layer reads the
// bytes as its codes (it saw [0, 1]), through a table (it saw another range), or is a float layer.
template <class Net>
void bytes_as_floats(const nn::quantized<Net>& q) {
  constexpr std::size_t n = Net::inputs;
  nn::matrix<std::uint8_t, nn::dynamic, n> b(37);
  nn::matrix<float, nn::dynamic, n> x(37);
  for (std::size_t s = 0; s < 37; ++s)
    for (std::size_t k = 0; k < n; ++k) {
      b(s, k) = static_cast<std::uint8_t>((s * 31 + k * 17) % 256);
      x(s, k) = static_cast<float>(b(s, k)) / 255.0f;
    }
  nn::matrix<float, nn::dynamic, Net::outputs> from_bytes(37), from_floats(37);
  q.predict(nn::matrix_ref<const std::uint8_t, nn::dynamic, n>(b.data(), 37), 255.0f, from_bytes.view());
  q.predict(nn::matrix_ref<const float, nn::dynamic, n>(x.data(), 37), from_floats.view());
  REQUIRE(std::equal(from_bytes.view().storage().begin(), from_bytes.view().storage().end(), from_floats.view().storage().begin()));
}

TEST_CASE("int8 predict from bytes: the bits of predict from the same values as floats", "[int8]") {
  const mlp net(5, nn::he_init{});
  nn::dataset<float> pixels(50, 10);
  for (std::size_t s = 0; s < 40; ++s) {
    std::vector<float> x(50), y(10, 0.0f);
    for (std::size_t k = 0; k < 50; ++k) x[k] = static_cast<float>((s * 13 + k * 7) % 256) / 255.0f;
    x[0] = s == 0 ? 1.0f : x[0];  // the range is [0, 1]
    pixels.add(x, y);
  }
  const auto q = nn::quantize(net, pixels);
  CHECK(q.int8_layer<0>().zero == 0);
  CHECK(q.int8_layer<0>().in_scale == 1.0f / 255);
  CHECK(q.reads_bytes_as_codes(255));  // the bytes are the codes
  bytes_as_floats(q);
  const auto other = nn::quantize(net, samples(100, 3));
  CHECK(!other.reads_bytes_as_codes(255));  // another range: a table
  bytes_as_floats(other);
  using conv_net = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::relu>, nn::flatten, nn::dense<10, nn::sigmoid>>;
  bytes_as_floats(nn::quantize(conv_net(2, nn::scaled_normal_init{}), samples(50, 4, 64)));  // a float first layer
  nn::matrix<std::uint8_t, nn::dynamic, 50> b(2);
  nn::matrix<float, nn::dynamic, 10> out(2);
  CHECK_THROWS_WITH(q.predict(nn::matrix_ref<const std::uint8_t, nn::dynamic, 50>(b.data(), 2), 0.0f, out.view()),
                    contains_text("the bytes' scale must be finite and above 0, not 0"));
}

TEST_CASE("int8 calibration: no samples, or a network that is not finite on them, is an error that says so", "[int8]") {
  mlp net(1);
  const auto data = samples(10, 1);
  CHECK_THROWS_WITH(nn::quantize(net, samples(0, 1)), "nn::quantize: the calibration needs at least one sample");
  net.layer_parameters<1>()[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(nn::quantize(net, data), contains_text("layer 1 (dense)'s weights or bias of output 3 are not finite"));
  mlp big(1);
  big.layer_parameters<0>()[0] = 3e38f;
  big.layer_parameters<0>()[mlp::layer_type<0>::stride] = 3e38f;  // inputs 0 and 1 to output 0: ∞ when both are > 0.6
  const auto wide = samples(10, 2);
  CHECK_THROWS_WITH(nn::quantize(big, wide), contains_text("nn::quantize: the inputs of layer 1 (dense) reach inf"));
  // Ranges given by hand: inputs up to 3e38 and a weight of 1e5 need a scale beyond float's.
  std::array<nn::int8_range, 3> ranges{nn::int8_range{0, 3e38f}, nn::int8_range{0, 1}, nn::int8_range{-1, 1}};
  mlp huge(1);
  huge.layer_parameters<0>()[2] = 1e5f;
  CHECK_THROWS_WITH(nn::quantized<mlp>(huge, ranges),
                    "nn::quantize: layer 0 (dense)'s output 2: its inputs' range times its largest weight is outside float's range");
}

namespace fs = std::filesystem;

std::vector<std::uint8_t> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
void write(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
// The file with its hash made right again after an edit (a forged file, not a corrupt one).
void rehash(std::vector<std::uint8_t>& b) {
  const std::uint64_t h = nn::detail::fnv1a(b.data() + nn::detail::checkpoint_header, b.size() - nn::detail::checkpoint_header - 8);
  for (int i = 0; i < 8; ++i) b[b.size() - 8 + i] = static_cast<std::uint8_t>(h >> (8 * i));
}

TEST_CASE("int8 files: a saved network loads to the same bits, and a wrong, cut, corrupt or forged file is a data_error", "[int8]") {
  // (a directory of this process: ctest runs this file in several processes at once)
  const fs::path dir = fs::temp_directory_path() / ("nn_int8_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "q.nni8").string();
  const mlp net(9, nn::he_init{});
  const auto data = samples(100, 2);
  const auto q = nn::quantize(net, data);
  nn::save_quantized(q, path);
  nn::quantized<mlp> back;
  nn::load_quantized(back, path);
  for (std::size_t s = 0; s < 100; s += 7) REQUIRE(back.feedforward(data.input(s)) == q.feedforward(data.input(s)));
  // Written again, the same bytes.
  nn::save_quantized(back, path + "2");
  CHECK(bytes_of(path) == bytes_of(path + "2"));

  const auto good = bytes_of(path);
  const auto before = back.feedforward(data.input(0));
  const auto fails_with = [&](const std::vector<std::uint8_t>& b, const std::string& text) {
    write(path, b);
    const auto e = error_of([&] { nn::load_quantized(back, path); });
    CHECK_THAT(e.what(), contains_text(text));
    CHECK(back.feedforward(data.input(0)) == before);  // unchanged
  };
  {
    auto b = good;
    b[200] ^= 1;
    fails_with(b, "the state's hash does not match its bytes");
  }
  fails_with(std::vector<std::uint8_t>(good.begin(), good.end() - 9), "the header promises");
  fails_with(std::vector<std::uint8_t>(good.begin(), good.begin() + 10), "expected an nn quantized network (\"nnint8\"");
  {
    // Another network's file.
    using other = nn::sequential<nn::input<50>, nn::dense<36, nn::relu>, nn::dense<19, nn::tanh>, nn::dense<10, nn::softmax>>;
    nn::save_quantized(nn::quantize(other(1), data), path + "3");
    fails_with(bytes_of(path + "3"), "byte 28: the file holds nn::quantized<nn::sequential<input<50>, dense<36, relu>");
  }
  // Forged: the first layer's input scale (after the name and the two sizes) made NaN, then its zero point 300.
  const std::size_t name_end = nn::detail::checkpoint_header + 8 + nn::quantized<mlp>::name().size();
  const std::size_t scale_at = name_end + 16;
  {
    auto b = good;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(b.data() + scale_at, &nan, 4);
    rehash(b);
    fails_with(b, "byte " + std::to_string(scale_at) + ": layer 0's input scale is nan, expected a finite normal value > 0");
  }
  {
    auto b = good;
    const std::int32_t z = 300;
    std::memcpy(b.data() + scale_at + 4, &z, 4);
    rehash(b);
    fails_with(b, "byte " + std::to_string(scale_at + 4) + ": layer 0's input zero point is 300, expected 0 to 255");
  }
  {
    auto b = good;  // a normal input scale and weight scales whose product overflows
    const float big = 3e38f, hundred = 100;
    std::memcpy(b.data() + scale_at, &big, 4);
    std::memcpy(b.data() + scale_at + 16, &hundred, 4);
    rehash(b);
    fails_with(b, "byte " + std::to_string(scale_at + 16) + ": layer 0's weight scale 0 times the input scale is");
  }
  {
    auto b = good;  // layer 0's weight-scale count made huge
    b[scale_at + 8 + 7] = 0x40;
    rehash(b);
    fails_with(b, "bytes, but only");
  }
  {
    auto b = good;  // layer 0's first weight scale made 0
    std::memset(b.data() + scale_at + 16, 0, 4);
    rehash(b);
    fails_with(b, "layer 0's weight scale 0 is 0.000000, expected a finite normal value > 0");
  }
  fails_with({}, "expected an nn quantized network");
  fs::remove_all(dir);
}

}  // namespace
