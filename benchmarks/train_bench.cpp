// End-to-end training speed against this machine's own FMA peak, measured in the same run.
//
//   train_bench [--data DIR] [--epochs N] [--batch N] [--threads 1,2] [--samples N] [--synthetic]
//               [--network 784-30-10|784-100-10|784-512-256-10] [--train-only] [--keep-subnormals]
//
// Trains full epochs of 784-30-10 and 784-100-10 (sigmoid, quadratic cost, SGD, η = 3) on Fashion-MNIST's
// 60,000 training images (or, when they are absent or with --synthetic, 60,000 random images of the same
// shape), and prints per network: samples/s, GFLOP/s and the percentage of the FMA peak for training
// (shuffle, gather, forward, backprop, update; the epoch's evaluation is timed separately), then the same
// for inference (`predict` on the 10,000 test images). Each figure is the median over the epochs (or
// repetitions); the peak is the best of several runs of a register-only FMA loop. Images are kept as
// bytes (nn::byte_dataset), as the MNIST example keeps them. With --threads 1,2 each network is trained
// once per thread count, from the same seed (the results are the same bit for bit). --network runs one
// network; 784-512-256-10, only when asked for, is the Fashion-MNIST recipe (examples/fashion_mnist.cpp:
// relu and He initialisation, dropout 0.2, softmax and the log-likelihood cost, Adam with η = 0.001); --train-only trains with no test data and skips inference, for a profiler (docs/benchmarks.md:
// `perf record` sees the training step alone); --keep-subnormals trains with IEEE arithmetic
// (trainer::flush_subnormals = false).
//
// FLOP counts are the course's algorithm's, real neurons only (padding lanes are not counted), a
// multiply-add being 2 FLOP: per training sample 2·Σ In·Out (forward) + 2·Σ In·Out (weight gradients)
// + 2·Σ_{l>0} In·Out (hidden errors) + 2·P/m (the update of P parameters once per mini-batch of m);
// per inference sample 2·Σ In·Out. Activations, costs, exp, dropout and Adam's extra arithmetic are not
// counted.
#include <nn/data/idx.hpp>
#include <nn/network.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "peak.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

using bench::median;

struct options {
  std::string data;
  std::size_t epochs = 3, batch = 10, samples = 0;
  std::vector<std::size_t> threads{1};
  bool synthetic = false, train_only = false, keep_subnormals = false;
  std::string network;  // "": both
};

template <std::size_t... Sizes>
constexpr double training_flops(std::size_t m) {
  constexpr std::array<std::size_t, sizeof...(Sizes)> s{Sizes...};
  double mac = 0, hidden_mac = 0, params = 0;
  for (std::size_t l = 0; l + 1 < s.size(); ++l) {
    mac += double(s[l]) * double(s[l + 1]);
    if (l > 0) hidden_mac += double(s[l]) * double(s[l + 1]);
    params += double(s[l] + 1) * double(s[l + 1]);
  }
  return 4 * mac + 2 * hidden_mac + 2 * params / double(m);
}
template <std::size_t... Sizes>
constexpr double inference_flops() {
  constexpr std::array<std::size_t, sizeof...(Sizes)> s{Sizes...};
  double mac = 0;
  for (std::size_t l = 0; l + 1 < s.size(); ++l) mac += double(s[l]) * double(s[l + 1]);
  return 2 * mac;
}

