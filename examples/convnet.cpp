// Convolutional networks, the book's chapter 6: local receptive fields, shared weights and pooling, on MNIST
// or Fashion-MNIST. Three networks, each with its recipe (docs/convnet.md):
//   --net ch6a  the book's first: 5x5 convolution with 20 maps (sigmoid), 2x2 max-pooling, dense 100 sigmoid,
//               softmax; SGD eta 0.1, mini-batch 10
//   --net ch6b  the book's last: two 5x5 convolution + 2x2 max-pooling layers of 20 and 40 maps with ReLU,
//               dense 100 ReLU with dropout 0.5, softmax; SGD eta 0.03, mini-batch 10, L2 0.1, the training
//               images expanded by 1-pixel shifts
//   --net best  (the default) our best for Fashion-MNIST in 10 minutes on one core (Adam, label smoothing):
//               on clothes, trained on mirrored copies too, and scored on each test image with its mirror image
// It prints "Epoch j: correct / n" on the test set after every epoch, as the book does, then
// "Test accuracy: C / N = X". Data: Debian's Fashion-MNIST (--fashion), or `bash scripts/fetch-data.sh`.
#include <nn/data/expand.hpp>
#include <nn/data/idx.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "training_output.hpp"

namespace {

using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                            nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
using ch6b = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::relu>, nn::max_pool<2>,
                            nn::conv2d<40, 5, 5, nn::relu>, nn::max_pool<2>, nn::flatten, nn::dense<100, nn::relu>,
                            nn::dense<10, nn::softmax>>;
template <std::size_t Maps>
using conv3x3 = nn::conv2d<Maps, 3, 3, nn::relu, 1, nn::padding::same>;
using best = nn::sequential<nn::input<1, 28, 28>, conv3x3<32>, nn::max_pool<2>, conv3x3<64>, nn::max_pool<2>,
                            conv3x3<128>, nn::max_pool<2>, nn::flatten, nn::dense<256, nn::relu>,
                            nn::dense<10, nn::softmax>>;

// What each --net trains with unless an option says otherwise.
struct recipe {
  const char* name;
  bool adam;  // Adam with a cosine schedule (best), else plain SGD (the book's)
  double eta, dropout, weight_decay, smoothing;  // smoothing: label smoothing epsilon
  std::size_t epochs, batch, expand, copies;  // copies: each image and its moved copies, with expand > 0
  bool mirror_clothes;                        // mirror half the copies on Fashion-MNIST (not digits)
};
constexpr recipe recipes[] = {
    {"ch6a", false, 0.1, 0, 0, 0, 60, 10, 0, 1, false},
    {"ch6b", false, 0.03, 0.5, 0.1, 0, 40, 10, 1, 5, false},
    {"best", true, 0.001, 0.3, 0, 0.1, 7, 64, 1, 2, true},
};

struct options {
  recipe r = recipes[2];
  std::string data;
  bool fashion = false, progress = true;
  int mirror = -1;  // -1: the recipe's; 0: --no-mirror; 1: --mirror
  std::size_t threads = 1, limit = 0, copies = 0;  // copies 0: the recipe's
  double rotate = 0;
  std::uint64_t seed = 1;
  std::string save, history;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: convnet [options]\n"
               "Trains a convolutional network (the book's chapter 6) and prints \"Epoch j: correct / n\" on the\n"
               "test set after each epoch, then \"Test accuracy: C / N = X\".\n\n"
               "  --net NAME      ch6a: 5x5 conv 20 sigmoid, 2x2 max-pool, dense 100 sigmoid, softmax (SGD)\n"
               "                  ch6b: two 5x5 conv + 2x2 max-pool layers (20, 40 maps, ReLU), dense 100 ReLU,\n"
               "                        dropout, softmax (SGD, L2, expanded data)\n"
               "                  best: three 3x3 'same' conv + 2x2 max-pool layers (32, 64, 128 maps, ReLU),\n"
               "                        dense 256 ReLU, dropout 0.3, softmax (Adam, cosine schedule, label\n"
               "                        smoothing, each image and a moved copy, mirrored on Fashion-MNIST;\n"
               "                        the default)\n"
               "  --data DIR      folder with the four IDX files (default data/mnist, or Debian's Fashion-MNIST)\n"
               "  --fashion       use Fashion-MNIST\n"
               "  --epochs N      epochs (default: ch6a 60, ch6b 40, best 7)\n"
               "  --batch N       mini-batch size (default: 10, 10, 64)\n"
               "  --eta X         learning rate (default: 0.1, 0.03, 0.001)\n"
               "  --dropout P     dropout on the dense hidden layer (default: 0, 0.5, 0.3)\n"
               "  --l2 L          L2 regularisation lambda (default: 0, 0.1, 0)\n"
               "  --smooth E      label smoothing: train towards 1 - E + E/10 on the label, E/10 elsewhere\n"
               "                  (default: 0, 0, 0.1)\n"
               "  --expand K      train on each image and copies shifted by up to K pixels (default: 0, 1, 1;\n"
               "                  0: the images only)\n"
               "  --copies N      with --expand: each image and N - 1 moved copies (default: ch6b 5, best 2)\n"
               "  --rotate D      with --expand: also turn the copies by up to D degrees\n"
               "  --mirror        with --expand: also mirror half the copies left to right (clothes, not digits;\n"
               "                  best does with --fashion), and score each test image with its mirror image\n"
               "  --no-mirror     do not mirror\n"
               "  --seed N        seeds the weights, the shuffles, dropout and the expansion (default 1)\n"
               "  --limit N       train on the first N training images only (a quick check; default: all)\n"
               "  --threads N     threads for training (mini-batches of 32 or more) and evaluation (default 1)\n"
               "  --save FILE     write the trained parameters here\n"
               "  --history FILE  write the per-epoch history as FILE.csv and a chart of it as FILE.svg\n"
               "  --no-progress   no progress bar\n"
               "  --help          this text\n\n"
               "Get MNIST with: bash scripts/fetch-data.sh (Fashion-MNIST comes with Debian's dataset-fashion-mnist)\n");
}

