// Same numbers, pinned: for fixed seeds, the checksum of every trained parameter and every per-epoch
// report of the course network, the Fashion-MNIST recipe, a 4-layer tanh network with momentum and L2,
// a double network, and online training on a stream, each on 1 and on 2 threads. The expected strings
// were recorded from main at 8e44150 (before networks became lists of layers); any change to the
// arithmetic of a training step changes them. To re-record after a deliberate change of numbers, run
// with NN_IDENTITY_PRINT=1 and paste what it prints (and say why in the commit).
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/online.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

const std::string fashion = NN_FASHION_DIR;

// FNV-1a over the bytes of every parameter (padding included: it must stay zero).
template <class Net>
std::uint64_t checksum(const Net& net) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const auto v : net.parameters()) {
    unsigned char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    for (const unsigned char c : b) h = (h ^ c) * 1099511628211ULL;
  }
  return h;
}

// The reports without their times: epoch, correct / tested, mean cost in hex (exact), threads, best epoch.
std::string lines(const std::vector<nn::epoch_report>& h) {
  std::string s;
  char buf[160];
  for (const auto& r : h) {
    std::snprintf(buf, sizeof buf, "%zu:%zu/%zu:%a:t%zu:b%zu%s;", r.epoch, r.correct, r.tested, r.mean_cost, r.threads,
                  r.best_epoch, r.stopped_early ? ":stop" : "");
    s += buf;
  }
  return s;
}

template <class Net>
std::string record(const Net& net, const std::vector<nn::epoch_report>& h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx|", static_cast<unsigned long long>(checksum(net)));
  return buf + lines(h);
}

// What main gave, per instruction set: the SIMD width changes the order of horizontal sums, so AVX-512
// (16 floats), AVX2 (8) and SSE2 (4, the sanitizer build) each have their own numbers.
struct pinned {
  const char* name;
  const char* avx512;
  const char* avx2;
  const char* sse2;
};
#include "identity_expected.hpp"

void expect(const char* name, const std::string& got) {
  if (std::getenv("NN_IDENTITY_PRINT")) {  // scripts/record-identity.sh
    std::printf("@@ %s|%s\n", name, got.c_str());
    return;
  }
  INFO(name);
  const pinned* p = nullptr;
  for (const auto& e : expected)
    if (std::string(e.name) == name) p = &e;
  REQUIRE(p != nullptr);
  constexpr std::size_t w = nn::simd::width<float>;
  static_assert(w == 16 || w == 8 || w == 4, "identity_test has numbers for SSE2, AVX2 and AVX-512 only");
  const std::string want = w == 16 ? p->avx512 : w == 8 ? p->avx2 : p->sse2;
  CHECK(got == want);
}

struct data {
  nn::byte_dataset<float> train, test;
};
const data& fashion_slice() {
  static const data d = [] {
    const auto train = fashion + "/train-images-idx3-ubyte.gz";
    if (!std::filesystem::exists(train))
      FAIL("identity_test needs Fashion-MNIST in " + fashion + " (Debian's dataset-fashion-mnist; scripts/install-deps.sh installs it)");
    auto tr = nn::load_idx_bytes<float>(train, fashion + "/train-labels-idx1-ubyte.gz");
    auto te = nn::load_idx_bytes<float>(fashion + "/t10k-images-idx3-ubyte.gz", fashion + "/t10k-labels-idx1-ubyte.gz");
    return data{nn::split_at(std::move(tr), 3000).first, nn::split_at(std::move(te), 1000).first};
  }();
  return d;
}

}  // namespace

TEST_CASE("identity: the course network (784-30-10, sigmoid, quadratic, SGD eta 3, batch 10)", "[identity]") {
  const auto& d = fashion_slice();
  const auto course = [&](std::size_t batch, std::size_t epochs, const char* one_thread, const char* two_threads) {
    for (const std::size_t threads : {1, 2}) {
      nn::network<784, 30, 10> net(7);
      nn::trainer<> t{nn::sgd{3.0}};
      t.epochs = epochs;
      t.batch_size = batch;
      t.seed = 11;
      t.threads = threads;
      t.on_epoch = nullptr;
      const auto h = t.fit(net, d.train, d.test);
      expect(threads == 1 ? one_thread : two_threads, record(net, h));
    }
  };
  course(10, 3, "course, 1 thread", "course, 2 threads");
  // The same at a batch the two threads share (at 10 a batch trains on one thread).
  course(40, 2, "course batch 40, 1 thread", "course batch 40, 2 threads");
}