// Recipe: the Fashion-MNIST recipe's layers and step (above) instead of the course's.
template <bool Recipe, std::size_t... Sizes>
void run(const char* name, const nn::byte_dataset<float>& train, const nn::byte_dataset<float>& test, const options& o,
         double peak) {
  using Net = std::conditional_t<Recipe, nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, Sizes...>,
                                 nn::network<Sizes...>>;
  using Trainer = std::conditional_t<Recipe, nn::trainer<nn::adam, nn::log_likelihood>, nn::trainer<>>;
  double one_thread = 0;
  for (const std::size_t threads : o.threads) {
    Net net = [] {
      if constexpr (Recipe) return Net(1, nn::he_init{});
      else return Net(1);
    }();
    Trainer t = [] {
      if constexpr (Recipe) {
        Trainer r{nn::adam{0.001}};
        r.dropout = 0.2;
        return r;
      } else {
        return Trainer{nn::sgd{3.0}};
      }
    }();
    t.epochs = o.epochs;
    t.batch_size = o.batch;
    t.threads = threads;
    t.on_epoch = nullptr;
    // (A generic lambda, so that scripts/bench-compare.sh can build this file against an nn without it.)
    [&](auto& tr) {
      if constexpr (requires { tr.flush_subnormals; }) tr.flush_subnormals = !o.keep_subnormals;
    }(t);
    const auto history = o.train_only ? t.fit(net, train) : t.fit(net, train, test);
    std::vector<double> train_s, eval_s;
    for (const auto& r : history) {
      train_s.push_back(r.seconds);
      eval_s.push_back(r.eval_seconds);
    }
    const double sps = static_cast<double>(train.size()) / median(train_s);
    const double gf = sps * training_flops<Sizes...>(o.batch) * 1e-9;
    const double eval_sps = static_cast<double>(test.size()) / median(eval_s);
    const double eval_gf = eval_sps * inference_flops<Sizes...>() * 1e-9;
    if (threads == o.threads.front()) one_thread = sps;
    if (o.train_only) {
      std::printf("%-11s %-13s %9.0f samples/s  %6.1f GFLOP/s  %5.1f%% of peak   (batch %zu, %zu thread%s)\n", name, "train",
                  sps, gf, 100 * gf / peak, o.batch, history.back().threads, history.back().threads == 1 ? "" : "s");
      continue;
    }
    std::printf("%-11s %-13s %9.0f samples/s  %6.1f GFLOP/s  %5.1f%% of peak   (batch %zu, %zu thread%s of %zu asked, "
                "%.2fx, final test %zu / %zu)\n",
                name, "train", sps, gf, 100 * gf / peak, o.batch, history.back().threads, history.back().threads == 1 ? "" : "s",
                threads, sps / one_thread, history.back().correct, history.back().tested);
    std::printf("%-11s %-13s %9.0f samples/s  %6.1f GFLOP/s  %5.1f%% of peak   (%zu thread%s)\n", name, "evaluate", eval_sps,
                eval_gf, 100 * eval_gf / peak, threads, threads == 1 ? "" : "s");
    if (threads != 1) continue;

    // predict on the test images as one matrix, the batched inference API (one thread): into reused
    // storage, and returning a new matrix (whose pages the kernel must first supply: on this VM a page
    // fault costs about 13 µs, and a fresh 10,000-row result has 156 pages).
    nn::matrix<float, nn::dynamic, Net::inputs> x(test.size());
    for (std::size_t i = 0; i < test.size(); ++i) nn::copy_input(test, i, x.row(i));
    nn::matrix<float, nn::dynamic, Net::outputs> out(test.size());
    const nn::matrix_ref<float, nn::dynamic, Net::outputs> into(out.data(), out.rows());
    std::vector<double> into_s, new_s;
    for (int rep = 0; rep < 11; ++rep) {
      auto t0 = clock_type::now();
      net.predict(x, into);
      into_s.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
      t0 = clock_type::now();
      const auto fresh = net.predict(x);
      new_s.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
      if (fresh(0, 0) != out(0, 0)) std::printf("predict differs\n");
    }
    for (const auto& [label, times] : {std::pair{"predict", &into_s}, std::pair{"predict, new", &new_s}}) {
      const double pred_sps = static_cast<double>(test.size()) / median(*times);
      const double pred_gf = pred_sps * inference_flops<Sizes...>() * 1e-9;
      std::printf("%-11s %-13s %9.0f samples/s  %6.1f GFLOP/s  %5.1f%% of peak   (%.2fx training's GFLOP/s per FLOP)\n",
                  name, label, pred_sps, pred_gf, 100 * pred_gf / peak, pred_gf / gf);
    }
  }
}

