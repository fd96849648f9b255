// Logic from perceptrons, as in chapter 1 of the course: one NAND perceptron (weights −2, −2, bias 3)
// and every other gate, and an adder, built from copies of it. Shared by the example and its test.
#pragma once

#include <nn/perceptron.hpp>

#include <array>

namespace gates {

// The course's NAND perceptron: output 1 unless both inputs are 1 (−2 − 2 + 3 = −1 ≤ 0).
inline const nn::perceptron<2>& nand_perceptron() {
  static const nn::perceptron<2> p = [] {
    nn::perceptron<2> n;
    n.weight(0, 0, 0) = -2;
    n.weight(0, 0, 1) = -2;
    n.bias(0, 0) = 3;
    return n;
  }();
  return p;
}

inline int nand(int a, int b) {
  return static_cast<int>(nand_perceptron().feedforward(std::array<float, 2>{float(a), float(b)})[0]);
}
inline int not_(int a) { return nand(a, a); }
inline int and_(int a, int b) { return not_(nand(a, b)); }
inline int or_(int a, int b) { return nand(not_(a), not_(b)); }
inline int xor_(int a, int b) {
  const int n = nand(a, b);
  return nand(nand(a, n), nand(b, n));
}

struct sum_carry {
  int sum, carry;
};
// The course's adder of two bits: sum = x1 ⊕ x2, carry = x1·x2, from NANDs only.
inline sum_carry half_adder(int a, int b) { return {xor_(a, b), and_(a, b)}; }
inline sum_carry full_adder(int a, int b, int carry_in) {
  const auto h1 = half_adder(a, b);
  const auto h2 = half_adder(h1.sum, carry_in);
  return {h2.sum, or_(h1.carry, h2.carry)};
}
// Adds two 2-bit numbers: a = a1a0, b = b1b0; returns the 3-bit sum.
inline int add_two_bits(int a, int b) {
  const auto low = half_adder(a & 1, b & 1);
  const auto high = full_adder((a >> 1) & 1, (b >> 1) & 1, low.carry);
  return low.sum | (high.sum << 1) | (high.carry << 2);
}

}  // namespace gates
