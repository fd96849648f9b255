#include <nn/network.hpp>
#include <nn/online.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "blobs.hpp"
#include "catch.hpp"

namespace {

nn::dataset<float, 2, 1> xor_data() {
  nn::dataset<float, 2, 1> d;
  d.add({0, 0}, {0});
  d.add({0, 1}, {1});
  d.add({1, 0}, {1});
  d.add({1, 1}, {0});
  return d;
}

// y = A·x + c for a fixed A and c, on random x.
nn::dataset<double, 3, 2> linear_data(std::size_t n, std::uint64_t seed) {
  nn::dataset<double, 3, 2> d;
  nn::rng r(seed);
  for (std::size_t i = 0; i < n; ++i) {
    const double x0 = 2 * r.uniform() - 1, x1 = 2 * r.uniform() - 1, x2 = 2 * r.uniform() - 1;
    d.add({x0, x1, x2}, {0.5 * x0 - 1.5 * x1 + 0.25 * x2 + 0.1, -0.75 * x0 + 2.0 * x2 - 0.3});
  }
  return d;
}

using test_data::blobs;

struct unfused_sgd {
  double learning_rate;
  template <class T>
  void step(std::span<T> p, std::span<const T> g) const {
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= static_cast<T>(learning_rate) * g[i];
  }
};

}  // namespace

TEST_CASE("a 2-4-1 sigmoid network learns XOR", "[train]") {
  const auto data = xor_data();
  for (std::uint64_t seed : {1, 2, 3}) {
    nn::network<2, 4, 1> net(seed);
    nn::trainer<> t{nn::sgd{3.0}};
    t.epochs = 4000;
    t.batch_size = 4;
    t.seed = seed;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, data, data);
    INFO("seed " << seed << ", final cost " << h.back().mean_cost);
    REQUIRE(h.back().correct == 4);
    REQUIRE(h.back().mean_cost < 0.01);
    REQUIRE(net.feedforward(std::array<float, 2>{0, 1})[0] > 0.9f);
    REQUIRE(net.feedforward(std::array<float, 2>{1, 1})[0] < 0.1f);
  }
}

TEST_CASE("a linear network recovers a known linear map", "[train]") {
  nn::basic_network<nn::policies<double, nn::identity>, 3, 2> net(4);
  nn::trainer<> t{nn::sgd{0.1}};
  t.epochs = 300;
  t.batch_size = 10;
  t.on_epoch = nullptr;
  t.fit(net, linear_data(200, 5));
  const double A[2][3] = {{0.5, -1.5, 0.25}, {-0.75, 0.0, 2.0}};
  const double c[2] = {0.1, -0.3};
  for (std::size_t j = 0; j < 2; ++j) {
    REQUIRE(net.bias(0, j) == Approx(c[j]).margin(1e-6));
    for (std::size_t k = 0; k < 3; ++k) REQUIRE(net.weight(0, j, k) == Approx(A[j][k]).margin(1e-6));
  }
}

TEST_CASE("training classifies held-out data whose answer is known", "[train]") {
  const auto train = blobs(2000, 1), test = blobs(500, 2);
  nn::network<20, 15, 5> net(3);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 5;
  t.on_epoch = nullptr;
  const std::size_t before = nn::evaluate(net, test);
  const auto h = t.fit(net, train, test);
  REQUIRE(h.size() == 5);
  REQUIRE(h.back().tested == 500);
  REQUIRE(h.back().correct == nn::evaluate(net, test));
  REQUIRE(h.back().correct > 475);
  REQUIRE(before < 250);
  REQUIRE(h.back().mean_cost < h.front().mean_cost);
}

TEST_CASE("softmax with log-likelihood, and sigmoid with cross-entropy, classify known data", "[train]") {
  const auto train = blobs(2000, 1), test = blobs(500, 2);
  SECTION("softmax outputs") {
    nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 20, 15, 5> net(3, nn::scaled_normal_init{});
    nn::trainer<nn::sgd, nn::log_likelihood> t{nn::sgd{0.1}};
    t.epochs = 5;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, train, test);
    REQUIRE(h.back().correct > 475);
    REQUIRE(h.back().mean_cost < h.front().mean_cost);
    // Outputs are probabilities: each row sums to 1; the mean cost is −ln(probability of the label).
    const auto out = net.feedforward(std::span<const float>(test.input(0)));
    float total = 0;
    for (const float p : out) total += p;
    REQUIRE(total == Approx(1).epsilon(1e-5));
    REQUIRE(h.back().mean_cost < 0.2);
  }
  SECTION("sigmoid outputs") {
    nn::network<20, 15, 5> net(3);
    nn::trainer<nn::sgd, nn::cross_entropy> t{nn::sgd{0.5}};
    t.epochs = 5;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, train, test);
    REQUIRE(h.back().correct > 475);
    REQUIRE(h.back().mean_cost < h.front().mean_cost);
  }
}