options parse(int argc, char** argv) {
  options o;
  example::command_line args("convnet", usage, argc, argv);
  // --net first: the other options change its recipe.
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--net") {
      const std::string v = argv[i + 1];
      bool known = false;
      for (const recipe& r : recipes)
        if (v == r.name) o.r = r, known = true;
      if (!known) args.fail("--net expects ch6a, ch6b or best, got '" + v + "'");
    }
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--net") args.value();
    else if (a == "--data") o.data = args.value();
    else if (a == "--fashion") o.fashion = true;
    else if (a == "--epochs") o.r.epochs = args.whole_number();
    else if (a == "--batch") o.r.batch = args.whole_number();
    else if (a == "--eta") o.r.eta = args.positive_number();
    else if (a == "--dropout") o.r.dropout = args.fraction();
    else if (a == "--l2") o.r.weight_decay = args.number();
    else if (a == "--smooth") o.r.smoothing = args.fraction();
    else if (a == "--expand") o.r.expand = args.whole_number();
    else if (a == "--copies") o.copies = args.whole_number();
    else if (a == "--rotate") o.rotate = args.number();
    else if (a == "--seed") o.seed = args.whole_number();
    else if (a == "--limit") o.limit = args.whole_number();
    else if (a == "--threads") o.threads = args.whole_number();
    else if (a == "--save") o.save = args.value();
    else if (a == "--history") o.history = args.value();
    else if (a == "--no-progress") o.progress = false;
    else if (a == "--mirror") o.mirror = 1;
    else if (a == "--no-mirror") o.mirror = 0;
    else args.fail("unknown option '" + a + "'");
  }
  if (o.r.epochs == 0) args.fail("--epochs must be at least 1");
  if (o.r.batch == 0) args.fail("--batch must be at least 1");
  if (o.threads == 0) args.fail("--threads must be at least 1");
  if (o.r.expand > 13) args.fail("--expand moves the 28 x 28 images by at most 13 pixels");
  if (o.rotate < 0 || o.rotate > 180) args.fail("--rotate expects degrees in [0, 180]");
  if ((o.rotate > 0 || o.mirror == 1) && o.r.expand == 0)
    args.fail("--rotate and --mirror change the copies that --expand K makes: give --expand too");
  if (o.copies && o.r.expand == 0) args.fail("--copies sets how many copies --expand K makes: give --expand too");
  if (o.r.expand == 0) o.copies = 1;
  else if (o.copies == 0) o.copies = o.r.copies;
  else if (o.copies < 2 || o.copies > 100) args.fail("--copies expects 2 to 100 (each image and its moved copies)");
  if (o.mirror == -1) o.mirror = o.r.mirror_clothes && o.fashion && o.r.expand > 0;
  if (o.data.empty()) o.data = o.fashion ? "/usr/share/datasets/fashion-mnist" : "data/mnist";
  return o;
}