TEST_CASE("identity: the Fashion-MNIST recipe (relu, dropout, softmax, Adam, cosine, early stopping)", "[identity]") {
  const auto& d = fashion_slice();
  using net_t = nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, 64, 32, 10>;
  const auto [train, validation] = nn::split_at(d.train, 2500);
  for (const std::size_t threads : {1, 2}) {
    net_t net(3, nn::he_init{});
    nn::trainer<nn::adam, nn::log_likelihood> t{nn::adam{0.002}};
    t.epochs = 6;
    t.batch_size = 32;
    t.seed = 5;
    t.threads = threads;
    t.dropout = 0.2;
    t.schedule = nn::cosine_decay(6);
    t.patience = 2;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, train, validation);
    expect(threads == 1 ? "recipe, 1 thread" : "recipe, 2 threads", record(net, h));
  }
}

TEST_CASE("identity: a 4-layer tanh network with momentum and L2", "[identity]") {
  const auto& d = fashion_slice();
  using net_t = nn::basic_network<nn::policies<float, nn::tanh, nn::sigmoid>, 784, 48, 24, 16, 10>;
  for (const std::size_t threads : {1, 2}) {
    net_t net(9, nn::scaled_normal_init{});
    nn::trainer<nn::momentum, nn::cross_entropy> t{nn::momentum{0.1, 0.9}};
    t.epochs = 3;
    t.batch_size = 32;
    t.seed = 2;
    t.threads = threads;
    t.weight_decay = 5.0;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, d.train, d.test);
    expect(threads == 1 ? "tanh, 1 thread" : "tanh, 2 threads", record(net, h));
  }
  // Plain SGD with L2 (the fused update with weight decay), on two threads.
  net_t net(9, nn::scaled_normal_init{});
  nn::trainer<> t{nn::sgd{0.5}};
  t.epochs = 2;
  t.batch_size = 32;
  t.threads = 2;
  t.weight_decay = 5.0;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, d.train, d.test);
  expect("tanh, fused SGD with L2", record(net, h));
}

TEST_CASE("identity: a double network", "[identity]") {
  const auto& d = fashion_slice();
  nn::basic_network<nn::policies<double>, 784, 20, 10> net(4);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 2;
  t.batch_size = 10;
  t.seed = 3;
  t.on_epoch = nullptr;
  const nn::byte_dataset<double> train = [&] {
    nn::byte_dataset<double> b(784, 10, 255);
    for (std::size_t i = 0; i < 1000; ++i) b.add(d.train.input(i), d.train.label(i));
    return b;
  }();
  const auto h = t.fit(net, train);
  expect("double", record(net, h));
}

TEST_CASE("identity: online training on a stream", "[identity]") {
  nn::network<784, 30, 10> net(8);
  nn::online_trainer<> t{nn::sgd{0.5}};
  t.on_report = nullptr;
  nn::idx_stream<float> s(fashion + "/train-images-idx3-ubyte.gz", fashion + "/train-labels-idx1-ubyte.gz");
  struct first_n {
    nn::idx_stream<float>& s;
    std::size_t n;
    std::size_t input_size() const { return s.input_size(); }
    std::size_t output_size() const { return s.output_size(); }
    bool next(std::span<float> x, std::span<float> y) { return n-- > 0 && s.next(x, y); }
  } stream{s, 1500};
  const auto rep = t.fit(net, stream);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu:%a", rep.examples, rep.mean_cost);
  expect("online, a step per example", record(net, {}) + buf);
  // Mini-batches of 7 with Adam (not fused).
  nn::network<784, 30, 10> net2(8);
  nn::online_trainer<nn::adam> t2{nn::adam{0.001}};
  t2.batch_size = 7;
  t2.on_report = nullptr;
  nn::idx_stream<float> s2(fashion + "/train-images-idx3-ubyte.gz", fashion + "/train-labels-idx1-ubyte.gz");
  first_n stream2{s2, 1000};
  const auto rep2 = t2.fit(net2, stream2);
  std::snprintf(buf, sizeof buf, "%zu:%a", rep2.examples, rep2.mean_cost);
  expect("online, Adam in steps of 7", record(net2, {}) + buf);
}