TEST_CASE("label smoothing asks for 1 − ε + ε/K on the label and ε/K elsewhere, not for certainty", "[train]") {
  // Input k is the unit vector e_k with label k, so one softmax layer can give each input any output it
  // likes: the log-likelihood drives the label's probability towards 1, the smoothed cost to exactly its
  // targets, 1 − ε + ε/K = 0.84 and ε/K = 0.04 (ε = 0.2, K = 5).
  nn::dataset<float, 5, 5> data;
  for (int copy = 0; copy < 8; ++copy)
    for (std::size_t k = 0; k < 5; ++k) {
      std::array<float, 5> e{};
      e[k] = 1;
      data.add(e, e);
    }
  auto outputs = [&](auto cost) {
    nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 5, 5> net(3, nn::scaled_normal_init{});
    nn::trainer<nn::adam, decltype(cost)> t{nn::adam{0.05}, cost};
    t.epochs = 200;
    t.batch_size = 8;
    t.on_epoch = nullptr;
    (void)t.fit(net, data);
    std::array<std::array<float, 5>, 5> out{};
    for (std::size_t k = 0; k < 5; ++k) {
      const auto o = net.feedforward(std::span<const float>(data.input(k)));
      std::copy(o.begin(), o.end(), out[k].begin());
    }
    return out;
  };
  const auto smoothed = outputs(nn::smoothed_log_likelihood<5>{0.2});
  const auto plain = outputs(nn::log_likelihood{});
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t j = 0; j < 5; ++j) {
      CAPTURE(k, j);
      REQUIRE(smoothed[k][j] == Approx(j == k ? 0.84 : 0.04).margin(1e-3));
      if (j == k) REQUIRE(plain[k][j] > 0.99);
    }
}

TEST_CASE("the same seeds give bit-identical results, other seeds do not", "[train]") {
  const auto train = blobs(300, 7);
  auto run = [&](std::uint64_t init_seed, std::uint64_t shuffle_seed) {
    nn::network<20, 15, 5> net(init_seed);
    nn::trainer<> t{nn::sgd{1.0}};
    t.epochs = 3;
    t.seed = shuffle_seed;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, train);
    return std::pair{net, h.back().mean_cost};
  };
  const auto [a, ca] = run(1, 1);
  const auto [b, cb] = run(1, 1);
  REQUIRE(a == b);
  REQUIRE(ca == cb);
  REQUIRE(!(run(2, 1).first == a));  // another initialisation
  REQUIRE(!(run(1, 2).first == a));  // another shuffle
}

TEST_CASE("the fused SGD update and a step() optimizer train the same network", "[train]") {
  const auto train = blobs<double>(250, 3);  // 250 = 25 batches of 10: a partial last batch is tested below
  nn::basic_network<nn::policies<double>, 20, 15, 5> fused(1), plain(1);
  nn::trainer<> tf{nn::sgd{2.0}};
  nn::trainer<unfused_sgd> tp{unfused_sgd{2.0}};
  for (auto* t : {&tf.epochs, &tp.epochs}) *t = 3;
  tf.on_epoch = nullptr;
  tp.on_epoch = nullptr;
  tf.fit(fused, train);
  tp.fit(plain, train);
  auto p = fused.parameters(), q = plain.parameters();
  for (std::size_t i = 0; i < p.size(); ++i) REQUIRE(p[i] == Approx(q[i]).margin(1e-10));
}

