// Label smoothing written for 10 classes on a network with 3 outputs: the targets would not sum to one.
#include <nn/network.hpp>
int main() {
  nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 4, 3> net;
  nn::dataset<float, 4, 3> d;
  nn::trainer<nn::sgd, nn::smoothed_log_likelihood<10>> t;
  t.fit(net, d);
}
