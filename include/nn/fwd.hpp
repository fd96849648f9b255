// Forward declarations of nn's main types, for headers that only name them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace nn {

// Marks a size known only at run time (a mini-batch's rows, a data set's width read from a file).
inline constexpr std::size_t dynamic = std::numeric_limits<std::size_t>::max();

struct sigmoid;
struct step;
struct identity;
struct tanh;
struct relu;
struct quadratic_cost;
struct squared_error;
struct normal_init;
struct scaled_normal_init;
struct sgd;
class rng;

template <class T = float, class Hidden = sigmoid, class Output = Hidden>
struct policies;
template <class Policies, std::size_t... Sizes>
class basic_network;
template <std::size_t... Sizes>
using network = basic_network<policies<>, Sizes...>;

template <class T, std::size_t Rows, std::size_t Cols>
class matrix;
template <class T, std::size_t Rows, std::size_t Cols>
class matrix_ref;

template <class T = float, std::size_t Inputs = dynamic, std::size_t Outputs = dynamic>
class dataset;

template <class Optimizer = sgd, class Cost = quadratic_cost>
class trainer;

// Dropout for one training step (Srivastava et al. 2014, "inverted" as in Keras): every hidden unit of
// every sample is dropped (output 0, no error passed back) with probability `rate`, and the kept ones are
// scaled by 1/(1 − rate), so nothing changes at inference. The mask is a hash of `key`, the sample's row in
// the mini-batch, the layer and the unit: the trainer draws a new key every step (trainer::dropout).
struct dropout {
  double rate = 0;
  std::uint64_t key = 0;
  // Rows of the mini-batch before the ones in hand: training over processes (trainer::processes, nn::process_group in nn/executor.hpp) gives each
  // process a part of every mini-batch, and a row's mask follows its place in the whole mini-batch.
  std::size_t row_offset = 0;
};

}  // namespace nn