// " (expanded: each image and 4 copies moved by up to 1 pixel)", or nothing without --expand.
std::string expansion(const options& o) {
  if (o.r.expand == 0) return {};
  char degrees[48] = "";
  if (o.rotate > 0) std::snprintf(degrees, sizeof degrees, ", turned by up to %g degrees", o.rotate);
  return " (expanded: each image and " + std::to_string(o.copies - 1) + (o.copies == 2 ? " copy" : " copies") +
         " moved by up to " + std::to_string(o.r.expand) + (o.r.expand == 1 ? " pixel" : " pixels") + degrees +
         (o.mirror == 1 ? ", mirrored or not" : "") + ")";
}

// After training on mirrored copies, the final score takes, for each test image, the mean of the network's
// outputs on the image and on its mirror image (test-time augmentation, as Keras users write it by hand):
// both are pictures the network learned from. The per-epoch lines score the images as they are.
template <class Net>
std::size_t correct_with_mirror_images(const Net& net, const nn::byte_dataset<float>& test) {
  constexpr std::size_t width = Net::input_shape::dims[2], classes = Net::outputs;
  std::vector<std::uint8_t> bytes(test.size() * Net::inputs), labels(test.size());
  for (std::size_t i = 0; i < test.size(); ++i) {
    const auto in = test.input(i);
    for (std::size_t k = 0; k < in.size(); ++k)  // channels x rows x columns: column c goes to width - 1 - c
      bytes[i * Net::inputs + k - k % width + (width - 1 - k % width)] = in[k];
    labels[i] = static_cast<std::uint8_t>(test.label(i));
  }
  const nn::byte_dataset<float> mirrored(Net::inputs, classes, std::move(bytes), std::move(labels), test.input_scale());
  std::vector<float> sum(test.size() * classes);
  for (const auto* data : {&test, &mirrored})
    nn::for_each_output(net, *data, [&](std::size_t i, auto y) {
      for (std::size_t c = 0; c < classes; ++c) sum[i * classes + c] += y[c];
    });
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const float* s = sum.data() + i * classes;
    correct += static_cast<std::size_t>(std::max_element(s, s + classes) - s) == test.label(i);
  }
  return correct;
}

