// Chapter 1 of the course trains 784-30-10, then 784-100-10, and asks what the extra hidden neurons buy.
// This trains the course's network (sigmoid, quadratic cost, N(0, 1) init, SGD η = 3.0, mini-batch 10)
// for several hidden sizes on the same images with the same seed, and prints one table: accuracy per
// epoch for each size, then final test accuracy, best epoch, training time, samples/s and parameters, and
// a reading of those numbers. Data: `bash scripts/fetch-data.sh`.
#include <nn/data/idx.hpp>
#include <nn/network.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"

namespace {

using data = nn::byte_dataset<float>;

struct options {
  std::string data;  // folder of the four IDX files
  bool fashion = false;
  std::size_t epochs = 30, batch = 10, threads = 1;
  std::size_t limit = 0;       // train on the first `limit` training images only (0: all)
  std::size_t validation = 0;  // held-out training images that score the epochs instead of the test set
  double eta = 3.0;
  std::uint64_t seed = 0;
  bool scaled_init = false;  // N(0, 1/fan_in) weights (the course's chapter 3) instead of chapter 1's N(0, 1)
  std::vector<std::size_t> sizes;  // hidden sizes to train, in this order (default: every built-in one)
  std::string csv;
};

// What one hidden size did. The per-epoch reports come from trainer::on_epoch.
struct column {
  std::size_t hidden = 0, parameters = 0;
  std::vector<nn::epoch_report> history;
  std::size_t test_correct = 0, test_n = 0;
  std::vector<std::size_t> never_predicted;  // classes the final network gives no test image
  double seconds = 0;       // training only: the sum of epoch_report::seconds, which excludes evaluation
  std::size_t samples = 0;  // trained, over all epochs
  double test_percent() const { return 100.0 * double(test_correct) / double(test_n); }
  double percent(std::size_t e) const { return 100.0 * double(history[e].correct) / double(history[e].tested); }
  std::size_t best_epoch() const {  // the first of equals, as trainer::patience counts it
    std::size_t best = 0;
    for (std::size_t e = 1; e < history.size(); ++e) best = history[e].correct > history[best].correct ? e : best;
    return best;
  }
};

std::string name_of(std::size_t hidden) { return "784-" + std::to_string(hidden) + "-10"; }

template <class... V>
std::string format(const char* f, V... v) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, v...);
  return buf;
}

// Three significant figures from 0.01 s to 999 s, so a quick run's times do not all read "0.00".
std::string seconds_text(double s) { return format(s >= 100 ? "%.0f" : s >= 10 ? "%.1f" : s >= 1 ? "%.2f" : "%.3f", s); }

template <std::size_t Hidden>
column train_one(const options& o, const data& train, const data& scored, const data& test) {
  using net_t = nn::network<784, Hidden, 10>;
  net_t net = o.scaled_init ? net_t(o.seed, nn::scaled_normal_init{}) : net_t(o.seed);
  nn::trainer<> trainer{nn::sgd{o.eta}};
  trainer.epochs = o.epochs;
  trainer.batch_size = o.batch;
  trainer.seed = o.seed;  // the same shuffles, so every size sees the same mini-batches in the same order
  trainer.threads = o.threads;
  column c;
  c.hidden = Hidden;
  c.parameters = net_t::parameter_count;
  // On a terminal each size keeps one line, rewritten every epoch; in a log every epoch stays.
  const bool tty = isatty(STDOUT_FILENO);
  trainer.on_epoch = [&](const nn::epoch_report& r) {
    c.history.push_back(r);
    std::printf("%s%-11s Epoch %zu: %zu / %zu  (%s s)%s", tty ? "\r" : "", name_of(Hidden).c_str(), r.epoch,
                r.correct, r.tested, seconds_text(r.seconds).c_str(), tty ? "   " : "\n");
    std::fflush(stdout);
  };
  trainer.fit(net, train, scored);
  if (tty) std::printf("\n");
  for (const auto& r : c.history) {
    c.seconds += r.seconds;
    c.samples += r.samples;
  }
  // The final network on the test set, class by class: a class it never predicts is an output neuron that
  // saturated (the quadratic cost's gradient (a - y)·σ'(z) vanishes there), not merely slow learning.
  std::array<std::size_t, 10> predicted{};
  nn::for_each_output(net, test, [&](std::size_t i, auto y) {
    const auto k = static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin());
    ++predicted[k];
    c.test_correct += k == test.label(i);
  });
  c.test_n = test.size();
  for (std::size_t k = 0; k < predicted.size(); ++k)
    if (predicted[k] == 0) c.never_predicted.push_back(k);
  return c;
}

