#include <nn/network.hpp>

#include <cstdio>

int main() {
  nn::network<2, 3, 1> net(42);
  nn::dataset<float, 2, 1> xor_data;
  xor_data.add({0, 0}, {0});
  xor_data.add({0, 1}, {1});
  xor_data.add({1, 0}, {1});
  xor_data.add({1, 1}, {0});
  nn::trainer<> t{nn::sgd{3.0}};
  t.epochs = 3000;
  t.batch_size = 4;
  t.on_epoch = nullptr;
  const auto history = t.fit(net, xor_data, xor_data);
  std::printf("XOR: %zu / %zu correct\n", history.back().correct, history.back().tested);
  return history.back().correct == 4 ? 0 : 1;
}
