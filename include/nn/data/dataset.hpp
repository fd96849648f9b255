// In-memory data sets, and the interface through which the trainer reads any data source.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/detail/aligned_buffer.hpp"
#include "nn/fwd.hpp"
#include "nn/random.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

// What the trainer needs from training or test data (docs/policies.md): a count, the width of an
// input and of a target, and sample i's input and target as contiguous values. Write your own loader
// to this and pass it to trainer::fit or nn::evaluate as it is.
template <class S, class T>
concept data_source = requires(const S& s, std::size_t i) {
  { s.size() } -> std::convertible_to<std::size_t>;
  { s.input_size() } -> std::convertible_to<std::size_t>;
  { s.output_size() } -> std::convertible_to<std::size_t>;
  { s.input(i) } -> std::convertible_to<std::span<const T>>;
  { s.target(i) } -> std::convertible_to<std::span<const T>>;
};

namespace detail {
// Inputs and outputs of a data source, when its type fixes them at compile time.
template <class S>
constexpr std::size_t static_inputs() {
  if constexpr (requires { S::static_inputs; }) return S::static_inputs;
  else return dynamic;
}
template <class S>
constexpr std::size_t static_outputs() {
  if constexpr (requires { S::static_outputs; }) return S::static_outputs;
  else return dynamic;
}
}  // namespace detail

// Samples of Inputs values with targets of Outputs values, stored compactly: all inputs in one
// contiguous aligned block, all targets in another, one padded row per sample. Inputs and Outputs may
// be nn::dynamic (known when loading a file); when they are fixed, a network of other sizes is a
// compile error.
template <class T, std::size_t Inputs, std::size_t Outputs>
class dataset {
 public:
  using value_type = T;
  static constexpr std::size_t static_inputs = Inputs;
  static constexpr std::size_t static_outputs = Outputs;

  dataset()
    requires(Inputs != dynamic && Outputs != dynamic)
      : dataset(Inputs, Outputs) {}
  dataset(std::size_t inputs, std::size_t outputs)
      : in_(inputs), out_(outputs), in_stride_(padded(inputs)), out_stride_(padded(outputs)) {
    if (inputs == 0 || outputs == 0) throw std::invalid_argument("nn::dataset: inputs and outputs must be at least 1");
    if ((Inputs != dynamic && inputs != Inputs) || (Outputs != dynamic && outputs != Outputs))
      throw std::invalid_argument("nn::dataset: sizes " + std::to_string(inputs) + " x " + std::to_string(outputs) +
                                  " differ from the type's " + std::to_string(Inputs) + " x " +
                                  std::to_string(Outputs));
  }

  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  std::size_t input_size() const noexcept { return in_; }
  std::size_t output_size() const noexcept { return out_; }

  std::span<const T> input(std::size_t i) const { return {x_.data() + check(i) * in_stride_, in_}; }
  std::span<const T> target(std::size_t i) const { return {y_.data() + check(i) * out_stride_, out_}; }
  std::span<T> input(std::size_t i) { return {x_.data() + check(i) * in_stride_, in_}; }
  std::span<T> target(std::size_t i) { return {y_.data() + check(i) * out_stride_, out_}; }

  // Appends one sample; the sizes must match the data set's.
  void add(std::span<const T> x, std::span<const T> y) {
    if (x.size() != in_ || y.size() != out_)
      throw std::invalid_argument("nn::dataset::add: expected an input of " + std::to_string(in_) +
                                  " values and a target of " + std::to_string(out_) + ", got " +
                                  std::to_string(x.size()) + " and " + std::to_string(y.size()));
    if (n_ == capacity_) reserve(capacity_ ? 2 * capacity_ : 16);
    std::memcpy(x_.data() + n_ * in_stride_, x.data(), in_ * sizeof(T));
    std::memcpy(y_.data() + n_ * out_stride_, y.data(), out_ * sizeof(T));
    ++n_;
  }
  void add(std::initializer_list<T> x, std::initializer_list<T> y) {
    add(std::span<const T>(x.begin(), x.size()), std::span<const T>(y.begin(), y.size()));
  }

