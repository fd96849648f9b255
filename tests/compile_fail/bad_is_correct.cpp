// A data source whose is_correct cannot be called as nn asks (not const, fixed extents) must not be
// ignored in silence: evaluate would count by the argmax rule instead.
#include <nn/network.hpp>
struct d {
  nn::dataset<float> x{2, 1};
  std::size_t size() const { return x.size(); }
  std::size_t input_size() const { return 2; }
  std::size_t output_size() const { return 1; }
  std::span<const float> input(std::size_t i) const { return x.input(i); }
  std::span<const float> target(std::size_t i) const { return x.target(i); }
  bool is_correct(std::span<const float, 1>, std::span<const float, 1>) { return true; }  // not const, fixed extent
};
int main() { nn::network<2, 1> n(1); return (int)nn::evaluate(n, d{}); }
