// A batch of 783-value rows into a 784-input network.
#include <nn/network.hpp>
int main() {
  nn::network<784, 30, 10> net;
  nn::batch_matrix<float, 783> x(5);
  (void)net.predict(x);
}