// Each hidden size is a separate network type with its own kernels, about 3 s of compile time each on
// top of 12 s for the first, so the list is short: the course's 30 and 100, one below and one between.
template <std::size_t... Hidden>
struct built_in {
  static constexpr std::array<std::size_t, sizeof...(Hidden)> sizes{Hidden...};
  static constexpr std::array train{&train_one<Hidden>...};
  static std::string list() {
    std::string s;
    for (const auto h : sizes) s += (s.empty() ? "" : ", ") + std::to_string(h);
    return s;
  }
};
using sweep = built_in<10, 30, 60, 100>;

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: hidden_sweep [options]\n"
               "Trains the course's 784-H-10 network for several hidden sizes H on the same images and seed,\n"
               "and prints one table: accuracy per epoch, final test accuracy, best epoch, training time.\n"
               "The default 30 epochs of every size on the full 60,000 images take a while: try --epochs 5.\n\n"
               "  --sizes H,H,... hidden sizes to train, in this order (built in: %s; default all)\n"
               "  --data DIR      folder with the four IDX files (default data/mnist, or data/fashion-mnist)\n"
               "  --fashion       use Fashion-MNIST\n"
               "  --epochs N      epochs (default 30, as the course)\n"
               "  --batch N       mini-batch size (default 10)\n"
               "  --eta X         learning rate (default 3.0)\n"
               "  --seed N        seeds the initial weights and the shuffles, the same for every size (default 0)\n"
               "  --init K        course: weights and biases N(0, 1) (default); scaled: weights N(0, 1/784)\n"
               "  --limit N       train on the first N training images only (default: all)\n"
               "  --validation N  hold out the last N training images and score each epoch on them instead of\n"
               "                  the test set (default 0: train on all, score each epoch on the test set)\n"
               "  --threads N     threads for training (mini-batches of 32 or more) and evaluation (default 1)\n"
               "  --csv FILE      write the table as CSV too\n"
               "  --help          this text\n\n"
               "Get the data first with: bash scripts/fetch-data.sh\n",
               sweep::list().c_str());
}

options parse(int argc, char** argv) {
  options o;
  example::command_line args("hidden_sweep", usage, argc, argv);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--data") o.data = args.value();
    else if (a == "--fashion") o.fashion = true;
    else if (a == "--epochs") o.epochs = args.whole_number();
    else if (a == "--batch") o.batch = args.whole_number();
    else if (a == "--seed") o.seed = args.whole_number();
    else if (a == "--limit") o.limit = args.whole_number();
    else if (a == "--validation") o.validation = args.whole_number();
    else if (a == "--threads") o.threads = args.whole_number();
    else if (a == "--csv") o.csv = args.value();
    else if (a == "--eta") o.eta = args.positive_number();
    else if (a == "--init") {
      const std::string v = args.value();
      if (v != "course" && v != "scaled") args.fail("--init expects 'course' or 'scaled', got '" + v + "'");
      o.scaled_init = v == "scaled";
    } else if (a == "--sizes") {
      const std::string v = args.value();
      o.sizes.clear();
      for (std::size_t start = 0; start <= v.size();) {
        const std::size_t comma = std::min(v.find(',', start), v.size());
        const std::size_t h = args.whole_number(v.substr(start, comma - start));
        if (std::find(sweep::sizes.begin(), sweep::sizes.end(), h) == sweep::sizes.end())
          args.fail("hidden size " + std::to_string(h) + " is not built in; choose from " + sweep::list());
        if (std::find(o.sizes.begin(), o.sizes.end(), h) != o.sizes.end())
          args.fail("--sizes lists " + std::to_string(h) + " twice");
        o.sizes.push_back(h);
        start = comma + 1;
      }
    } else args.fail("unknown option '" + a + "'");
  }
  if (o.epochs == 0) args.fail("--epochs must be at least 1");
  if (o.batch == 0) args.fail("--batch must be at least 1");
  if (o.threads == 0) args.fail("--threads must be at least 1");
  if (o.sizes.empty()) o.sizes.assign(sweep::sizes.begin(), sweep::sizes.end());
  if (o.data.empty()) o.data = o.fashion ? "data/fashion-mnist" : "data/mnist";
  return o;
}

// The table, once for the terminal and once as CSV: a label, then one cell per size, every cell a number.
struct row {
  std::string label;
  std::vector<std::string> cells;
};