TEST_CASE("a partial last mini-batch is trained and counted", "[train]") {
  const auto train = blobs(25, 4);
  nn::network<20, 15, 5> net(1);
  nn::trainer<unfused_sgd> t{unfused_sgd{1.0}};
  t.epochs = 1;
  t.batch_size = 10;
  std::vector<nn::epoch_report> seen;
  t.on_epoch = [&](const nn::epoch_report& r) { seen.push_back(r); };
  t.fit(net, train);
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0].samples == 25);
  REQUIRE(seen[0].epoch == 0);
  REQUIRE(seen[0].epochs == 1);
  REQUIRE(seen[0].tested == 0);
  REQUIRE(seen[0].mean_cost > 0);
  // The same epoch with batch size 25 (one batch) gives the same mean cost before the update.
  nn::network<20, 15, 5> one(1);
  t.batch_size = 25;
  t.on_epoch = nullptr;
  const auto h = t.fit(one, train);
  nn::network<20, 15, 5> fresh(1);
  typename decltype(fresh)::workspace ws(25);
  std::vector<std::size_t> idx(25);
  for (std::size_t i = 0; i < 25; ++i) idx[i] = i;
  nn::detail::gather<decltype(fresh)>(train, std::span<const std::size_t>(idx), ws);
  nn::aligned_vector<float> g(decltype(fresh)::parameter_storage);
  const double total = fresh.gradient(ws, nn::quadratic_cost{}, std::span<float>(g));
  REQUIRE(h[0].mean_cost == Approx(total / 25).epsilon(1e-5));
}

TEST_CASE("the default report prints the course's line", "[train]") {
  nn::epoch_report r;
  r.epoch = 3;
  r.correct = 9129;
  r.tested = 10000;
  r.seconds = 1.25;
  r.mean_cost = 0.0412;
  REQUIRE(nn::format_report(r) == "Epoch 3: 9129 / 10000  (1.25 s, mean cost 0.0412)");
  r.tested = 0;
  REQUIRE(nn::format_report(r) == "Epoch 3 complete  (1.25 s, mean cost 0.0412)");
}

TEST_CASE("divergence stops training with a message naming the epoch and learning rate", "[train]") {
  nn::basic_network<nn::policies<double, nn::identity>, 3, 2> net(4);
  nn::trainer<> t{nn::sgd{50.0}};
  t.epochs = 100;
  t.on_epoch = nullptr;
  try {
    t.fit(net, linear_data(200, 5));
    FAIL("training at learning rate 50 should diverge");
  } catch (const nn::divergence_error& e) {
    const std::string msg = e.what();
    INFO(msg);
    REQUIRE(msg.find("diverged in epoch") != std::string::npos);
    REQUIRE(msg.find("50.0") != std::string::npos);
    for (const char* bad : {"nan", "NaN", "inf"}) REQUIRE(msg.find(bad) == std::string::npos);
    REQUIRE(e.epoch() < 100);
    REQUIRE(e.learning_rate() == 50.0);
  }
}

TEST_CASE("bad training set-ups are clear exceptions", "[train]") {
  nn::network<20, 15, 5> net(1);
  nn::trainer<> t;
  t.on_epoch = nullptr;
  SECTION("data of another width") {
    nn::dataset<float> d(21, 5);
    d.add(std::vector<float>(21), std::vector<float>(5));
    try {
      t.fit(net, d);
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      REQUIRE(std::string(e.what()).find("inputs of 21 values") != std::string::npos);
      REQUIRE(std::string(e.what()).find("20 inputs") != std::string::npos);
    }
  }
  SECTION("empty data") { REQUIRE_THROWS_AS(t.fit(net, nn::dataset<float>(20, 5)), std::invalid_argument); }
  SECTION("batch size 0") {
    t.batch_size = 0;
    REQUIRE_THROWS_AS(t.fit(net, blobs(10, 1)), std::invalid_argument);
  }
  SECTION("learning rate not positive") { REQUIRE_THROWS_AS(nn::sgd{0.0}, std::invalid_argument); }
}

TEST_CASE("on_progress reports growing counts up to the whole epoch", "[train]") {
  const auto train = blobs(1000, 4);
  nn::network<20, 15, 5> net(1);
  nn::trainer<> t;
  t.epochs = 2;
  t.on_epoch = nullptr;
  std::vector<std::size_t> done;
  t.on_progress = [&](std::size_t d, std::size_t total) {
    REQUIRE(total == 1000);
    done.push_back(d);
  };
  t.fit(net, train);
  REQUIRE(done.size() >= 2 * 90);
  REQUIRE(done.size() <= 2 * 101);
  REQUIRE(done[done.size() / 2 - 1] == 1000);
  REQUIRE(done.back() == 1000);
  for (std::size_t i = 1; i < done.size() / 2; ++i) REQUIRE(done[i] > done[i - 1]);
}

