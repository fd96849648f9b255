// The best plain fully connected recipe we found for Fashion-MNIST (docs/fashion_mnist.md):
//   784-512-256-10, relu hidden layers with He initialisation and dropout 0.2, a softmax output with the
//   log-likelihood cost, Adam (η = 0.001), mini-batches of 64, a cosine learning-rate schedule over 30
//   epochs, and early stopping (patience 8) on a validation set held out of the training images (the
//   course's 50,000 / 10,000 split). The validation set chooses the number of epochs; then a fresh network
//   is trained on all the training images for that many (--no-refit keeps the first network). The test
//   set is used once, at the end. --hidden 256 trains 784-256-128-10 instead, the recipe for the small
//   MNIST digit set.
//
//   fashion_mnist [--data DIR] [--epochs N] [--patience N] [--validation N] [--seed N] [--threads N]
//                 [--dropout P] [--weight-decay L] [--limit N] [--hidden 512|256] [--no-refit] [--save FILE]
//                 [--history FILE] [--int8]
// DIR holds the four IDX files (train-images-idx3-ubyte.gz, ...): Debian's fashion-mnist package by
// default, or any MNIST-format set (e.g. data/mnist from scripts/fetch-data.sh). --limit N trains on the
// first N training images only (a quick check). --int8 also quantizes the trained network (nn::quantize,
// docs/int8.md) and tests it.
#include <nn/data/idx.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>
#include <nn/quantize.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "training_output.hpp"

namespace {

struct options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::size_t epochs = 30, patience = 8, threads = 1;
  std::size_t limit = 0;  // train on the first `limit` training images only (0: all), e.g. for a quick check
  double dropout = 0.2, weight_decay = 0;
  bool refit = true;
  bool int8 = false;
  std::size_t hidden = 512;  // 512: 784-512-256-10 (Fashion-MNIST's recipe); 256: 784-256-128-10
  std::size_t validation = static_cast<std::size_t>(-1);  // default: 10,000 of 60,000, else an eighth
  std::uint64_t seed = 1;
  std::string save, history;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "fashion_mnist: %s\nusage: fashion_mnist [--data DIR] [--epochs N] [--patience N] [--validation N] "
               "[--seed N] [--threads N]\n       [--dropout P] [--weight-decay L] [--limit N] [--hidden 512|256] "
               "[--no-refit] [--save FILE] [--history FILE] [--int8]\n"
               "--history FILE writes the per-epoch history as FILE.csv and a chart of it as FILE.svg\n",
               why);
  std::exit(2);
}

std::size_t number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') usage((std::string(flag) + " needs a whole number, not '" + text + "'").c_str());
  return static_cast<std::size_t>(v);
}

double real(const char* flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0') usage((std::string(flag) + " needs a number, not '" + text + "'").c_str());
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-refit") {
      o.refit = false;
      continue;
    }
    if (a == "--int8") {
      o.int8 = true;
      continue;
    }
    if (i + 1 >= argc) usage(("unknown or incomplete option " + a).c_str());
    const char* v = argv[++i];
    if (a == "--data") o.data = v;
    else if (a == "--epochs") o.epochs = number("--epochs", v);
    else if (a == "--patience") o.patience = number("--patience", v);
    else if (a == "--validation") o.validation = number("--validation", v);
    else if (a == "--seed") o.seed = number("--seed", v);
    else if (a == "--threads") o.threads = number("--threads", v);
    else if (a == "--save") o.save = v;
    else if (a == "--history") o.history = v;
    else if (a == "--limit") o.limit = number("--limit", v);
    else if (a == "--hidden") o.hidden = number("--hidden", v);
    else if (a == "--dropout") o.dropout = real("--dropout", v);
    else if (a == "--weight-decay") o.weight_decay = real("--weight-decay", v);
    else usage(("unknown option " + a).c_str());
  }
  if (o.epochs == 0) usage("--epochs must be at least 1");
  if (o.hidden != 512 && o.hidden != 256) usage("--hidden must be 512 (784-512-256-10) or 256 (784-256-128-10)");
  return o;
}

