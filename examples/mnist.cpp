// The course's digit classifier: a 784-30-10 sigmoid network trained by mini-batch SGD on MNIST
// (η = 3.0, mini-batch 10, 30 epochs), printing "Epoch j: correct / n" after every epoch like
// network.py, then the test accuracy and a confusion matrix. Also Fashion-MNIST (--fashion), other
// hidden sizes, --predict with saved parameters, and the course's question of 10 outputs or 4
// (--outputs 4: the digit in binary; --outputs both: the two side by side). Data: `bash scripts/fetch-data.sh`.
#include <nn/data/idx.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "training_output.hpp"

namespace {

struct options {
  std::string data;  // folder of the four IDX files
  bool fashion = false;
  std::size_t epochs = 30, batch = 10, hidden = 30;
  double eta = 3.0;
  std::uint64_t seed = 0;
  std::string save;           // where to write the trained parameters ("" = default name, "-" = don't)
  std::string history;        // FILE.csv and FILE.svg of the per-epoch history ("" = none)
  std::string predict;        // parameters to load instead of training
  std::vector<std::size_t> images;  // test images to classify with --predict
  std::string image_file;           // an IDX image file of one's own to classify with --predict
  bool progress = true;
  std::size_t threads = 1;
  bool scaled_init = false;  // N(0, 1/fan_in) weights instead of the course's N(0, 1)
  std::size_t validation = static_cast<std::size_t>(-1);  // held-out training images; -1: the course's rule
  std::size_t outputs = 10;  // 10 (one-hot), 4 (the class in binary), or 0: both, side by side
  std::size_t limit = 0;     // train on the first `limit` training images only (0: all)
};

// Each size is a separate network type, compiled in, and each costs compile time (docs/benchmarks.md):
// two hidden sizes, and the 4-output network of --outputs for the course's 30 hidden neurons only.
constexpr std::size_t hidden_sizes[] = {30, 100};
constexpr std::size_t binary_hidden = 30;

const char* const digit_names[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
const char* const fashion_names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: mnist [options]\n"
               "Trains the course's network on MNIST and prints \"Epoch j: correct / n\" each epoch.\n\n"
               "  --data DIR      folder with the four IDX files (default data/mnist, or data/fashion-mnist)\n"
               "  --fashion       use Fashion-MNIST\n"
               "  --epochs N      epochs (default 30)\n"
               "  --batch N       mini-batch size (default 10)\n"
               "  --eta X         learning rate (default 3.0)\n"
               "  --seed N        seeds the initial weights and the shuffles (default 0)\n"
               "  --hidden N      hidden neurons: 30 or 100 (default 30)\n"
               "  --init K        course: weights and biases N(0, 1) (default); scaled: weights N(0, 1/784)\n"
               "  --outputs K     10: one output neuron per class (default); 4: the class in binary, as\n"
               "                  the course asks about (784-30-4); both: train the two on the same images\n"
               "                  and seed and print their counts side by side (saves neither)\n"
               "  --validation N  hold out the last N training images as a validation set, scored after\n"
               "                  training (default: 10000 when there are 60000, as in the course, else 0)\n"
               "  --save FILE     write the trained parameters here (default mnist-784-H-K.nnp, K outputs;\n"
               "                  '-' = don't)\n"
               "  --history FILE  write the per-epoch history as FILE.csv and a chart of it as FILE.svg\n"
               "  --predict FILE  load parameters from FILE and classify the test set instead of training\n"
               "  --images I,J    with --predict: print the predicted class of these test images\n"
               "  --image-file F  with --predict: classify every image of IDX file F (28x28 bytes, white on\n"
               "                  black like MNIST; plain or .gz), e.g. your own digits\n"
               "  --limit N       train on the first N training images only (a quick check; default: all)\n"
               "  --threads N     threads for training (mini-batches of 32 or more) and evaluation (default 1)\n"
               "  --no-progress   no progress bar\n"
               "  --help          this text\n\n"
               "Get the data first with: bash scripts/fetch-data.sh\n");
}

