// int8 inference beside float in the same run (docs/benchmarks.md, "int8 inference"): predict's samples/s
// over the 10,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist; it fails without them) for
// the course's networks, the Fashion-MNIST recipe's 784-512-256-10 and the book's chapter-6 convolutional
// network (its convolution in float): float, each int8 path this CPU runs,
// and the fastest from the images' bytes (no conversion to float), with one core's fp32 FMA peak and int8
// VNNI peak measured here.
//   int8_bench [--data DIR] [--rounds N] [--rows N] [--paths all|best]
// --rows N predicts the first N test images at a time, 10,000 / N times (256: the inputs stay in L2).
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/quantize.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "peak.hpp"

namespace {

namespace k8 = nn::simd::int8;

// One core's int8 peak: 12 independent vpdpbusd chains (64 multiply-adds, 128 operations each).
#ifdef NN_INT8_X86
__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) int vnni_chains(std::size_t iterations) {
  __m512i acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_epi32(k);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (std::size_t it = 0; it < iterations; ++it)
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_dpbusd_epi32(acc[k], a, b);
  __m512i s = acc[0];
  for (int k = 1; k < 12; ++k) s = _mm512_add_epi32(s, acc[k]);
  return _mm512_reduce_add_epi32(s);
}
#else
int vnni_chains(std::size_t iterations) { return static_cast<int>(iterations); }
#endif
double vnni_peak_gops() {
  if (!k8::supported(k8::isa::avx512_vnni)) return 0;
  constexpr std::size_t iterations = 1 << 20;
  double best = 0;
  for (int trial = 0; trial < 9; ++trial) {
    const auto t0 = std::chrono::steady_clock::now();
    const int r = vnni_chains(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == 1) std::printf(" ");
    best = std::max(best, 12.0 * 128 * static_cast<double>(iterations) / s * 1e-9);
  }
  return best;
}

struct options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::size_t rounds = 7;
  std::size_t rows = 10000;  // of the test set, predicted at a time (256: they stay in L2)
  bool all_paths = true;
};