// Trains, refits and tests 784-H1-H2-10 (the recipe above).
template <std::size_t H1, std::size_t H2, class Data, class Load>
int run(const options& o, const Data& train, const Data& validation, const Data& test, const Load& load_training) {
  using net_t = nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, H1, H2, 10>;
  net_t net(o.seed, nn::he_init{});
  nn::trainer<nn::adam, nn::log_likelihood> t{nn::adam{0.001}};
  t.epochs = o.epochs;
  t.batch_size = 64;
  t.seed = o.seed;
  t.threads = o.threads;
  t.schedule = nn::cosine_decay(o.epochs, 0.05);
  t.patience = o.patience;
  t.dropout = o.dropout;
  t.weight_decay = o.weight_decay;
  t.on_epoch = [](const nn::epoch_report& r) {
    std::printf("Epoch %zu: validation %zu / %zu  (%.2f s, mean cost %.4f, learning rate %.2g)%s\n", r.epoch,
                r.correct, r.tested, r.seconds, r.mean_cost, r.learning_rate,
                r.stopped_early ? "  stopping: no better for the patience" : "");
  };
  std::printf("Training 784-%zu-%zu-10 (relu, dropout %g, softmax, Adam, cosine schedule) on %zu images, "
              "validating on %zu, testing on %zu; seed %llu\n",
              H1, H2, o.dropout, train.size(), validation.size(), test.size(), static_cast<unsigned long long>(o.seed));
  const auto history = t.fit(net, train, validation);
  double seconds = 0;
  for (const auto& r : history) seconds += r.seconds;
  const std::size_t best = history.back().best_epoch;
  if (!o.history.empty()) {  // the run that chose the epochs, with its validation counts
    const auto [csv, svg] = example::write_history(o.history, history, "fashion_mnist 784-" + std::to_string(H1) + "-" + std::to_string(H2) + "-10", "validation");
    std::printf("History: %s and %s\n", csv.c_str(), svg.c_str());
  }
  std::printf("Kept epoch %zu (validation %zu / %zu). Training time %.1f s.\n", best, history[best].correct,
              history[best].tested, seconds);
  if (o.refit) {
    // The validation set has chosen the number of epochs; now train a fresh network on every training
    // image (validation ones included) for that many, with the same schedule.
    const auto everything = load_training();
    net = net_t(o.seed, nn::he_init{});
    t.patience = 0;
    t.epochs = best + 1;
    t.on_epoch = [](const nn::epoch_report& r) {
      std::printf("Refit epoch %zu: (%.2f s, mean cost %.4f, learning rate %.2g)\n", r.epoch, r.seconds, r.mean_cost,
                  r.learning_rate);
    };
    std::printf("Refitting on all %zu training images for %zu epochs\n", everything.size(), best + 1);
    const auto refit = t.fit(net, everything);
    for (const auto& r : refit) seconds += r.seconds;
    std::printf("Training time with the refit: %.1f s.\n", seconds);
  }
  const std::size_t correct = nn::evaluate(net, test, o.threads);
  std::printf("Test accuracy: %zu / %zu = %.4f\n", correct, test.size(),
              static_cast<double>(correct) / static_cast<double>(test.size()));
  if (o.int8) {  // int8 weights and activations, their ranges measured on 2,000 training images
    const auto q = nn::quantize(net, train);
    const std::size_t c8 = nn::evaluate(q, test, o.threads);
    std::printf("int8 (%s) test accuracy: %zu / %zu = %.4f\n", nn::simd::int8::name(q.path()), c8, test.size(),
                static_cast<double>(c8) / static_cast<double>(test.size()));
  }
  if (!o.save.empty()) {
    nn::save_parameters(net, o.save);
    std::printf("Saved the parameters to %s\n", o.save.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    const auto load_training = [&] {
      auto d = nn::load_idx_bytes<float>(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz",
                                         10, 784);
      if (o.limit && o.limit < d.size()) d = nn::split_at(std::move(d), o.limit).first;
      return d;
    };
    auto all = load_training();
    const auto test = nn::load_idx_bytes<float>(o.data + "/t10k-images-idx3-ubyte.gz",
                                                o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
    const std::size_t held = o.validation != static_cast<std::size_t>(-1) ? o.validation
                             : all.size() == 60000                        ? 10000
                                                                          : all.size() / 8;
    if (held == 0 || held >= all.size())
      usage("--validation must leave some images for training and keep at least one");
    const std::size_t kept = all.size() - held;
    const auto [train, validation] = nn::split_at(std::move(all), kept);

    if (o.hidden == 512) return run<512, 256>(o, train, validation, test, load_training);
    return run<256, 128>(o, train, validation, test, load_training);
  } catch (const nn::data_error& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 1;
  }
}