options parse(int argc, char** argv) {
  options o;
  example::command_line args("mnist", usage, argc, argv);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--data") o.data = args.value();
    else if (a == "--fashion") o.fashion = true;
    else if (a == "--epochs") o.epochs = args.whole_number();
    else if (a == "--batch") o.batch = args.whole_number();
    else if (a == "--hidden") o.hidden = args.whole_number();
    else if (a == "--seed") o.seed = args.whole_number();
    else if (a == "--save") o.save = args.value();
    else if (a == "--history") o.history = args.value();
    else if (a == "--predict") o.predict = args.value();
    else if (a == "--image-file") o.image_file = args.value();
    else if (a == "--threads") o.threads = args.whole_number();
    else if (a == "--limit") o.limit = args.whole_number();
    else if (a == "--no-progress") o.progress = false;
    else if (a == "--validation") o.validation = args.whole_number();
    else if (a == "--eta") o.eta = args.positive_number();
    else if (a == "--outputs") {
      const std::string v = args.value();
      if (v != "10" && v != "4" && v != "both") args.fail("--outputs expects 10, 4 or both, got '" + v + "'");
      o.outputs = v == "both" ? 0 : v == "4" ? 4 : 10;
    } else if (a == "--init") {
      const std::string v = args.value();
      if (v != "course" && v != "scaled") args.fail("--init expects 'course' or 'scaled', got '" + v + "'");
      o.scaled_init = v == "scaled";
    } else if (a == "--images") {
      const std::string v = args.value();
      for (std::size_t start = 0; start <= v.size();) {
        const std::size_t comma = std::min(v.find(',', start), v.size());
        o.images.push_back(args.whole_number(v.substr(start, comma - start)));
        start = comma + 1;
      }
    } else args.fail("unknown option '" + a + "'");
  }
  if (o.batch == 0) args.fail("--batch must be at least 1");
  if (o.threads == 0) args.fail("--threads must be at least 1");
  if ((!o.images.empty() || !o.image_file.empty()) && o.predict.empty()) args.fail("--images and --image-file need --predict FILE");
  if (o.outputs == 0 && !o.save.empty() && o.save != "-") args.fail("--outputs both saves neither network; train one with --outputs 10 or 4 to --save it");
  if (o.outputs != 10 && o.predict.empty() && o.hidden != binary_hidden)
    args.fail("--outputs " + std::string(o.outputs ? "4" : "both") + " is built for --hidden " + std::to_string(binary_hidden) +
              " only (784-" + std::to_string(binary_hidden) + "-4): each network shape is compiled in");
  if (o.outputs == 0 && !o.predict.empty()) args.fail("--outputs both trains two networks; --predict reads one (its file says how many outputs)");
  if (o.data.empty()) o.data = o.fashion ? "data/fashion-mnist" : "data/mnist";
  return o;
}

// The course's other output layer (chapter 1, "why 10 outputs and not 4?"): 4 neurons that give the
// class in binary, output b being bit b of the class, instead of 10 one-hot neurons. A view of the same
// images whose targets are those codes. A code counts as correct when every output is on the side of 0.5
// its bit says: the trainer and nn::evaluate ask the data for that (is_correct), since the default rule,
// the largest output, means nothing for a code.
class binary_coded {
 public:
  static constexpr std::size_t bits = 4;
  explicit binary_coded(const nn::byte_dataset<float>& d) : d_(&d) {
    for (std::size_t k = 0; k < 10; ++k)
      for (std::size_t b = 0; b < bits; ++b) codes_[k][b] = static_cast<float>((k >> b) & 1);
  }
  std::size_t size() const { return d_->size(); }
  std::size_t input_size() const { return d_->input_size(); }
  std::size_t output_size() const { return bits; }
  std::span<const std::uint8_t> input(std::size_t i) const { return d_->input(i); }
  float input_scale() const { return d_->input_scale(); }
  std::span<const float> target(std::size_t i) const { return codes_[d_->label(i)]; }
  bool is_correct(std::span<const float> out, std::span<const float> target) const {
    return decode(out) == decode(target);
  }
  // The number the outputs spell: 0 to 15 (10 to 15 are no class).
  static std::size_t decode(std::span<const float> out) {
    std::size_t code = 0;
    for (std::size_t b = 0; b < bits; ++b) code |= std::size_t{out[b] > 0.5f} << b;
    return code;
  }

 private:
  const nn::byte_dataset<float>* d_;
  std::array<std::array<float, bits>, 10> codes_{};
};

// The class a network's outputs name: the largest of 10, or the binary number 4 spell (10: none).
template <std::size_t Outputs>
std::size_t predicted_class(std::span<const float> out) {
  if constexpr (Outputs == binary_coded::bits) return std::min<std::size_t>(binary_coded::decode(out), 10);
  else return static_cast<std::size_t>(std::max_element(out.begin(), out.end()) - out.begin());
}

