// A softmax output layer trained with the quadratic cost: its error would need softmax's Jacobian.
#include <nn/network.hpp>
int main() {
  nn::basic_network<nn::policies<float, nn::sigmoid, nn::softmax>, 4, 3> net;
  nn::dataset<float, 4, 3> d;
  nn::trainer<nn::sgd, nn::quadratic_cost> t;
  t.fit(net, d);
}
