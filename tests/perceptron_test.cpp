// Perceptrons: the course's NAND gate, gates and an adder composed from it, and the learning rule.
#include <nn/perceptron.hpp>

#include <stdexcept>

#include "../examples/gates.hpp"
#include "catch.hpp"

namespace {
nn::dataset<float, 2, 1> table_of(int (*f)(int, int)) {
  nn::dataset<float, 2, 1> d;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) d.add({float(a), float(b)}, {float(f(a, b))});
  return d;
}
int and_ref(int a, int b) { return a & b; }
int or_ref(int a, int b) { return a | b; }
int xor_ref(int a, int b) { return a ^ b; }
}  // namespace

TEST_CASE("the course's NAND perceptron and the gates built from it", "[perceptron]") {
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      INFO(a << ", " << b);
      REQUIRE(gates::nand(a, b) == !(a && b));
      REQUIRE(gates::and_(a, b) == (a & b));
      REQUIRE(gates::or_(a, b) == (a | b));
      REQUIRE(gates::xor_(a, b) == (a ^ b));
      REQUIRE(gates::half_adder(a, b).sum == (a ^ b));
      REQUIRE(gates::half_adder(a, b).carry == (a & b));
    }
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) REQUIRE(gates::add_two_bits(a, b) == a + b);
  // w·x + b exactly 0 gives 0: the step fires only for w·x + b > 0.
  nn::perceptron<1> edge;
  edge.weight(0, 0, 0) = 1;
  edge.bias(0, 0) = -1;
  REQUIRE(edge.feedforward(std::array<float, 1>{1})[0] == 0);
  REQUIRE(edge.feedforward(std::array<float, 1>{1.5f})[0] == 1);
}

TEST_CASE("the perceptron learning rule, two epochs of AND worked by hand", "[perceptron]") {
  // From w = (0, 0), b = 0, η = 1, samples in order (0,0) (0,1) (1,0) (1,1):
  // epoch 1: only (1,1) is wrong (out 0, y 1): w = (1, 1), b = 1.
  // epoch 2: (0,0) fires wrongly: b = 0; (0,1) fires wrongly: w = (1, 0), b = −1; (1,0) gives z = 0,
  // out 0, right; (1,1) gives z = 0, out 0, wrong: w = (2, 1), b = 0.
  nn::perceptron<2> p;
  auto r = nn::learn_perceptron(p, table_of(and_ref), 1);
  REQUIRE(!r.converged);
  REQUIRE(r.errors == std::vector<std::size_t>{1});
  REQUIRE(p.weight(0, 0, 0) == 1);
  REQUIRE(p.weight(0, 0, 1) == 1);
  REQUIRE(p.bias(0, 0) == 1);
  nn::perceptron<2> q;
  r = nn::learn_perceptron(q, table_of(and_ref), 2);
  REQUIRE(r.errors == std::vector<std::size_t>{1, 3});
  REQUIRE(q.weight(0, 0, 0) == 2);
  REQUIRE(q.weight(0, 0, 1) == 1);
  REQUIRE(q.bias(0, 0) == 0);
}

TEST_CASE("the rule learns AND and OR, and never XOR", "[perceptron]") {
  for (auto f : {and_ref, or_ref}) {
    nn::perceptron<2> p;
    const auto data = table_of(f);
    const auto r = nn::learn_perceptron(p, data, 100);
    REQUIRE(r.converged);
    REQUIRE(r.errors.back() == 0);
    REQUIRE(r.epochs < 20);
    for (std::size_t i = 0; i < data.size(); ++i) REQUIRE(p.feedforward(data.input(i))[0] == data.target(i)[0]);
  }
  nn::perceptron<2> p;
  const auto r = nn::learn_perceptron(p, table_of(xor_ref), 500);
  REQUIRE(!r.converged);
  REQUIRE(r.epochs == 500);
  for (auto e : r.errors) REQUIRE(e >= 1);
}

TEST_CASE("the learning rule rejects targets other than 0 and 1, and wrong sizes", "[perceptron]") {
  nn::perceptron<2> p;
  nn::dataset<float, 2, 1> d;
  d.add({0, 1}, {0.5f});
  REQUIRE_THROWS_AS(nn::learn_perceptron(p, d, 10), std::invalid_argument);
  nn::dataset<float> wide(3, 1);
  wide.add({0.f, 1.f, 0.f}, {1.f});
  REQUIRE_THROWS_AS(nn::learn_perceptron(p, wide, 10), std::invalid_argument);
}