// Random pixels with random labels, the shape of Fashion-MNIST.
nn::byte_dataset<float> synthetic(std::size_t n, std::uint64_t seed) {
  nn::rng r(seed);
  std::vector<std::uint8_t> pixels(n * 784), labels(n);
  for (auto& p : pixels) p = static_cast<std::uint8_t>(r.below(256));
  for (auto& l : labels) l = static_cast<std::uint8_t>(r.below(10));
  return nn::byte_dataset<float>(784, 10, std::move(pixels), std::move(labels));
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "train_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (a == "--data") o.data = next();
    else if (a == "--epochs") o.epochs = std::stoul(next());
    else if (a == "--batch") o.batch = std::stoul(next());
    else if (a == "--threads") o.threads = bench::numbers(next());
    else if (a == "--samples") o.samples = std::stoul(next());
    else if (a == "--synthetic") o.synthetic = true;
    else if (a == "--train-only") o.train_only = true;
    else if (a == "--keep-subnormals") o.keep_subnormals = true;
    else if (a == "--network") o.network = next();
    else {
      std::fprintf(stderr, "usage: train_bench [--data DIR] [--epochs N] [--batch N] [--threads 1,2] [--samples N] "
                           "[--synthetic] [--network 784-30-10|784-100-10|784-512-256-10] [--train-only] [--keep-subnormals]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (!o.network.empty() && o.network != "784-30-10" && o.network != "784-100-10" && o.network != "784-512-256-10") {
    std::fprintf(stderr, "train_bench: --network is 784-30-10, 784-100-10 or 784-512-256-10, not '%s'\n", o.network.c_str());
    return 2;
  }
  if (o.epochs == 0 || o.batch == 0) {
    std::fprintf(stderr, "train_bench: --epochs and --batch must be at least 1\n");
    return 2;
  }
  if (o.data.empty()) {
    for (const char* d : {"data/fashion-mnist", "/usr/share/datasets/fashion-mnist"})
      if (std::filesystem::exists(std::string(d) + "/train-images-idx3-ubyte.gz")) {
        o.data = d;
        break;
      }
  }

  const double peak = bench::fma_peak_gflops<float>();
  std::printf("FMA peak, one core, float: %.1f GFLOP/s (%zu lanes of float per register)\n", peak,
              bench::peak_loop_for<float>().lanes);

  nn::byte_dataset<float> train(784, 10), test(784, 10);
  if (!o.synthetic && !o.data.empty()) {
    train = nn::load_idx_bytes(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz");
    test = nn::load_idx_bytes(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz");
    std::printf("Data: Fashion-MNIST from %s", o.data.c_str());
  } else {
    train = synthetic(60000, 1);
    test = synthetic(10000, 2);
    std::printf("Data: synthetic (random pixels and labels)");
  }
  if (o.samples && o.samples < train.size()) train = nn::split_at(std::move(train), o.samples).first;
  if (o.samples && o.samples < test.size()) test = nn::split_at(std::move(test), o.samples).first;
  std::printf(", %zu training and %zu test images of 784 bytes\n", train.size(), test.size());
  std::printf("%zu epochs, mini-batch %zu; medians over epochs\n\n", o.epochs, o.batch);
  if (o.network.empty() || o.network == "784-30-10") run<false, 784, 30, 10>("784-30-10", train, test, o, peak);
  if (o.network.empty() || o.network == "784-100-10") run<false, 784, 100, 10>("784-100-10", train, test, o, peak);
  if (o.network == "784-512-256-10") run<true, 784, 512, 256, 10>("784-512-256-10", train, test, o, peak);
}
