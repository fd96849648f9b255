// The outputs docs/tutorial.md shows for its code of sections 2 and 3 are what that code prints.
#include <nn/perceptron.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "catch.hpp"

namespace {

std::string tutorial() {
  std::ifstream f(NN_TUTORIAL);
  REQUIRE(f);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The output block that follows the tutorial's code, as printed.
std::string block(const std::string& lines) { return "```\n" + lines + "```\n"; }

}  // namespace

TEST_CASE("tutorial section 2: a perceptron jumps where a sigmoid neuron moves a little", "[tutorial]") {
  std::string out;
  char line[128];
  // As in the tutorial, with std::printf into `line`.
  nn::perceptron<2> step_neuron;
  nn::network<2, 1> sigmoid_neuron(/*seed=*/1);
  for (std::size_t k = 0; k < 2; ++k) step_neuron.weight(0, 0, k) = sigmoid_neuron.weight(0, 0, k) = -2;
  for (float b : {3.9f, 4.0f, 4.1f}) {
    step_neuron.bias(0, 0) = sigmoid_neuron.bias(0, 0) = b;
    const std::array<float, 2> x{1, 1};
    std::snprintf(line, sizeof line, "bias %.1f: perceptron %.0f, sigmoid neuron %.3f\n", b, step_neuron.feedforward(x)[0],
                  sigmoid_neuron.feedforward(x)[0]);
    out += line;
  }
  REQUIRE_THAT(tutorial(), contains_text(block(out)));
}

TEST_CASE("tutorial section 3: the untrained 784-30-10 network's outputs", "[tutorial]") {
  std::string out;
  char word[16];
  nn::network<784, 30, 10> net(/*seed=*/1);
  std::array<float, 784> image{};
  std::array<float, 10> result = net.feedforward(image);
  for (float a : result) {
    std::snprintf(word, sizeof word, "%.3f ", a);
    out += word;
  }
  out.back() = '\n';  // the tutorial's block has no trailing space
  REQUIRE_THAT(tutorial(), contains_text(block(out)));
}
