// XOR: the smallest problem a single neuron cannot solve and a hidden layer can.
// Prints the loss every 500 epochs and the truth table the network learned.
#include <nn/network.hpp>

#include <cstdio>

#include "command_line.hpp"

namespace {
void usage(std::FILE* out) {
  std::fprintf(out, "Usage: xor [--help]\nTrains 2-4-1 sigmoid neurons on XOR (η = 3, 4000 epochs), prints the cost every 500 epochs and\nthe truth table it learned; exits 1 if a row is wrong.\n");
}
}  // namespace

int main(int argc, char** argv) {
  example::command_line args("xor", usage, argc, argv);
  while (args.next()) args.fail("unknown option '" + args.flag() + "'");
  nn::network<2, 4, 1> net(1);  // 2 inputs, 4 sigmoid hidden neurons, 1 sigmoid output; N(0,1) start
  nn::dataset<float, 2, 1> data;
  data.add({0, 0}, {0});
  data.add({0, 1}, {1});
  data.add({1, 0}, {1});
  data.add({1, 1}, {0});

  nn::trainer<> trainer{nn::sgd{3.0}};  // η = 3, quadratic cost
  trainer.epochs = 4000;
  trainer.batch_size = 4;
  trainer.on_epoch = [](const nn::epoch_report& r) {
    if (r.epoch % 500 == 0 || r.epoch + 1 == r.epochs) std::printf("epoch %4zu  cost %.6f\n", r.epoch, r.mean_cost);
  };
  trainer.fit(net, data);

  int wrong = 0;
  std::printf("\n x1 x2 | output\n");
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto x = data.input(i);
    const float out = net.feedforward(x)[0];
    std::printf("  %g  %g | %.3f\n", x[0], x[1], out);
    wrong += (out > 0.5f) != (data.target(i)[0] > 0.5f);
  }
  return wrong == 0 ? 0 : 1;
}
