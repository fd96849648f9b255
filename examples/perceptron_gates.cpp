// Chapter 1's perceptrons: a NAND gate from weights −2, −2 and bias 3; AND, OR, XOR and a two-bit adder
// built from NAND gates alone; and the perceptron learning rule, which learns AND and OR from examples
// but cannot learn XOR, because no single line separates XOR's ones from its zeros.
#include <nn/perceptron.hpp>

#include <cstdio>

#include "command_line.hpp"

#include "gates.hpp"

namespace {

void table(const char* name, int (*gate)(int, int)) {
  std::printf("%s\n  x1 x2 | out\n", name);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) std::printf("   %d  %d |  %d\n", a, b, gate(a, b));
  std::printf("\n");
}

nn::dataset<float, 2, 1> truth_table(int (*f)(int, int)) {
  nn::dataset<float, 2, 1> d;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) d.add({float(a), float(b)}, {float(f(a, b))});
  return d;
}

void learn(const char* name, int (*f)(int, int)) {
  nn::perceptron<2> p;  // starts at zero weights and bias
  const auto r = nn::learn_perceptron(p, truth_table(f), 100);
  if (r.converged)
    std::printf("%-4s learned in %zu epochs: weights %g, %g, bias %g\n", name, r.epochs, p.weight(0, 0, 0),
                p.weight(0, 0, 1), p.bias(0, 0));
  else
    std::printf("%-4s NOT learned: still %zu of 4 wrong after %zu epochs. No single perceptron computes %s:\n"
                "     its ones and zeros are not linearly separable.\n",
                name, r.errors.back(), r.epochs, name);
}

void usage(std::FILE* out) {
  std::fprintf(out, "Usage: perceptron_gates [--help]\nThe course's perceptrons: NAND with weights -2, -2 and bias 3, the gates built from it, and the\nperceptron learning rule on AND, OR and XOR (XOR is not linearly separable).\n");
}

}  // namespace

int main(int argc, char** argv) {
  example::command_line args("perceptron_gates", usage, argc, argv);
  while (args.next()) args.fail("unknown option '" + args.flag() + "'");
  std::printf("A perceptron with weights -2, -2 and bias 3 (output 1 when w.x + b > 0):\n\n");
  table("NAND", gates::nand);
  table("AND  = NOT(NAND)", gates::and_);
  table("OR   = NAND(NOT a, NOT b)", gates::or_);
  table("XOR  = four NANDs", gates::xor_);

  std::printf("Two-bit adder from NAND gates only (a + b = sum):\n");
  int wrong = 0;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      const int s = gates::add_two_bits(a, b);
      std::printf("  %d%d + %d%d = %d%d%d%s", a >> 1, a & 1, b >> 1, b & 1, s >> 2, (s >> 1) & 1, s & 1, b == 3 ? "\n" : "   ");
      wrong += s != a + b;
    }
  }

  std::printf("\nThe perceptron learning rule, w <- w + eta (y - out) x, from the four examples of each gate:\n");
  learn("AND", [](int a, int b) { return a & b; });
  learn("OR", [](int a, int b) { return a | b; });
  learn("NAND", [](int a, int b) { return 1 - (a & b); });
  learn("XOR", [](int a, int b) { return a ^ b; });
  return wrong == 0 ? 0 : 1;
}