// Samples/s of f() over `rows` rows, the median of the rounds.
template <class F>
double rate(std::size_t rows, std::size_t rounds, F&& f) {
  f();  // warm
  std::vector<double> r;
  for (std::size_t i = 0; i < rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    r.push_back(static_cast<double>(rows) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return bench::median(r);
}

template <class Net>
void compare(const char* label, const Net& net, const nn::byte_dataset<float>& train, const nn::byte_dataset<float>& test,
             const options& o, double macs) {
  const auto q0 = nn::quantize(net, train);
  const std::size_t rows = std::min(o.rows, test.size()), repeat = test.size() / rows;
  nn::matrix<float, nn::dynamic, Net::inputs> x(rows);
  for (std::size_t s = 0; s < rows; ++s) nn::copy_input(test, s, x.row(s));
  nn::matrix<float, nn::dynamic, Net::outputs> out(rows);
  nn::matrix<std::uint8_t, nn::dynamic, Net::inputs> bytes(rows);  // the images as they are
  for (std::size_t s = 0; s < rows; ++s) std::copy_n(test.input(s).data(), Net::inputs, bytes.view().row_data(s));
  const auto bv = nn::matrix_ref<const std::uint8_t, nn::dynamic, Net::inputs>(bytes.data(), rows);
  const auto xv = nn::matrix_ref<const float, nn::dynamic, Net::inputs>(x.data(), x.rows());
  const auto ov = nn::matrix_ref<float, nn::dynamic, Net::outputs>(out.data(), out.rows());
  const double f = rate(rows * repeat, o.rounds, [&] {
    for (std::size_t r = 0; r < repeat; ++r) net.predict(xv, ov);
  });
  const double fa = double(nn::evaluate(net, test)) / double(test.size());
  std::printf("%-34s float        %9.0f samples/s  %6.1f GFLOP/s  accuracy %.4f\n", label, f, 2 * macs * f * 1e-9, fa);
  for (const k8::isa path : {k8::isa::avx512_vnni, k8::isa::avx_vnni, k8::isa::avx2, k8::isa::sse2, k8::isa::scalar}) {
    if (!k8::supported(path) || (!o.all_paths && path != k8::best())) continue;
    if (path == k8::isa::scalar && macs > 5e5) continue;  // minutes
    auto q = q0;
    q.use(path);
    const double i = rate(rows * repeat, o.rounds, [&] {
      for (std::size_t r = 0; r < repeat; ++r) q.predict(xv, ov);
    });
    const double ia = double(nn::evaluate(q, test)) / double(test.size());
    std::printf("%-34s int8 %-11s %9.0f samples/s  %6.1f GOP/s    accuracy %.4f  %.2fx float\n", "", k8::name(path), i,
                2 * macs * i * 1e-9, ia, i / f);
    if (path != k8::best()) continue;
    const double b = rate(rows * repeat, o.rounds, [&] {
      for (std::size_t r = 0; r < repeat; ++r) q.predict(bv, test.input_scale(), ov);
    });
    std::printf("%-34s int8 %-11s %9.0f samples/s  %6.1f GOP/s    (from the bytes) %.2fx float\n", "", k8::name(path), b,
                2 * macs * b * 1e-9, b / f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--data")) o.data = argv[i + 1];
    else if (!std::strcmp(argv[i], "--rounds")) o.rounds = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows")) o.rows = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--paths")) o.all_paths = std::string(argv[i + 1]) != "best";
    else {
      std::fprintf(stderr, "usage: int8_bench [--data DIR] [--rounds N] [--rows N] [--paths all|best]\n");
      return 2;
    }
  }
  if (!std::filesystem::exists(o.data + "/train-images-idx3-ubyte.gz")) {
    std::fprintf(stderr, "int8_bench: no Fashion-MNIST in %s (scripts/install-deps.sh installs Debian's)\n", o.data.c_str());
    return 1;
  }
  const auto train = nn::load_idx_bytes<float>(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz");
  const auto test = nn::load_idx_bytes<float>(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz");
  std::printf("one core: fp32 FMA peak %.1f GFLOP/s, int8 VNNI peak %.1f GOP/s (measured in this run); best int8 path %s\n",
              bench::fma_peak_gflops<float>(), vnni_peak_gops(), k8::name(k8::best()));
  std::printf("predict over %zu test images, %zu at a time, median of %zu rounds; networks trained 1 epoch\n", test.size(),
              std::min(o.rows, test.size()), o.rounds);

  {
    nn::network<784, 30, 10> net(1, nn::scaled_normal_init{});
    nn::trainer<nn::sgd, nn::cross_entropy> t{nn::sgd{0.5}};
    t.epochs = 1;
    t.batch_size = 10;
    t.on_epoch = {};
    t.fit(net, train);
    compare("784-30-10 sigmoid", net, train, test, o, 784 * 30 + 30 * 10);
  }
  {
    nn::network<784, 100, 10> net(1, nn::scaled_normal_init{});
    nn::trainer<nn::sgd, nn::cross_entropy> t{nn::sgd{0.5}};
    t.epochs = 1;
    t.batch_size = 10;
    t.on_epoch = {};
    t.fit(net, train);
    compare("784-100-10 sigmoid", net, train, test, o, 784 * 100 + 100 * 10);
  }
  {
    nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, 512, 256, 10> net(1, nn::he_init{});
    nn::trainer<nn::adam, nn::log_likelihood> t{nn::adam{0.001}};
    t.epochs = 1;
    t.batch_size = 64;
    t.on_epoch = {};
    t.fit(net, train);
    compare("784-512-256-10 relu softmax", net, train, test, o, 784 * 512 + 512 * 256 + 256 * 10);
  }
  {
    // The book's chapter-6 network (examples/convnet.cpp's ch6a): its convolution runs in float.
    using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                                nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
    ch6a net(1, nn::scaled_normal_init{});
    nn::trainer<nn::sgd, nn::log_likelihood> t{nn::sgd{0.1}};
    t.epochs = 1;
    t.batch_size = 10;
    t.on_epoch = {};
    t.fit(net, train);
    compare("ch6a (conv 20@5x5 in float)", net, train, test, o, 576.0 * 25 * 20 + 2880 * 100 + 100 * 10);
  }
}
