// Compiles: the same kinds of use as the failing snippets, with the right shapes.
#include <nn/network.hpp>
int main() {
  nn::network<784, 30, 10> net;
  std::array<float, 784> x{};
  (void)net.feedforward(x);
  (void)net.predict(nn::batch_matrix<float, 784>(3));
  nn::dataset<float, 784, 10> d;
  nn::trainer<> t;
  t.fit(net, d);
  nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 4, 3> classifier;
  nn::dataset<float, 4, 3> three;
  nn::trainer<nn::sgd, nn::smoothed_log_likelihood<3>> smoothed;
  smoothed.fit(classifier, three);
}