namespace {
// A user's own data source, not an nn::dataset: XOR generated on the fly from the sample index,
// returning std::array values (anything convertible to std::span<const float> works).
struct generated_xor {
  std::size_t size() const { return 4; }
  std::size_t input_size() const { return 2; }
  std::size_t output_size() const { return 1; }
  const std::array<float, 2>& input(std::size_t i) const { return inputs[i % 4]; }
  const std::array<float, 1>& target(std::size_t i) const { return targets[i % 4]; }
  std::array<std::array<float, 2>, 4> inputs{{{0, 0}, {0, 1}, {1, 0}, {1, 1}}};
  std::array<std::array<float, 1>, 4> targets{{{0}, {1}, {1}, {0}}};
};
}  // namespace

TEST_CASE("a user's own data source trains and evaluates like nn::dataset", "[train]") {
  STATIC_REQUIRE(nn::data_source<generated_xor, float>);
  nn::network<2, 4, 1> a(1), b(1);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 4000;
  t.batch_size = 4;
  t.on_epoch = nullptr;
  const auto h = t.fit(a, generated_xor{}, generated_xor{});
  REQUIRE(h.back().correct == 4);
  REQUIRE(nn::evaluate(a, generated_xor{}) == 4);
  // Bit-identical to the same samples in an nn::dataset.
  t.fit(b, xor_data());
  REQUIRE(a == b);
}

namespace {
// A user's own byte-coded source (nn::byte_input_source): XOR's inputs as bytes 0 and 4 with
// input_scale() 4, so they stand for 0 and 1, and targets of T as usual.
struct byte_xor {
  std::size_t size() const { return 4; }
  std::size_t input_size() const { return 2; }
  std::size_t output_size() const { return 1; }
  const std::array<std::uint8_t, 2>& input(std::size_t i) const { return inputs[i % 4]; }
  float input_scale() const { return 4; }
  const std::array<float, 1>& target(std::size_t i) const { return targets[i % 4]; }
  std::array<std::array<std::uint8_t, 2>, 4> inputs{{{0, 0}, {0, 4}, {4, 0}, {4, 4}}};
  std::array<std::array<float, 1>, 4> targets{{{0}, {1}, {1}, {0}}};
};
}  // namespace

TEST_CASE("a user's own byte-coded data source trains and evaluates like the same floats", "[train]") {
  STATIC_REQUIRE(nn::data_source<byte_xor, float>);
  STATIC_REQUIRE(nn::byte_input_source<byte_xor, float>);
  nn::network<2, 4, 1> a(1), b(1);
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 4000;
  t.batch_size = 4;
  t.on_epoch = nullptr;
  const auto h = t.fit(a, byte_xor{}, byte_xor{});
  REQUIRE(h.back().correct == 4);
  REQUIRE(nn::evaluate(a, byte_xor{}) == 4);
  t.fit(b, xor_data());
  REQUIRE(a == b);
}

TEST_CASE("argmax is std::max_element's first largest, with ties, infinities and NaNs anywhere", "[train]") {
  // Values from a small set, so that ties and NaNs are common; every length from 0 to 20.
  const float pool[] = {0.5f, 0.25f, 0.5f, -1.0f, std::nanf(""), INFINITY, -INFINITY, 0.0f, -0.0f};
  nn::rng r(3);
  for (std::size_t n = 0; n <= 20; ++n)
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> v(n);
      for (auto& x : v) x = pool[r.below(std::size(pool))];
      const auto want = static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
      REQUIRE(nn::detail::argmax(v.data(), n) == (n == 0 ? 0 : want));
    }
}

