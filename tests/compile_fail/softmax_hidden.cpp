// softmax as the hidden layers' activation: it has no element-wise derivative.
#include <nn/network.hpp>
int main() {
  nn::basic_network<nn::policies<float, nn::softmax, nn::softmax>, 4, 5, 3> net;
  (void)net;
}
