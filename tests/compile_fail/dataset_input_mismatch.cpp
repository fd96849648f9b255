#include <nn/network.hpp>
int main() {
  nn::network<784, 30, 10> net;
  nn::dataset<float, 783, 10> d;
  nn::trainer<> t;
  t.fit(net, d);
}