  // Makes room for n samples in total (existing samples are kept).
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    detail::aligned_buffer<T> x(n * in_stride_), y(n * out_stride_);
    if (n_) {
      std::memcpy(x.data(), x_.data(), n_ * in_stride_ * sizeof(T));
      std::memcpy(y.data(), y_.data(), n_ * out_stride_ * sizeof(T));
    }
    x_.swap(x);
    y_.swap(y);
    capacity_ = n;
  }
  // n samples, new ones all zero: for loaders that fill input(i) and target(i) in place.
  void resize(std::size_t n) {
    reserve(n);
    if (n > n_) {
      std::memset(x_.data() + n_ * in_stride_, 0, (n - n_) * in_stride_ * sizeof(T));
      std::memset(y_.data() + n_ * out_stride_, 0, (n - n_) * out_stride_ * sizeof(T));
    }
    n_ = n;
  }

 private:
  static std::size_t padded(std::size_t n) noexcept {
    constexpr std::size_t w = simd::width<T>;
    return (n + w - 1) / w * w;
  }
  std::size_t check(std::size_t i) const {
    if (i >= n_)
      throw std::out_of_range("nn::dataset: sample " + std::to_string(i) + " requested, the data set has " +
                              std::to_string(n_));
    return i;
  }

  std::size_t in_, out_, in_stride_, out_stride_;
  std::size_t n_ = 0, capacity_ = 0;
  detail::aligned_buffer<T> x_, y_;
};

// The samples of `d` at `indices`, in that order.
template <class T, std::size_t In, std::size_t Out>
dataset<T, In, Out> subset(const dataset<T, In, Out>& d, std::span<const std::size_t> indices) {
  dataset<T, In, Out> out(d.input_size(), d.output_size());
  out.resize(indices.size());
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const auto x = d.input(indices[r]);
    const auto y = d.target(indices[r]);
    std::copy(x.begin(), x.end(), out.input(r).begin());
    std::copy(y.begin(), y.end(), out.target(r).begin());
  }
  return out;
}

namespace detail {
// The samples at order[0, count) and at order[count, end).
template <class T, std::size_t In, std::size_t Out>
std::pair<dataset<T, In, Out>, dataset<T, In, Out>> split_by(const dataset<T, In, Out>& d,
                                                             const std::vector<std::size_t>& order, std::size_t count) {
  return {subset(d, std::span<const std::size_t>(order.data(), count)),
          subset(d, std::span<const std::size_t>(order.data() + count, order.size() - count))};
}
}  // namespace detail

// The first `count` samples and the rest, in order: the course's split of MNIST's 60,000 training
// images into 50,000 for training and 10,000 for validation is split_at(train, 50000).
template <class T, std::size_t In, std::size_t Out>
std::pair<dataset<T, In, Out>, dataset<T, In, Out>> split_at(const dataset<T, In, Out>& d, std::size_t count) {
  if (count > d.size())
    throw std::invalid_argument("nn::split_at: " + std::to_string(count) + " samples asked of a data set of " +
                                std::to_string(d.size()));
  std::vector<std::size_t> idx(d.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  return detail::split_by(d, idx, count);
}

// A seeded random split: the first part gets `count` samples (an integer) or round(fraction · size)
// samples (a floating-point number in [0, 1]), drawn at random; the second part gets the rest.
template <class T, std::size_t In, std::size_t Out, class N>
  requires std::is_arithmetic_v<N>
std::pair<dataset<T, In, Out>, dataset<T, In, Out>> split(const dataset<T, In, Out>& d, N count_or_fraction,
                                                          std::uint64_t seed) {
  std::size_t count;
  if constexpr (std::is_floating_point_v<N>) {
    if (!(count_or_fraction >= 0 && count_or_fraction <= 1))
      throw std::invalid_argument("nn::split: the fraction must be in [0, 1], got " + std::to_string(count_or_fraction));
    count = static_cast<std::size_t>(std::llround(static_cast<double>(count_or_fraction) * static_cast<double>(d.size())));
  } else {
    if (count_or_fraction < 0 || static_cast<std::size_t>(count_or_fraction) > d.size())
      throw std::invalid_argument("nn::split: " + std::to_string(count_or_fraction) + " samples asked of a data set of " +
                                  std::to_string(d.size()));
    count = static_cast<std::size_t>(count_or_fraction);
  }
  std::vector<std::size_t> idx(d.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  rng r(seed);
  r.shuffle(std::span<std::size_t>(idx));
  return detail::split_by(d, idx, count);
}

}  // namespace nn