std::vector<row> table_rows(const std::vector<column>& cols, const std::string& scored_on) {
  std::vector<row> rows;
  for (std::size_t e = 0; e < cols[0].history.size(); ++e) {
    rows.push_back({std::to_string(e), {}});
    for (const auto& c : cols) rows.back().cells.push_back(format("%.2f", c.percent(e)));
  }
  for (const std::string& label : {std::string("test %"), std::string("best epoch"), "best " + scored_on + " %",
                                   std::string("train s"), std::string("samples/s"), std::string("parameters")})
    rows.push_back({label, {}});
  for (const auto& c : cols) {
    const auto base = rows.end() - 6;
    base[0].cells.push_back(format("%.2f", c.test_percent()));
    base[1].cells.push_back(std::to_string(c.best_epoch()));
    base[2].cells.push_back(format("%.2f", c.percent(c.best_epoch())));
    base[3].cells.push_back(seconds_text(c.seconds));
    base[4].cells.push_back(format("%.0f", c.seconds > 0 ? double(c.samples) / c.seconds : 0.0));
    base[5].cells.push_back(std::to_string(c.parameters));
  }
  return rows;
}

// A paragraph from the numbers: the most accurate size, what it cost against the fastest, the smallest
// size that came close, and whether more epochs would still have helped.
std::string reading(const std::vector<column>& cols, bool scaled_init) {
  if (cols.size() < 2) return "One size only: give --sizes two or more to compare them.";
  const auto by_accuracy = [](const column& a, const column& b) { return a.test_correct < b.test_correct; };
  const column& best = *std::max_element(cols.begin(), cols.end(), by_accuracy);
  const column& worst = *std::min_element(cols.begin(), cols.end(), by_accuracy);
  const column& fastest = *std::min_element(cols.begin(), cols.end(), [](const column& a, const column& b) {
    return a.seconds < b.seconds;
  });
  std::string s = best.test_correct == worst.test_correct
                      ? format("Every size scored %.2f%% on the test set. ", best.test_percent())
                      : format("%s was the most accurate, %.2f%% on the test set, %.2f points above %s (%.2f%%). ",
                               name_of(best.hidden).c_str(), best.test_percent(),
                               best.test_percent() - worst.test_percent(), name_of(worst.hidden).c_str(),
                               worst.test_percent());
  if (&best == &fastest)
    s += "It was also the fastest to train (" + seconds_text(best.seconds) + " s). ";
  else
    s += format("It took %.1f times as long to train as the fastest, %s (%s s against %s s), with %.1f times the "
                "parameters. ", best.seconds / fastest.seconds, name_of(fastest.hidden).c_str(),
                seconds_text(best.seconds).c_str(), seconds_text(fastest.seconds).c_str(),
                double(best.parameters) / double(fastest.parameters));
  // The smallest network within half a point of the best: what the extra neurons were not needed for.
  const column* close = nullptr;
  for (const auto& c : cols)
    if (c.hidden < best.hidden && best.test_percent() - c.test_percent() <= 0.5 && (!close || c.hidden < close->hidden))
      close = &c;
  if (close)
    s += format("%s came within %.2f points of it in %.0f%% of its training time. ", name_of(close->hidden).c_str(),
                best.test_percent() - close->test_percent(), 100.0 * close->seconds / best.seconds);
  std::string rising;
  for (const auto& c : cols)
    if (c.history.size() > 1 && c.best_epoch() + 1 == c.history.size()) rising += (rising.empty() ? "" : ", ") + name_of(c.hidden);
  if (!rising.empty()) s += "Best at the last epoch, so still improving: " + rising + "; more epochs would likely help. ";
  std::string stuck;  // "784-60-10 class 6; 784-100-10 classes 3, 4"
  for (const auto& c : cols) {
    if (c.never_predicted.empty()) continue;
    stuck += (stuck.empty() ? "" : "; ") + name_of(c.hidden) + " class" + (c.never_predicted.size() > 1 ? "es" : "");
    stuck += ' ';
    stuck += example::join(c.never_predicted, ", ");
  }
  if (!stuck.empty())
    s += "Never predicted on the test set: " + stuck + ". " +
         (cols[0].history.size() < 3 ? "After so few epochs that may be slow learning; if it lasts, those output neurons "
                                       "have saturated, where the quadratic cost's gradient nearly vanishes"
                                     : "Those output neurons saturated, where the quadratic cost's gradient nearly "
                                       "vanishes, and learn slowly if at all") +
         (scaled_init ? "; try another --seed. "
                      : ", as the course's N(0, 1) start makes likely (docs/mnist.md); try --init scaled or another --seed. ");
  s.pop_back();
  return s;
}

