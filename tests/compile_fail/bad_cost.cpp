// A cost without delta(z, a, y, act).
#include <nn/network.hpp>
struct only_value {
  template <class V>
  V value(const V& a, const V& y) const { return a - y; }
};
int main() {
  nn::network<2, 2> net;
  nn::dataset<float, 2, 2> d;
  d.add({0, 1}, {1, 0});
  nn::trainer<nn::sgd, only_value> t;
  t.fit(net, d);
}
