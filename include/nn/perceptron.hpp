// Perceptrons: a single layer of step neurons (output 1 when w·x + b > 0, else 0), and the perceptron
// learning rule, w ← w + η(y − ŷ)x, b ← b + η(y − ŷ), which needs no gradient.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/network.hpp"

namespace nn {

// N inputs, Outputs step neurons: a basic_network with the step activation and no hidden layer.
template <std::size_t N, std::size_t Outputs = 1, class T = float>
using perceptron = basic_network<policies<T, step>, N, Outputs>;

// What the learning rule did.
struct perceptron_result {
  bool converged = false;           // an epoch with no mistakes happened
  std::size_t epochs = 0;           // epochs run (the last one without mistakes, if converged)
  std::vector<std::size_t> errors;  // misclassified samples in each epoch
};

// Trains a perceptron with the perceptron learning rule, sample by sample in data order, until an
// epoch makes no mistake or `max_epochs` have run. Targets must be 0 or 1. The rule converges exactly
// when the classes are linearly separable; XOR is not, so for XOR it never does.
template <std::size_t N, std::size_t Outputs, class T, class Data>
perceptron_result learn_perceptron(perceptron<N, Outputs, T>& p, const Data& data, std::size_t max_epochs, T eta = T(1)) {
  if (data.input_size() != N || data.output_size() != Outputs)
    throw std::invalid_argument("nn::learn_perceptron: the data has " + std::to_string(data.input_size()) + " inputs and " +
                                std::to_string(data.output_size()) + " targets, the perceptron " + std::to_string(N) +
                                " and " + std::to_string(Outputs));
  perceptron_result r;
  for (std::size_t e = 0; e < max_epochs; ++e) {
    std::size_t mistakes = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
      const std::span<const T> x(data.input(i)), y(data.target(i));
      const auto out = p.feedforward(x);
      bool wrong = false;
      for (std::size_t j = 0; j < Outputs; ++j) {
        if (y[j] != T(0) && y[j] != T(1))
          throw std::invalid_argument("nn::learn_perceptron: target " + std::to_string(j) + " of sample " +
                                      std::to_string(i) + " is " + std::to_string(y[j]) + ", expected 0 or 1");
        const T err = y[j] - out[j];
        if (err == T(0)) continue;
        wrong = true;
        for (std::size_t k = 0; k < N; ++k) p.weight(0, j, k) += eta * err * x[k];
        p.bias(0, j) += eta * err;
      }
      mistakes += wrong;
    }
    r.errors.push_back(mistakes);
    r.epochs = e + 1;
    if (mistakes == 0) {
      r.converged = true;
      break;
    }
  }
  return r;
}

}  // namespace nn