template <class Net, class Optimizer, class Init, class Data>
int train(const options& o, const Optimizer& optimizer, Init init, const Data& train_data, const nn::byte_dataset<float>& test) {
  Net net(o.seed, init);
  nn::trainer<Optimizer, nn::smoothed_log_likelihood<Net::outputs>> t{optimizer, {.epsilon = o.r.smoothing}};
  t.epochs = o.r.epochs;
  t.batch_size = o.r.batch;
  t.seed = o.seed;
  t.threads = o.threads;
  t.dropout = o.r.dropout;
  t.weight_decay = o.r.weight_decay;
  if (o.r.adam) t.schedule = nn::cosine_decay(o.r.epochs, 0.02);
  example::show_progress(t, o.progress);
  const std::string expanded = expansion(o);
  char smoothing[48] = "";
  if (o.r.smoothing > 0) std::snprintf(smoothing, sizeof smoothing, ", label smoothing %g", o.r.smoothing);
  std::printf("Training %s\n  (%zu parameters) on %zu images%s, testing on %zu: %s eta %g%s, mini-batch %zu, %zu epochs, "
              "dropout %g, L2 %g%s, seed %llu, %zu thread%s\n",
              Net::name().c_str(), Net::parameter_count, train_data.size(),
              expanded.c_str(), test.size(), o.r.adam ? "Adam" : "SGD", o.r.eta,
              o.r.adam ? " (cosine schedule)" : "", o.r.batch, o.r.epochs, o.r.dropout, o.r.weight_decay, smoothing,
              static_cast<unsigned long long>(o.seed), o.threads, o.threads == 1 ? "" : "s");
  const auto history = t.fit(net, train_data, test);
  double seconds = 0;
  for (const auto& r : history) seconds += r.seconds;
  std::printf("Training time: %.1f s (%.0f samples/s)\n", seconds,
              seconds > 0 ? double(train_data.size() * history.size()) / seconds : 0.0);
  if (!o.history.empty()) {
    const auto [csv, svg] = example::write_history(o.history, history, std::string("convnet --net ") + o.r.name);
    std::printf("History: %s and %s\n", csv.c_str(), svg.c_str());
  }
  std::size_t correct = history.back().correct;
  if (o.mirror == 1) {
    correct = correct_with_mirror_images(net, test);
    std::printf("Scoring each test image with its mirror image (the mean of the two outputs)\n");
  }
  std::printf("Test accuracy: %zu / %zu = %.4f\n", correct, test.size(), double(correct) / double(test.size()));
  if (!o.save.empty()) {
    nn::save_parameters(net, o.save);
    std::printf("Saved the parameters to %s\n", o.save.c_str());
  }
  return 0;
}

// Each network is compiled with its own optimizer only, and trains through one data type (with --expand 0 the
// expansion has one copy, the images themselves bit for bit): three training loops keep the build short.
int run(const options& o, const nn::expanded_images<nn::byte_dataset<float>>& train_data, const nn::byte_dataset<float>& test) {
  const std::string net = o.r.name;
  // The book's sigmoid network starts from N(0, 1/fan-in) weights, the ReLU ones from He's N(0, 2/fan-in).
  if (net == "ch6a") return train<ch6a>(o, nn::sgd{o.r.eta}, nn::scaled_normal_init{}, train_data, test);
  if (net == "ch6b") return train<ch6b>(o, nn::sgd{o.r.eta}, nn::he_init{}, train_data, test);
  return train<best>(o, nn::adam{o.r.eta}, nn::he_init{}, train_data, test);
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    std::ifstream source(o.data + "/SOURCE");
    std::string line;
    if (source && std::getline(source, line)) std::printf("Data: %s (%s)\n", o.data.c_str(), line.c_str());
    auto train_data = nn::load_idx_bytes<float>(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz", 10, 784);
    if (o.limit && o.limit < train_data.size()) train_data = nn::split_at(std::move(train_data), o.limit).first;
    const auto test = nn::load_idx_bytes<float>(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
    // The book's expansion: each image and copies moved by up to K pixels (--copies), made as they are needed.
    const nn::expanded_images expanded(train_data, {1, 28, 28},
                                       {.copies = o.copies, .max_shift = o.r.expand, .max_degrees = o.rotate,
                                        .mirror = o.mirror == 1, .seed = o.seed});
    return run(o, expanded, test);
  } catch (const nn::data_error& e) {
    std::fprintf(stderr, "convnet: %s\n", e.what());
    if (e.offset() == nn::data_error::no_offset && e.file().rfind(o.data, 0) == 0)
      std::fprintf(stderr, "Get the data with: bash scripts/fetch-data.sh\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convnet: %s\n", e.what());
    return 1;
  }
}
