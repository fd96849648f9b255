// Labels for 9 classes into a network with 10 outputs.
#include <nn/network.hpp>
int main() {
  nn::network<784, 30, 10> net;
  nn::dataset<float, 784, 9> d;
  nn::trainer<> t;
  t.fit(net, d);
}