// Rows: true class; columns: predicted, and with 4 outputs an 11th for codes 10 to 15, which name no class.
void print_confusion(const std::vector<std::vector<std::size_t>>& m, const char* const* names) {
  const std::size_t cols = m[0].size();
  std::printf("\nConfusion matrix (rows: true class, columns: predicted%s)\n%12s", cols > 10 ? "; 'none': codes 10-15" : "", "");
  for (std::size_t c = 0; c < 10; ++c) std::printf("%6zu", c);
  if (cols > 10) std::printf("  none");
  std::printf("\n");
  for (std::size_t r = 0; r < 10; ++r) {
    std::printf("%2zu %-9.9s", r, names[r]);
    for (std::size_t c = 0; c < cols; ++c) std::printf("%6zu", m[r][c]);
    std::printf("\n");
  }
}

// Prints the accuracy (and the confusion matrix); returns the fraction correct.
template <class Net>
double evaluate_and_report(const Net& net, const nn::byte_dataset<float>& test, const char* const* names,
                           const char* what = "Test", bool confusion_table = true) {
  constexpr std::size_t outputs = Net::outputs;
  std::vector<std::vector<std::size_t>> confusion(10, std::vector<std::size_t>(outputs == 10 ? 10 : 11, 0));
  std::size_t correct = 0;
  // The images are kept as bytes; for_each_output converts a chunk at a time.
  nn::for_each_output(net, test, [&](std::size_t i, std::span<const float, outputs> out) {
    const std::size_t predicted = predicted_class<outputs>(out);
    const std::size_t actual = test.label(i);
    ++confusion[actual][predicted];
    correct += predicted == actual;
  });
  const double accuracy = double(correct) / double(test.size());
  std::printf("\n%s accuracy: %zu / %zu = %.4f\n", what, correct, test.size(), accuracy);
  if (!confusion_table) return accuracy;
  print_confusion(confusion, names);
  for (std::size_t c = 0; c < 10; ++c) {
    std::size_t predicted = 0;
    for (std::size_t r = 0; r < 10; ++r) predicted += confusion[r][c];
    if (predicted == 0 && outputs == 10)
      std::printf("\nNote: class %zu was never predicted: its output neuron saturated early and the quadratic cost's\n"
                  "gradient, (a - y)·σ'(z), is nearly zero there, so it never recovered. This happens to the course's\n"
                  "N(0, 1) start on some seeds; try another --seed, or --init scaled (docs/mnist.md).\n", c);
  }
  return accuracy;
}

template <std::size_t Hidden, std::size_t Outputs>
int predict(const options& o, const nn::byte_dataset<float>& test) {
  using net_t = nn::network<784, Hidden, Outputs>;
  const char* const* names = o.fashion ? fashion_names : digit_names;
  const auto name_of = [&](std::size_t c) { return c < 10 ? names[c] : "none (a code above 9)"; };
  net_t net;
  nn::load_parameters(net, o.predict);
  std::printf("Loaded %s (784-%zu-%zu)\n", o.predict.c_str(), Hidden, Outputs);
  for (std::size_t i : o.images) {
    if (i >= test.size()) {
      std::fprintf(stderr, "mnist: test image %zu does not exist (the test set has %zu)\n", i, test.size());
      return 1;
    }
    std::array<float, 784> x;
    nn::copy_input(test, i, std::span<float, 784>(x));
    const auto out = net.feedforward(x);
    std::printf("test image %zu: predicted %s, label %s\n", i, name_of(predicted_class<Outputs>(out)), names[test.label(i)]);
  }
  if (!o.image_file.empty()) {
    // The same checks and messages as the data sets' (nn::data_error: file, byte offset, expected, found).
    const nn::idx_array images = nn::read_idx(o.image_file, 2051);
    if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28)
      throw nn::data_error(o.image_file, 4, "expected images of 28x28 pixels, found dimensions " + example::join(images.dims, " x "));
    for (std::size_t i = 0; i < images.dims[0]; ++i) {
      std::array<float, 784> x;
      for (std::size_t k = 0; k < 784; ++k) x[k] = static_cast<float>(images.data[i * 784 + k]) / 255.0f;
      const auto out = net.feedforward(x);
      const std::size_t best = predicted_class<Outputs>(out);
      if constexpr (Outputs == 10)
        std::printf("%s image %zu: predicted %s (output %.3f)\n", o.image_file.c_str(), i, names[best], out[best]);
      else
        std::printf("%s image %zu: predicted %s (outputs %.3f %.3f %.3f %.3f)\n", o.image_file.c_str(), i,
                    name_of(best), out[0], out[1], out[2], out[3]);
    }
  }
  if (o.images.empty() && o.image_file.empty()) evaluate_and_report(net, test, names);
  return 0;
}

struct run_result {
  std::vector<nn::epoch_report> history;
  double seconds = 0, accuracy = 0;
};