namespace {
// The blobs' 5 classes coded in 3 binary outputs (class k: bit b is (k >> b) & 1), with the data's own
// rule for a correct answer: every output on the side of 0.5 its bit says. The library's argmax rule
// would be wrong for such targets.
struct binary_blobs {
  nn::dataset<float> d;
  std::array<std::array<float, 3>, 5> codes{};
  std::vector<std::size_t> labels;
  explicit binary_blobs(nn::dataset<float> data) : d(std::move(data)) {
    for (std::size_t k = 0; k < 5; ++k)
      for (std::size_t b = 0; b < 3; ++b) codes[k][b] = static_cast<float>((k >> b) & 1);
    for (std::size_t i = 0; i < d.size(); ++i) {
      const auto t = d.target(i);
      labels.push_back(static_cast<std::size_t>(std::max_element(t.begin(), t.end()) - t.begin()));
    }
  }
  std::size_t size() const { return d.size(); }
  std::size_t input_size() const { return d.input_size(); }
  std::size_t output_size() const { return 3; }
  std::span<const float> input(std::size_t i) const { return d.input(i); }
  std::span<const float> target(std::size_t i) const { return codes[labels[i]]; }
  bool is_correct(std::span<const float> out, std::span<const float> target) const {
    for (std::size_t b = 0; b < 3; ++b)
      if ((out[b] > 0.5f) != (target[b] > 0.5f)) return false;
    return true;
  }
};
}  // namespace

TEST_CASE("a data source's own is_correct decides what counts as correct, in fit's reports and in evaluate",
          "[train]") {
  const binary_blobs train(blobs(2000, 1)), test(blobs(500, 2));
  nn::network<20, 15, 3> net(3, nn::scaled_normal_init{});
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 5;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, train, test);
  // By hand: decode each output and compare with the label.
  std::size_t by_hand = 0, by_argmax = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const auto out = net.feedforward(test.input(i));
    std::size_t code = 0;
    for (std::size_t b = 0; b < 3; ++b) code |= std::size_t{out[b] > 0.5f} << b;
    by_hand += code == test.labels[i];
    by_argmax += nn::is_correct<float>(out, test.target(i));
  }
  REQUIRE(h.back().correct == by_hand);
  REQUIRE(nn::evaluate(net, test) == by_hand);
  REQUIRE(nn::evaluate(net, test, 2) == by_hand);
  REQUIRE(by_hand > 450);           // it learns the code
  REQUIRE(by_argmax != by_hand);    // and the default rule would have counted something else
}

TEST_CASE("train_correct counts the training samples right in their own forward pass, by the data's rule",
          "[train]") {
  // A learning rate so small that no parameter moves: every sample's pass sees the starting network, so the
  // epoch's count is what evaluate says of that network, on 1 and 2 threads (mini-batches of 40).
  const auto data = blobs(1000, 4);
  const binary_blobs coded(blobs(1000, 4));
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    nn::network<20, 15, 5> net(3);
    nn::network<20, 15, 3> net3(3);
    const std::size_t before = nn::evaluate(net, data), before3 = nn::evaluate(net3, coded);
    nn::trainer<> t{nn::sgd{1e-30}};
    t.epochs = 1;
    t.batch_size = 40;
    t.threads = threads;
    t.on_epoch = nullptr;
    CHECK(t.fit(net, data).back().train_correct == before);
    CHECK(t.fit(net3, coded).back().train_correct == before3);
    CHECK(before > 0);
    CHECK(before < 900);
  }
  // Learning: the count rises from epoch to epoch and stays within the samples.
  nn::network<20, 15, 5> net(3, nn::scaled_normal_init{});
  nn::trainer<> t{nn::sgd{0.5}};
  t.epochs = 3;
  t.on_epoch = nullptr;
  const auto h = t.fit(net, data);
  CHECK(h[0].train_correct < h[2].train_correct);
  CHECK(h[2].train_correct <= h[2].samples);
  CHECK(h[2].train_correct > 900);
}

TEST_CASE("a data source whose sample differs from its stated sizes is an exception, not an overrun", "[train]") {
  // input_size() says 2, but input(i) gives 3 values.
  struct liar {
    std::size_t size() const { return 1; }
    std::size_t input_size() const { return 2; }
    std::size_t output_size() const { return 1; }
    std::span<const float> input(std::size_t) const { return x; }
    std::span<const float> target(std::size_t) const { return y; }
    std::array<float, 3> x{};
    std::array<float, 1> y{};
  };
  nn::network<2, 4, 1> net(1);
  nn::trainer<> t;
  t.on_epoch = nullptr;
  try {
    t.fit(net, liar{});
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("sample 0 of the data has inputs of 3 values") != std::string::npos);
  }
  REQUIRE_THROWS_AS(nn::evaluate(net, liar{}), std::invalid_argument);
}

