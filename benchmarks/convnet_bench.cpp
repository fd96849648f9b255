// Training speed of the book's convolutional networks (chapter 6) on one core, against this machine's
// FMA peak measured in the same run; benchmarks/torch_convnet.py trains the same networks in PyTorch for
// the side-by-side figures of docs/benchmarks.md (scripts/bench.sh runs both).
//
//   convnet_bench [--data DIR] [--samples N] [--repeats R] [--batch 10,64] [--net ch6a,ch6b,kernels]
//
// ch6a: 5x5 convolution, 20 maps, sigmoid; 2x2 max-pooling; dense 100 sigmoid; softmax 10.
// ch6b: two 5x5 convolution + 2x2 max-pooling layers of 20 and 40 maps with ReLU; dense 100 ReLU with
//       dropout 0.5; softmax 10.
// Each figure: one epoch over the first N Fashion-MNIST training images (default 10,000), SGD with
// eta 0.1 and the log-likelihood cost, the median of R runs from a fresh network. FLOPs are counted as
// docs/benchmarks.md counts the dense ones (a multiply-add is 2): per training sample, each convolution's
// forward pass 2·maps·taps·pixels, its weight gradient as much again and, past the first layer, its
// error at the input as much again; each dense layer 2·In·Out for each of the three; 2·P/m for the update.
// `kernels`: each convolution kernel alone on the convolutions of ch6a, ch6b and convnet's default recipe,
// per sample (the median of 9 runs of 500 calls), 2·maps·taps·pixels FLOPs each.
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/simd/conv.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "peak.hpp"

namespace {

using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                            nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
using ch6b = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::relu>, nn::max_pool<2>,
                            nn::conv2d<40, 5, 5, nn::relu>, nn::max_pool<2>, nn::flatten, nn::dense<100, nn::relu>,
                            nn::dense<10, nn::softmax>>;

double training_flops(const std::string& net, std::size_t m) {
  const double conv1 = 2.0 * 20 * 25 * 576, conv2 = 2.0 * 40 * 500 * 64;
  if (net == "ch6a") return 2 * conv1 + 3 * 2.0 * 2880 * 100 + 3 * 2.0 * 100 * 10 + 2.0 * ch6a::parameter_count / double(m);
  return 2 * conv1 + 3 * conv2 + 3 * 2.0 * 640 * 100 + 3 * 2.0 * 100 * 10 + 2.0 * ch6b::parameter_count / double(m);
}

template <class Net>
double samples_per_second(const nn::byte_dataset<float>& train, std::size_t batch, double dropout, std::size_t repeats) {
  std::vector<double> runs;
  for (std::size_t r = 0; r < repeats; ++r) {
    Net net(1);
    nn::trainer<nn::sgd, nn::log_likelihood> t{nn::sgd{0.1}};
    t.epochs = 1;
    t.batch_size = batch;
    t.threads = 1;
    t.dropout = dropout;
    t.on_epoch = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    t.fit(net, train);
    runs.push_back(double(train.size()) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

// One convolution's three kernels on fixed inputs, microseconds per sample and share of the peak.
template <nn::conv_geometry G>
void time_kernels(const char* name, double peak) {
  constexpr std::size_t row = nn::simd::conv_tiles<float, G>::row;
  nn::aligned_vector<float> p(G.maps * row + G.maps), x(G.input_size()), y(G.output_size()), gi(G.input_size()),
      grad(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = float(i * 7919 % 13) * 0.01f;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i * 104729 % 17) * 0.01f;
  const double flop = 2.0 * double(G.maps * G.taps() * G.pixels());
  auto median = [](auto call) {
    std::vector<double> runs;
    for (int r = 0; r < 9; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 500; ++i) {
        call();
        asm volatile("" ::: "memory");
      }
      runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 500);
    }
    std::sort(runs.begin(), runs.end());
    return runs[runs.size() / 2];
  };
  const double f = median([&] { nn::simd::conv_forward<float, G>(p.data(), x.data(), y.data()); });
  const double b = median([&] { nn::simd::conv_backward_input<float, G>(p.data(), y.data(), gi.data()); });
  const double g = median([&] {
    nn::simd::conv_gradient<float, G>(x.data(), y.data(), 1e-3f, 0, row / nn::simd::layout_width<float>, true, grad.data());
  });
  auto share = [&](double t) { return 100 * flop / t * 1e-9 / peak; };
  std::printf("kernels %-34s forward %6.1f us %3.0f%%  input error %6.1f us %3.0f%%  weight gradient %6.1f us %3.0f%%\n",
              name, f * 1e6, share(f), b * 1e6, share(b), g * 1e6, share(g));
}

void kernel_table(double peak) {
  using nn::make_conv_geometry;
  using P = nn::padding;
  time_kernels<make_conv_geometry(1, 28, 28, 20, 5, 5, 1, P::valid)>("ch6a 1x28x28 -> 20 5x5", peak);
  time_kernels<make_conv_geometry(20, 12, 12, 40, 5, 5, 1, P::valid)>("ch6b 20x12x12 -> 40 5x5", peak);
  time_kernels<make_conv_geometry(1, 28, 28, 32, 3, 3, 1, P::same)>("default 1x28x28 -> 32 3x3 same", peak);
  time_kernels<make_conv_geometry(32, 14, 14, 64, 3, 3, 1, P::same)>("default 32x14x14 -> 64 3x3 same", peak);
  time_kernels<make_conv_geometry(64, 7, 7, 128, 3, 3, 1, P::same)>("default 64x7x7 -> 128 3x3 same", peak);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "/usr/share/datasets/fashion-mnist", nets = "ch6a,ch6b,kernels";
  std::size_t samples = 10000, repeats = 3;
  std::vector<std::size_t> batches{10, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--data") data = v;
    else if (a == "--samples") samples = std::stoul(v);
    else if (a == "--repeats") repeats = std::stoul(v);
    else if (a == "--batch") batches = bench::numbers(v);
    else if (a == "--net") nets = v;
    else {
      std::fprintf(stderr, "usage: convnet_bench [--data DIR] [--samples N] [--repeats R] [--batch 10,64] [--net ch6a,ch6b,kernels]\n");
      return 2;
    }
  }
  const double peak = bench::fma_peak_gflops<float>();
  std::printf("fp32 FMA peak of one core, measured now: %.1f GFLOP/s\n", peak);
  if (nets.find("kernels") != std::string::npos) kernel_table(peak);
  if (nets.find("ch6") == std::string::npos) return 0;  // the kernels need no data
  const auto all = nn::load_idx_bytes(data + "/train-images-idx3-ubyte.gz", data + "/train-labels-idx1-ubyte.gz", 10, 784);
  const auto train = nn::split_at(all, std::min(samples, all.size())).first;
  std::printf("%zu training images, median of %zu runs\n", train.size(), repeats);
  for (const std::string net : {"ch6a", "ch6b"}) {
    if (nets.find(net) == std::string::npos) continue;
    for (const std::size_t b : batches) {
      const double sps = net == "ch6a" ? samples_per_second<ch6a>(train, b, 0, repeats)
                                       : samples_per_second<ch6b>(train, b, 0.5, repeats);
      const double gf = sps * training_flops(net, b) * 1e-9;
      std::printf("nn %s batch %zu: %.0f samples/s  %.1f GFLOP/s  %.1f%% of peak\n", net.c_str(), b, sps, gf, 100 * gf / peak);
    }
  }
}