// Trains 784-Hidden-Outputs on `train`, reporting each epoch on `test`; then the validation and test
// accuracy, and saves the parameters unless told not to.
template <std::size_t Hidden, std::size_t Outputs>
run_result train(const options& o, const nn::byte_dataset<float>& train, const nn::byte_dataset<float>& validation,
                 const nn::byte_dataset<float>& test) {
  using net_t = nn::network<784, Hidden, Outputs>;
  const char* const* names = o.fashion ? fashion_names : digit_names;
  net_t net = o.scaled_init ? net_t(o.seed, nn::scaled_normal_init{}) : net_t(o.seed);
  nn::trainer<> trainer{nn::sgd{o.eta}};
  trainer.epochs = o.epochs;
  trainer.batch_size = o.batch;
  trainer.seed = o.seed;
  trainer.threads = o.threads;
  example::show_progress(trainer, o.progress);
  std::printf("Training 784-%zu-%zu%s on %zu images, testing on %zu: eta %g, mini-batch %zu, %zu epochs, seed %llu, %s init\n",
              Hidden, Outputs, Outputs == 10 ? "" : " (the class in binary)", train.size(), test.size(), o.eta, o.batch,
              o.epochs, static_cast<unsigned long long>(o.seed), o.scaled_init ? "N(0, 1/fan_in)" : "N(0, 1)");
  run_result result;
  if constexpr (Outputs == 10) result.history = trainer.fit(net, train, test);
  else result.history = trainer.fit(net, binary_coded(train), binary_coded(test));
  for (const auto& r : result.history) result.seconds += r.seconds;
  if (!o.history.empty()) {
    // With --outputs both, the second network's history goes beside the first's.
    const std::string file = Outputs == 10 || o.outputs != 0 ? o.history : o.history + "-binary";
    const auto [csv, svg] = example::write_history(file, result.history, "mnist 784-" + std::to_string(Hidden) + "-" + std::to_string(Outputs));
    std::printf("History: %s and %s\n", csv.c_str(), svg.c_str());
  }
  std::printf("Training time: %.2f s (%.0f samples/s)\n", result.seconds,
              result.seconds > 0 ? double(train.size() * result.history.size()) / result.seconds : 0.0);
  if (!validation.empty()) evaluate_and_report(net, validation, names, "Validation", false);
  result.accuracy = evaluate_and_report(net, test, names, "Test", o.outputs != 0);

  if (o.save != "-" && o.outputs != 0) {
    const std::string path = o.save.empty() ? (o.fashion ? "fashion-784-" : "mnist-784-") + std::to_string(Hidden) + "-" +
                                                  std::to_string(Outputs) + ".nnp"
                                            : o.save;
    nn::save_parameters(net, path);
    std::printf("\nSaved the parameters to %s (classify with: mnist --predict %s%s)\n", path.c_str(), path.c_str(),
                o.fashion ? " --fashion" : "");
  }
  return result;
}

// Both output layers on the same images, seed and epochs, then their counts side by side.
template <std::size_t Hidden>
void compare_outputs(const options& o, const nn::byte_dataset<float>& tr, const nn::byte_dataset<float>& validation,
                     const nn::byte_dataset<float>& test) {
  const run_result one_hot = train<Hidden, 10>(o, tr, validation, test);
  std::printf("\n");
  const run_result binary = train<Hidden, 4>(o, tr, validation, test);
  std::printf("\n10 one-hot outputs against 4 binary ones: same images, seed %llu, eta %g, mini-batch %zu\n\n",
              static_cast<unsigned long long>(o.seed), o.eta, o.batch);
  char h10[32], h4[32];
  std::snprintf(h10, sizeof h10, "784-%zu-10", Hidden);
  std::snprintf(h4, sizeof h4, "784-%zu-4 (binary)", Hidden);
  std::printf("Epoch  %-20s %s\n", h10, h4);
  for (std::size_t e = 0; e < one_hot.history.size(); ++e) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%zu / %zu", one_hot.history[e].correct, one_hot.history[e].tested);
    std::snprintf(b, sizeof b, "%zu / %zu", binary.history[e].correct, binary.history[e].tested);
    std::printf("%5zu  %-20s %s\n", e, a, b);
  }
  std::printf("Test   %-20.4f %.4f\n", one_hot.accuracy, binary.accuracy);
  char t10[32], t4[32];
  std::snprintf(t10, sizeof t10, "%.2f s", one_hot.seconds);
  std::snprintf(t4, sizeof t4, "%.2f s", binary.seconds);
  std::printf("Time   %-20s %s\n", t10, t4);
}