namespace {
// A data source that throws on one sample, to see a failure inside a threaded step end cleanly.
struct throws_on {
  nn::dataset<float> data;
  std::size_t bad;
  std::size_t size() const { return data.size(); }
  std::size_t input_size() const { return data.input_size(); }
  std::size_t output_size() const { return data.output_size(); }
  std::span<const float> input(std::size_t i) const {
    if (i == bad) throw std::runtime_error("sample " + std::to_string(i) + " is unreadable");
    return data.input(i);
  }
  std::span<const float> target(std::size_t i) const { return data.target(i); }
};
}  // namespace

TEST_CASE("threads train the same network bit for bit, fused or not, and evaluate the same count", "[train][threads]") {
  const auto train = blobs(1000, 5), test = blobs(300, 6);
  for (const std::size_t batch : {64, 50, 37}) {  // 1000 = 15·64 + 40: a partial last batch too
    nn::network<20, 33, 5> one(2), two(2), three(2);
    nn::trainer<> t{nn::sgd{3.0}};
    t.epochs = 2;
    t.batch_size = batch;
    t.on_epoch = nullptr;
    const auto h1 = t.fit(one, train, test);
    t.threads = 2;
    const auto h2 = t.fit(two, train, test);
    t.threads = 3;
    const auto h3 = t.fit(three, train, test);
    REQUIRE(one == two);
    REQUIRE(one == three);
    for (std::size_t e = 0; e < 2; ++e) {
      REQUIRE(h1[e].mean_cost == h2[e].mean_cost);
      REQUIRE(h1[e].mean_cost == h3[e].mean_cost);
      REQUIRE(h1[e].correct == h2[e].correct);
      REQUIRE(h1[e].correct == h3[e].correct);
    }
    REQUIRE(h1.back().correct > 250);  // and it learned
    REQUIRE(h1[0].threads == 1);
    REQUIRE(h2[0].threads == 2);
    REQUIRE(h3[0].threads == (batch >= 48 ? 3 : 2));  // at least min_rows_per_thread rows each
  }
  nn::network<20, 33, 5> a(3), b(3);
  nn::trainer<unfused_sgd> u{unfused_sgd{0.5}};
  u.epochs = 2;
  u.batch_size = 64;
  u.on_epoch = nullptr;
  u.fit(a, train);
  u.threads = 2;
  u.fit(b, train);
  REQUIRE(a == b);
  REQUIRE(nn::evaluate(a, test, 2) == nn::evaluate(a, test));
  REQUIRE(nn::evaluate(a, test, 4) == nn::evaluate(a, test));
}

TEST_CASE("a mini-batch too small to share trains on one thread, with the same result", "[train][threads]") {
  const auto train = blobs(200, 7);
  nn::network<20, 8, 5> one(4), two(4);
  nn::trainer<> t{nn::sgd{1.0}};
  t.epochs = 2;
  t.on_epoch = nullptr;  // batch_size 10 < 2 · min_rows_per_thread
  t.fit(one, train);
  t.threads = 2;
  REQUIRE(t.fit(two, train).front().threads == 1);
  REQUIRE(one == two);
}

TEST_CASE("an exception inside a threaded step ends every thread and reaches the caller", "[train][threads]") {
  const throws_on bad{blobs(500, 8), 123};
  nn::network<20, 8, 5> net(5);
  nn::trainer<> t{nn::sgd{1.0}};
  t.batch_size = 64;
  t.threads = 2;
  t.on_epoch = nullptr;
  REQUIRE_THROWS_WITH(t.fit(net, bad), "sample 123 is unreadable");
  // Every member must leave at the same barrier, also when one fails while another is still finishing
  // the step before (a race that once left a thread waiting forever): many failing runs, many positions.
  for (std::size_t k = 0; k < 40; ++k) {
    const throws_on at{bad.data, (k * 97) % 500};
    REQUIRE_THROWS_AS(t.fit(net, at), std::runtime_error);
  }
  REQUIRE_THROWS_WITH(nn::evaluate(net, bad, 2), "sample 123 is unreadable");
  // A throwing callback on member 0, and divergence, also end the threads.
  t.on_progress = [](std::size_t done, std::size_t) {
    if (done > 200) throw std::runtime_error("stop");
  };
  REQUIRE_THROWS_WITH(t.fit(net, bad.data), "stop");
  nn::basic_network<nn::policies<double, nn::identity>, 3, 2> linear(4);
  nn::trainer<> d{nn::sgd{50.0}};
  d.batch_size = 64;
  d.threads = 2;
  d.on_epoch = nullptr;
  REQUIRE_THROWS_AS(d.fit(linear, linear_data(500, 5)), nn::divergence_error);
}

