// A 783-pixel image into a 784-input network.
#include <nn/network.hpp>
int main() {
  nn::network<784, 30, 10> net;
  std::array<float, 783> x{};
  (void)net.feedforward(x);
}
