// Online learning as chapter 1 of the course describes it: a step after every training example, the
// cost summed rather than averaged, and the number of examples not known in advance. The training
// images are read from their IDX files one at a time (nn::idx_stream) and never held in memory; so are
// the test images when each pass is scored. Memory stays the same whatever the size of the files.
//
//   online [--data DIR | --fashion] [--eta X] [--passes N] [--hidden 30|100] [--batch M] [--report N]
#include <nn/data/idx.hpp>
#include <nn/network.hpp>
#include <nn/online.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "command_line.hpp"

namespace {

struct options {
  std::string data;
  bool fashion = false;
  double eta = 0.3;
  std::size_t passes = 1, hidden = 30, batch = 1, report = 10000, limit = 0;
  std::uint64_t seed = 0;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: online [options]\n"
               "Online learning: a step after every training image, read one at a time from the IDX files\n"
               "(nothing is loaded whole), then the test images scored the same way.\n\n"
               "  --data DIR    folder with the four IDX files (default data/mnist, or data/fashion-mnist)\n"
               "  --fashion     use Fashion-MNIST\n"
               "  --eta X       learning rate per example (default 0.3)\n"
               "  --passes N    passes over the training file, each a new stream (default 1)\n"
               "  --hidden N    hidden neurons: 30 or 100 (default 30)\n"
               "  --batch M     a step per M examples instead of every one (default 1: online learning)\n"
               "  --report N    print the running cost every N examples (default 10000; 0: at the end only)\n"
               "  --seed N      seeds the initial weights (default 0)\n"
               "  --limit N     stream only the first N training images of each pass (default: all)\n"
               "  --help        this text\n\n"
               "Get the data first with: bash scripts/fetch-data.sh\n");
}

options parse(int argc, char** argv) {
  options o;
  example::command_line args("online", usage, argc, argv);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--data") o.data = args.value();
    else if (a == "--fashion") o.fashion = true;
    else if (a == "--passes") o.passes = args.whole_number();
    else if (a == "--hidden") o.hidden = args.whole_number();
    else if (a == "--batch") o.batch = args.whole_number();
    else if (a == "--report") o.report = args.whole_number();
    else if (a == "--seed") o.seed = args.whole_number();
    else if (a == "--limit") o.limit = args.whole_number();
    else if (a == "--eta") o.eta = args.positive_number();
    else args.fail("unknown option '" + a + "'");
  }
  if (o.passes == 0) args.fail("--passes must be at least 1");
  if (o.batch == 0) args.fail("--batch must be at least 1");
  if (o.hidden != 30 && o.hidden != 100) args.fail("--hidden expects 30 or 100, got " + std::to_string(o.hidden));
  if (o.data.empty()) o.data = o.fashion ? "data/fashion-mnist" : "data/mnist";
  return o;
}

// The first n examples of a stream (--limit).
struct first_n {
  nn::idx_stream<float>& s;
  std::size_t n;
  std::size_t input_size() const { return s.input_size(); }
  std::size_t output_size() const { return s.output_size(); }
  bool next(std::span<float> x, std::span<float> y) { return n > 0 && (--n, s.next(x, y)); }
};

// Scores the network on the test files, streamed like the training files.
template <class Net>
std::size_t score(const Net& net, const options& o, std::size_t& tested) {
  nn::idx_stream<float> test(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
  std::array<float, 784> x;
  std::array<float, 10> y;
  std::size_t correct = 0;
  tested = 0;
  while (test.next(x, y)) {
    const auto out = net.feedforward(x);
    correct += nn::is_correct<float>(out, y);
    ++tested;
  }
  return correct;
}

template <std::size_t Hidden>
int run(const options& o) {
  nn::network<784, Hidden, 10> net(o.seed);
  nn::online_trainer<> trainer{nn::sgd{o.eta}};
  trainer.batch_size = o.batch;
  trainer.report_every = o.report;
  std::printf("Online learning, 784-%zu-10: a step after every %s, eta %g, seed %llu, %zu pass%s over %s\n", Hidden,
              o.batch == 1 ? "example" : (std::to_string(o.batch) + " examples").c_str(), o.eta,
              static_cast<unsigned long long>(o.seed), o.passes, o.passes == 1 ? "" : "es", o.data.c_str());
  double seconds = 0;
  std::size_t examples = 0;
  for (std::size_t pass = 0; pass < o.passes; ++pass) {
    // A new stream each pass: the file is read again, never kept.
    nn::idx_stream<float> train(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz", 10, 784);
    const nn::online_report r = o.limit ? trainer.fit(net, first_n{train, o.limit}) : trainer.fit(net, train);
    seconds += r.seconds;
    examples += r.examples;
    std::size_t tested = 0;
    const std::size_t correct = score(net, o, tested);
    std::printf("Pass %zu: %zu / %zu  (%.2f s, mean cost %.4f)\n", pass, correct, tested, r.seconds, r.mean_cost);
  }
  std::printf("Trained on %zu examples in %.2f s (%.0f examples/s, reading and decompressing included)\n", examples,
              seconds, seconds > 0 ? static_cast<double>(examples) / seconds : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    return o.hidden == 30 ? run<30>(o) : run<100>(o);
  } catch (const nn::data_error& e) {
    std::fprintf(stderr, "online: %s\n", e.what());
    if (e.offset() == nn::data_error::no_offset && e.file().rfind(o.data, 0) == 0)
      std::fprintf(stderr, "Get the data with: bash scripts/fetch-data.sh\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "online: %s\n", e.what());
    return 1;
  }
}