TEST_CASE("early stopping ends after `patience` epochs without a better validation count and keeps the best parameters",
          "[train]") {
  const auto train = blobs(300, 1), validation = blobs(200, 2);
  const auto make = [] { return nn::network<20, 15, 5>(3); };
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 60;
  t.on_epoch = nullptr;
  t.patience = 3;
  auto net = make();
  const auto h = t.fit(net, train, validation);
  REQUIRE(h.size() < 60);  // 200 validation samples are learned well before 60 epochs, then nothing improves
  REQUIRE(h.back().stopped_early);
  const std::size_t best = h.back().best_epoch;
  REQUIRE(h.size() == best + 1 + 3);
  for (std::size_t e = 0; e < h.size(); ++e) {
    REQUIRE(h[e].correct <= h[best].correct);
    if (e < best) REQUIRE(h[e].correct < h[best].correct);  // the first of equals
  }
  // The network is the one after epoch `best`: the same run cut there gives the same parameters.
  nn::trainer<> again{nn::sgd{3.0}};
  again.epochs = best + 1;
  again.on_epoch = nullptr;
  auto cut = make();
  (void)again.fit(cut, train, validation);
  REQUIRE(net == cut);
  REQUIRE(nn::evaluate(net, validation) == h[best].correct);

  nn::trainer<> no_validation;
  no_validation.patience = 2;
  REQUIRE_THROWS_WITH(no_validation.fit(net, train),
                      "nn::trainer: early stopping (patience) needs validation data: fit(net, train, validation)");
}

TEST_CASE("dropout: the same network on 1, 2 and 3 threads, a learner still, off at evaluation", "[train][threads]") {
  const auto train = blobs(640, 1), test = blobs(500, 2);
  const auto run = [&](std::size_t threads, double p) {
    nn::network<20, 15, 5> net(3);
    nn::trainer<> t{nn::sgd{3.0}};
    t.epochs = 4;
    t.batch_size = 64;
    t.threads = threads;
    t.dropout = p;
    t.on_epoch = nullptr;
    const auto h = t.fit(net, train, test);
    return std::pair{net, h.back().correct};
  };
  const auto [one, correct] = run(1, 0.3);
  REQUIRE(one == run(2, 0.3).first);
  REQUIRE(one == run(3, 0.3).first);
  REQUIRE(!(one == run(1, 0.0).first));
  REQUIRE(correct > 475);
  // Evaluation uses the whole network: the same count as nn::evaluate, twice.
  REQUIRE(nn::evaluate(one, test) == correct);
  nn::trainer<> bad;
  bad.dropout = 1.0;
  auto net = one;
  REQUIRE_THROWS_WITH(bad.fit(net, train), "nn::trainer: dropout must be a probability in [0, 1), not 1.000000");
}

namespace {

// The quadratic cost, recording in every call of delta (inside a training step, on whichever thread runs
// it) whether arithmetic there flushes subnormal numbers: a subnormal result (1e-38 · 0.25) becomes 0, and
// a subnormal input (1e-39) counts as 0. `mixed` counts calls that saw one and not the other.
struct probing_cost : nn::quadratic_cost {
  struct counts {
    std::atomic<int> flushed{0}, kept{0}, mixed{0};
  };
  counts* seen = nullptr;
  template <class V, class Act>
  V delta(const V& z, const V& a, const V& y, const Act& act) const noexcept {
    volatile float tiny = 1e-38f, sub = 1e-39f;
    const bool result_flushed = tiny * 0.25f == 0.f, input_flushed = sub * 1e30f == 0.f;
    ++(result_flushed && input_flushed ? seen->flushed : !result_flushed && !input_flushed ? seen->kept : seen->mixed);
    return nn::quadratic_cost::delta(z, a, y, act);
  }
};

// An on_progress callback that records whether it ran with subnormals flushed (it must not: it is the
// caller's code, outside the step's arithmetic).
struct progress_probe {
  std::atomic<int>* flushed_calls;
  void operator()(std::size_t, std::size_t) const { *flushed_calls += nn::detail::subnormals_flushed(); }
};

// 64 blob samples one after another, for online_trainer.
struct blob_stream {
  const nn::dataset<float>* d;
  std::size_t i = 0, end = 64;
  std::size_t input_size() const { return 20; }
  std::size_t output_size() const { return 5; }
  bool next(std::span<float> x, std::span<float> y) {
    if (i == end) return false;
    std::copy_n(d->input(i % d->size()).begin(), 20, x.begin());
    std::copy_n(d->target(i % d->size()).begin(), 5, y.begin());
    ++i;
    return true;
  }
};

}  // namespace

