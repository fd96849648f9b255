// Debug builds must compile too: every nn::simd function and every activation, on batches of float and
// double, built at -O0 (xsimd 8.1's log did not, on AVX-512BW).
#include <nn/network.hpp>

template <class T>
void use_all() {
  using B = nn::simd::batch<T>;
  const B b(T(0.5));
  B r = nn::simd::exp(b) + nn::simd::log(b) + nn::simd::tanh(b) + nn::simd::abs(b) + nn::simd::max(b, b) +
        nn::simd::min(b, b) + nn::simd::fma(b, b, b) + nn::simd::where(b > B(T(0)), b, b);
  r += nn::sigmoid{}.f(b) + nn::step{}.f(b) + nn::identity{}.f(b) + nn::tanh{}.f(b) + nn::relu{}.f(b);
  r += nn::quadratic_cost{}.delta(b, b, b, nn::sigmoid{}) + nn::quadratic_cost{}.value(b, b);
  (void)nn::simd::reduce_add(r);
  nn::basic_network<nn::policies<T, nn::relu, nn::sigmoid>, 3, 5, 2> net(1);
  nn::dataset<T, 3, 2> d;
  d.add({T(1), T(2), T(3)}, {T(0), T(1)});
  nn::trainer<> t;
  t.epochs = 1;
  t.fit(net, d, d);
  r += nn::cross_entropy{}.value(b, b) + nn::cross_entropy{}.delta(b, b, b, nn::sigmoid{}) +
       nn::log_likelihood{}.value(b, b) + nn::log_likelihood{}.delta(b, b, b, nn::softmax{});
  (void)nn::simd::reduce_max(r);
  nn::basic_network<nn::policies<T, nn::relu, nn::softmax>, 3, 5, 2> soft(1);
  nn::trainer<nn::sgd, nn::log_likelihood> ts{nn::sgd{0.1}};
  ts.epochs = 1;
  ts.fit(soft, d, d);
}

int main() {
  use_all<float>();
  use_all<double>();
}