// Word-wrapped, so the paragraph reads as one on a terminal and in a tutorial.
void print_wrapped(const std::string& text, std::size_t width = 100) {
  std::size_t column = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    const std::size_t n = end - start;
    if (column && column + 1 + n > width) {
      std::printf("\n");
      column = 0;
    }
    std::printf("%s%.*s", column ? " " : "", static_cast<int>(n), text.c_str() + start);
    column += (column ? 1 : 0) + n;
    start = end + 1;
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    std::ifstream source(o.data + "/SOURCE");
    std::string line;
    if (source && std::getline(source, line)) std::printf("Data: %s (%s)\n", o.data.c_str(), line.c_str());
    if (line.find("small") != std::string::npos)
      std::printf("Note: this is the small MNIST set (10,000 real digits); the course's figures are for 60,000.\n");
    auto all = nn::load_idx_bytes<float>(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz", 10, 784);
    const auto test = nn::load_idx_bytes<float>(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
    if (o.limit && o.limit < all.size()) all = nn::split_at(std::move(all), o.limit).first;
    if (o.validation >= all.size()) {
      std::fprintf(stderr, "hidden_sweep: --validation %zu leaves no training images (there are %zu)\n", o.validation, all.size());
      return 2;
    }
    const auto [train, validation] = nn::split_at(std::move(all), all.size() - o.validation);
    const data& scored = o.validation ? validation : test;
    const std::string scored_on = o.validation ? "validation" : "test";
    std::ofstream csv;
    if (!o.csv.empty()) {
      csv.open(o.csv);  // now, not after hours of training
      if (!csv) {
        std::fprintf(stderr, "hidden_sweep: cannot write %s\n", o.csv.c_str());
        return 1;
      }
    }
    if (o.validation)
      std::printf("Training on %zu images, holding out the last %zu: each epoch is scored on those, the %zu test images\n"
                  "once at the end.\n", train.size(), o.validation, test.size());
    else
      std::printf("Nothing held out: training on all %zu training images, each epoch scored on the %zu test images.\n",
                  train.size(), test.size());
    std::printf("Every size: eta %g, mini-batch %zu, %zu epochs, seed %llu, %s init, quadratic cost.\n\n", o.eta, o.batch,
                o.epochs, static_cast<unsigned long long>(o.seed), o.scaled_init ? "N(0, 1/fan_in)" : "N(0, 1)");

    std::vector<column> cols;
    for (const auto h : o.sizes) {
      const auto at = std::find(sweep::sizes.begin(), sweep::sizes.end(), h) - sweep::sizes.begin();
      cols.push_back(sweep::train[static_cast<std::size_t>(at)](o, train, scored, test));
    }

    const auto rows = table_rows(cols, scored_on);
    std::printf("\nAccuracy (%%) on the %zu %s images after each epoch; training time excludes evaluation.\n",
                scored.size(), scored_on.c_str());
    std::printf("%-18s", "epoch");
    for (const auto& c : cols) std::printf(" %12s", name_of(c.hidden).c_str());
    std::printf("\n");
    for (const auto& r : rows) {
      std::printf("%-18s", r.label.c_str());
      for (const auto& cell : r.cells) std::printf(" %12s", cell.c_str());
      std::printf("\n");
    }
    std::printf("\n");
    print_wrapped("Reading: " + reading(cols, o.scaled_init));

    if (csv.is_open()) {
      csv << "row";
      for (const auto& c : cols) csv << ',' << name_of(c.hidden);
      csv << '\n';
      for (const auto& r : rows) {
        csv << r.label;  // no cell holds a comma or a quote
        for (const auto& cell : r.cells) csv << ',' << cell;
        csv << '\n';
      }
      if (!csv.flush()) throw std::runtime_error("writing " + o.csv + " failed");
      std::printf("\nWrote the table to %s\n", o.csv.c_str());
    }
    return 0;
  } catch (const nn::data_error& e) {
    std::fprintf(stderr, "hidden_sweep: %s\n", e.what());
    if (e.offset() == nn::data_error::no_offset && e.file().rfind(o.data, 0) == 0)
      std::fprintf(stderr, "Get the data with: bash scripts/fetch-data.sh\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hidden_sweep: %s\n", e.what());
    return 1;
  }
}
