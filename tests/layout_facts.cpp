// The facts of nn's data layouts as one translation unit sees them. tests/CMakeLists.txt compiles this file
// three times, for SSE2, AVX2 and AVX-512 (NN_LAYOUT_FACTS names each copy's function), and
// layout_isa_test.cpp holds them equal: a matrix, a network's parameters and a convolution's weights are
// laid out alike whatever instruction set a translation unit is built for.
#include <nn/layers/conv2d.hpp>
#include <nn/layers/pool.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>

#include <cstdint>
#include <vector>

namespace {

template <class T, std::size_t... N>
void strides(std::vector<std::uint64_t>& out, std::index_sequence<N...>) {
  (out.push_back(nn::row_layout<T, N + 1>::stride), ...);
}

// Net's storage size, then where each parameter lives in storage, in file order.
template <class Net>
void parameters(std::vector<std::uint64_t>& out) {
  using T = typename Net::value_type;
  Net net;
  out.push_back(Net::parameter_storage);
  const T* base = net.parameters().data();
  nn::detail::for_each_parameter(net, [&](T& v) { out.push_back(static_cast<std::uint64_t>(&v - base)); });
}

}  // namespace

std::vector<std::uint64_t> NN_LAYOUT_FACTS() {
  std::vector<std::uint64_t> out;
  strides<float>(out, std::make_index_sequence<40>{});
  strides<double>(out, std::make_index_sequence<40>{});
  out.push_back(nn::row_layout<float, 100>::stride);
  out.push_back(nn::row_layout<float, 784>::stride);
  parameters<nn::network<784, 30, 10>>(out);
  parameters<nn::network<20, 100, 7>>(out);
  parameters<nn::basic_network<nn::policies<double, nn::sigmoid, nn::sigmoid>, 13, 5, 3>>(out);
  parameters<nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::relu>, nn::max_pool<2>, nn::dense<5, nn::softmax>>>(out);
  return out;
}