TEST_CASE("training steps flush subnormal numbers to zero, on every thread, unless told not to, and the thread keeps its state",
          "[train][threads]") {
#if NN_HAS_MXCSR
  REQUIRE(!nn::detail::subnormals_flushed());  // the program's state: IEEE arithmetic
  const auto data = blobs<float>(128, 7);
  for (const bool flush : {true, false}) {
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
      probing_cost::counts seen;
      nn::network<20, 4, 5> net(3);
      nn::trainer<nn::sgd, probing_cost> t{nn::sgd{0.5}, probing_cost{{}, &seen}};
      t.epochs = 2;
      t.batch_size = 64;  // two members' worth of rows
      t.threads = threads;
      t.flush_subnormals = flush;
      t.on_epoch = nullptr;
      std::atomic<int> progress_flushed{0};
      t.on_progress = progress_probe{&progress_flushed};
      const auto history = t.fit(net, data, data);
      INFO("flush " << flush << ", threads " << threads);
      REQUIRE(history.back().threads == threads);
      REQUIRE((flush ? seen.flushed : seen.kept) > 0);
      REQUIRE((flush ? seen.kept : seen.flushed) == 0);
      REQUIRE(seen.mixed == 0);
      REQUIRE(progress_flushed == 0);
      REQUIRE(!nn::detail::subnormals_flushed());  // put back after fit
    }
  }
  // false means IEEE arithmetic in the steps even in a thread that flushes (as -ffast-math programs do),
  // and that thread's state is put back.
  {
    const nn::detail::subnormal_mode program_flushes(true);
    probing_cost::counts seen;
    nn::network<20, 4, 5> net(3);
    nn::trainer<nn::sgd, probing_cost> t{nn::sgd{0.5}, probing_cost{{}, &seen}};
    t.flush_subnormals = false;
    t.on_epoch = nullptr;
    t.fit(net, data);
    REQUIRE(seen.kept > 0);
    REQUIRE(seen.flushed + seen.mixed == 0);
    REQUIRE(nn::detail::subnormals_flushed());
  }
  // trainer::step and online_trainer take the same steps.
  for (const bool flush : {true, false}) {
    probing_cost::counts seen;
    nn::network<20, 4, 5> net(3);
    nn::trainer<nn::sgd, probing_cost> t{nn::sgd{0.5}, probing_cost{{}, &seen}};
    t.flush_subnormals = flush;
    nn::network<20, 4, 5>::workspace ws(4);
    std::vector<std::size_t> rows{0, 1, 2, 3};
    nn::detail::gather<nn::network<20, 4, 5>>(data, rows, ws);
    t.step(net, ws);
    nn::online_trainer<nn::sgd, probing_cost> o{nn::sgd{0.5}, probing_cost{{}, &seen}};
    o.flush_subnormals = flush;
    o.on_report = nullptr;
    o.fit(net, blob_stream{&data});
    // delta is called once per register of a row's 5 outputs: 4 rows in step(), 64 one-row steps online.
    REQUIRE((flush ? seen.flushed : seen.kept) == (4 + 64) * nn::row_layout<float, 5>::registers);
    REQUIRE((flush ? seen.kept : seen.flushed) == 0);
    REQUIRE(seen.mixed == 0);
    REQUIRE(!nn::detail::subnormals_flushed());
  }
#else
  SKIP("no MXCSR on this CPU: steps use IEEE arithmetic");
#endif
}