template <std::size_t Hidden>
int run(const options& o, nn::byte_dataset<float> all_train, const nn::byte_dataset<float>& test) {
  if constexpr (Hidden != binary_hidden) {
    if (o.outputs != 10) {
      std::fprintf(stderr, "mnist: the 4-output network is built for %zu hidden neurons only (784-%zu-4); each shape is\n"
                           "compiled in, and one more keeps the build fast. Use --hidden %zu with --outputs 4 or both.\n",
                   binary_hidden, binary_hidden, binary_hidden);
      return 2;
    }
  }
  if (!o.predict.empty()) {
    if constexpr (Hidden == binary_hidden)
      if (o.outputs == 4) return predict<Hidden, 4>(o, test);
    return predict<Hidden, 10>(o, test);
  }

  // The course trains on the first 50,000 of MNIST's 60,000 training images; the last 10,000 are its
  // validation set.
  const std::size_t held_out = o.validation != static_cast<std::size_t>(-1) ? o.validation
                               : all_train.size() == 60000                  ? 10000
                                                                            : 0;
  if (held_out >= all_train.size()) {
    std::fprintf(stderr, "mnist: --validation %zu leaves no training images (there are %zu)\n", held_out, all_train.size());
    return 2;
  }
  // Moved: the training part keeps all_train's storage, and only the validation images are copied.
  const std::size_t kept = all_train.size() - held_out;
  const auto [tr, validation] = nn::split_at(std::move(all_train), kept);
  if (held_out) std::printf("Holding out the last %zu training images for validation.\n", held_out);
  if constexpr (Hidden == binary_hidden) {
    if (o.outputs == 4) return train<Hidden, 4>(o, tr, validation, test), 0;
    if (o.outputs == 0) return compare_outputs<Hidden>(o, tr, validation, test), 0;
  }
  train<Hidden, 10>(o, tr, validation, test);
  return 0;
}

template <std::size_t I = 0>
int dispatch(std::size_t hidden, const options& o, nn::byte_dataset<float>&& train, const nn::byte_dataset<float>& test) {
  if constexpr (I < std::size(hidden_sizes)) {
    if (hidden == hidden_sizes[I]) return run<hidden_sizes[I]>(o, std::move(train), test);
    return dispatch<I + 1>(hidden, o, std::move(train), test);
  } else {
    std::string list;
    for (std::size_t h : hidden_sizes) list += (list.empty() ? "" : ", ") + std::to_string(h);
    std::fprintf(stderr, "mnist: hidden size %zu is not built in; choose one of %s\n", hidden, list.c_str());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  try {
    std::size_t hidden = o.hidden;
    if (!o.predict.empty()) {
      const auto sizes = nn::read_parameter_sizes(o.predict);
      if (sizes.size() != 3 || sizes[0] != 784 || (sizes[2] != 10 && sizes[2] != 4)) {
        const std::string shape = example::join(sizes, "-");
        std::fprintf(stderr,
                     "mnist: %s holds a %s network; this example classifies 784-pixel images into 10 classes, so it\n"
                     "needs a 784-H-10 network, or 784-H-4 with the class in binary (H one of the built-in hidden sizes)\n",
                     o.predict.c_str(), shape.c_str());
        return 1;
      }
      hidden = sizes[1];
      o.outputs = sizes[2];
    }
    std::ifstream source(o.data + "/SOURCE");
    std::string line;
    if (source && std::getline(source, line)) std::printf("Data: %s (%s)\n", o.data.c_str(), line.c_str());
    if (line.find("small") != std::string::npos)
      std::printf("Note: this is the small MNIST set (10,000 real digits); the course's figures are for 60,000.\n");
    // As bytes (nn::byte_dataset), converted per mini-batch: a quarter of the memory of floats, and the
    // same trained network. --predict needs only the test set.
    auto train = o.predict.empty() ? nn::load_idx_bytes<float>(o.data + "/train-images-idx3-ubyte.gz",
                                                               o.data + "/train-labels-idx1-ubyte.gz", 10, 784)
                                   : nn::byte_dataset<float>(784, 10);
    if (o.limit && o.limit < train.size()) train = nn::split_at(std::move(train), o.limit).first;
    const auto test = nn::load_idx_bytes<float>(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
    return dispatch(hidden, o, std::move(train), test);
  } catch (const nn::data_error& e) {
    std::fprintf(stderr, "mnist: %s\n", e.what());
    if (e.offset() == nn::data_error::no_offset && e.file().rfind(o.data, 0) == 0)
      std::fprintf(stderr, "Get the data with: bash scripts/fetch-data.sh\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist: %s\n", e.what());
    return 1;
  }
}
