// A softmax over a convolution's maps: nn normalises all C·H·W values together, and no ONNX Softmax of
// opset 13 does, so save_onnx refuses the network at compile time.
#include <nn/network.hpp>
#include <nn/onnx.hpp>
int main() {
  nn::sequential<nn::input<1, 4, 4>, nn::conv2d<2, 3, 3, nn::softmax>> net;
  nn::save_onnx(net, "net.onnx");
}
