// In-memory data sets, and the interface through which the trainer reads any data source.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__FMA__) && (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>  // bytes_to_values
#endif

#include "nn/detail/aligned_buffer.hpp"
#include "nn/fwd.hpp"
#include "nn/random.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

// Inputs stored as bytes (docs/policies.md): input(i) is a contiguous range of std::uint8_t, and a byte b
// stands for the value static_cast<T>(b) / static_cast<T>(input_scale()), computed in T. Images take a
// quarter of the memory of floats, and since nn computes exactly that expression (an IEEE division, not a
// multiplication by a rounded reciprocal), the values are bit for bit those of a loader that stores
// T(b) / T(scale) itself, such as load_idx.
template <class S, class T>
concept byte_input_source = requires(const S& s, std::size_t i) {
  { s.input(i) } -> std::convertible_to<std::span<const std::uint8_t>>;
  { s.input_scale() } -> std::convertible_to<T>;
};

// Inputs made on demand (docs/policies.md): write_input(i, out) writes sample i's input_size() values of T
// into out, e.g. an image shifted or rotated from a stored one (nn::expanded_images), so that a larger data
// set costs no copy. It is called from several threads at once, each with its own out.
template <class S, class T>
concept computed_input_source = requires(const S& s, std::size_t i, std::span<T> out) { s.write_input(i, out); };

// What the trainer needs from training or test data (docs/policies.md): a count, the width of an
// input and of a target, sample i's target as contiguous values of T, and its input as contiguous values
// of T, as bytes (byte_input_source) or written on demand (computed_input_source). Write your own loader to
// this and pass it to trainer::fit or nn::evaluate as it is.
template <class S, class T>
concept data_source = requires(const S& s, std::size_t i) {
  { s.size() } -> std::convertible_to<std::size_t>;
  { s.input_size() } -> std::convertible_to<std::size_t>;
  { s.output_size() } -> std::convertible_to<std::size_t>;
  { s.target(i) } -> std::convertible_to<std::span<const T>>;
} && (requires(const S& s, std::size_t i) {
  { s.input(i) } -> std::convertible_to<std::span<const T>>;
} || byte_input_source<S, T> || computed_input_source<S, T>);

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

// Asks the memory system for a sample's input, which the next mini-batch will read, into the L2 cache
// (prefetcht2, locality 1), not L1: a step's kernels stream their weights through L1 before the next gather,
// and on the Zen 4 host prefetching into L1 trained 784-30-10 at mini-batch 10 about 10 % slower
// (docs/benchmarks.md, "The next mini-batch into L2").
template <class R>
void prefetch_to_l2(const R& in) noexcept {
  const auto* p = reinterpret_cast<const char*>(std::data(in));
  const std::size_t bytes = std::size(in) * sizeof(*std::data(in));
  for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 1);
}

// T(b) / scale without a division (with r = 1 / scale): q = b·r, then one correction step with the residual
// b − q·scale, which an FMA computes exactly (Markstein's). It equals the division for all 256 bytes
// and almost every scale (all of 20,000 random ones); bytes_to_values checks that for its scale.
template <class T>
inline T byte_by_reciprocal(T b, T scale, T r) noexcept {
  const T q = b * r;
  return std::fma(std::fma(-q, scale, b), r, q);
}

// Whether byte_by_reciprocal gives the bits of T(b) / scale for every byte b: worked out once per scale and
// thread (each thread remembers its last scale). Only for a scale whose reciprocal is a normal number: then
// no value of either form (1/scale ≤ b/scale ≤ 255/scale, the residual) is subnormal, so the answer holds
// whether or not the thread flushes subnormals (training steps do: nn/detail/float_env.hpp). Like the rest
// of nn, it assumes the default rounding (to nearest).
template <class T>
bool reciprocal_is_exact(T scale) noexcept {
  thread_local T last = T(0);  // 0: never exact (b / 0 is ∞ or NaN)
  thread_local bool exact = false;
  if (!(scale == last)) {
    const T r = T(1) / scale;
    const T big = std::numeric_limits<T>::max() / 256;  // 255/scale, and 255 itself, stay finite
    exact = std::fabs(r) >= std::numeric_limits<T>::min() && std::fabs(r) <= big;
    for (int b = 0; b < 256; ++b) {
      const T x = static_cast<T>(b), fast = byte_by_reciprocal(x, scale, r), slow = x / scale;
      exact = exact && fast == slow && std::signbit(fast) == std::signbit(slow);
    }
    last = scale;
  }
  return exact;
}

// A register of floats from bytes, each byte_by_reciprocal (16 floats with AVX-512, 8 with AVX2; GCC at
// -O2 would convert 4 at a time).
#if defined(__FMA__) && defined(__AVX512F__)
inline constexpr std::size_t floats_per_block = 16;
inline void bytes_to_floats_block(const std::uint8_t* in, float scale, float r, float* out) noexcept {
  const __m512 x = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
  const __m512 q = _mm512_mul_ps(x, _mm512_set1_ps(r));
  _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_fnmadd_ps(q, _mm512_set1_ps(scale), x), _mm512_set1_ps(r), q));
}
#elif defined(__FMA__) && defined(__AVX2__)
inline constexpr std::size_t floats_per_block = 8;
inline void bytes_to_floats_block(const std::uint8_t* in, float scale, float r, float* out) noexcept {
  const __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in))));
  const __m256 q = _mm256_mul_ps(x, _mm256_set1_ps(r));
  _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_fnmadd_ps(q, _mm256_set1_ps(scale), x), _mm256_set1_ps(r), q));
}
#else
inline constexpr std::size_t floats_per_block = 1;
inline void bytes_to_floats_block(const std::uint8_t* in, float scale, float r, float* out) noexcept {
  *out = byte_by_reciprocal(static_cast<float>(*in), scale, r);
}
#endif

// out[k] = T(in[k]) / scale for k < n: the one place nn turns bytes into values. __restrict because bytes
// may alias anything: without it GCC vectorises only behind a run-time overlap check, and at -O2 not at all.
// Where the CPU has FMAs, the division becomes byte_by_reciprocal, with the same bits (checked for the
// scale): a division per register of floats took 8 % of the time training 784-30-10 at mini-batch 10
// (docs/benchmarks.md, "Where the time goes").
template <class T>
inline void bytes_to_values(const std::uint8_t* __restrict in, std::size_t n, T scale, T* __restrict out) noexcept {
#if defined(__FMA__)
  if (reciprocal_is_exact(scale)) {
    const T r = T(1) / scale;
    std::size_t k = 0;
    if constexpr (std::is_same_v<T, float>) {
      const std::size_t blocks = n / floats_per_block;
      for (std::size_t b = 0; b < blocks; ++b) bytes_to_floats_block(in + b * floats_per_block, scale, r, out + b * floats_per_block);
      k = blocks * floats_per_block;
    }
    for (; k < n; ++k) out[k] = byte_by_reciprocal(static_cast<T>(in[k]), scale, r);
    return;
  }
#endif
  for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<T>(in[k]) / scale;
}
}  // namespace detail

// Writes sample i's input to `out` (input_size() values of T): a copy, or, for a byte_input_source, each
// byte converted exactly as the trainer converts it.
template <class S, class T, std::size_t N>
  requires data_source<S, T>
void copy_input(const S& s, std::size_t i, std::span<T, N> out) {
  if constexpr (computed_input_source<S, T>) {
    if (s.input_size() != out.size())
      throw std::invalid_argument("nn::copy_input: an input of " + std::to_string(s.input_size()) + " values into " +
                                  std::to_string(out.size()));
    s.write_input(i, std::span<T>(out));
  } else if constexpr (byte_input_source<S, T>) {
    const auto in = std::span<const std::uint8_t>(s.input(i));
    if (in.size() != out.size())
      throw std::invalid_argument("nn::copy_input: an input of " + std::to_string(in.size()) + " bytes into " +
                                  std::to_string(out.size()) + " values");
    detail::bytes_to_values(in.data(), in.size(), static_cast<T>(s.input_scale()), out.data());
  } else {
    const auto in = std::span<const T>(s.input(i));
    if (in.size() != out.size())
      throw std::invalid_argument("nn::copy_input: an input of " + std::to_string(in.size()) + " values into " +
                                  std::to_string(out.size()));
    std::copy(in.begin(), in.end(), out.begin());
  }
}

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

// Labelled samples kept compactly for classification: every input is input_size() bytes, all of them in
// one contiguous block, and every label one byte. Byte b stands for b / input_scale() (255 by default: a
// pixel's intensity in [0, 1]), converted per mini-batch by the trainer (byte_input_source), and a
// sample's target is its label's row of a classes x classes one-hot table, so no target is stored per
// sample. 60,000 MNIST images take 47 MB this way, against 188 MB as floats in an nn::dataset, and train
// the same network bit for bit. load_idx_bytes (nn/data/idx.hpp) reads one from IDX files.
template <class T = float>
class byte_dataset {
 public:
  using value_type = T;

  // An empty set of inputs of `inputs` bytes and labels in [0, classes).
  byte_dataset(std::size_t inputs, std::size_t classes, T scale = T(255))
      : byte_dataset(inputs, classes, {}, {}, scale) {}
  // Takes the inputs, labels.size() rows of `inputs` bytes one after another, and one label per input.
  byte_dataset(std::size_t inputs, std::size_t classes, std::vector<std::uint8_t> bytes, std::vector<std::uint8_t> labels,
               T scale = T(255))
      : in_(inputs), classes_(classes), scale_(scale), x_(std::move(bytes)), labels_(std::move(labels)) {
    if (inputs == 0 || classes == 0)
      throw std::invalid_argument("nn::byte_dataset: inputs and classes must be at least 1");
    if (!(scale > T(0))) throw std::invalid_argument("nn::byte_dataset: the scale must be positive");
    if (x_.size() != labels_.size() * in_)
      throw std::invalid_argument("nn::byte_dataset: " + std::to_string(labels_.size()) + " labels need " +
                                  std::to_string(labels_.size() * in_) + " input bytes, got " + std::to_string(x_.size()));
    for (std::size_t i = 0; i < labels_.size(); ++i) check_label(labels_[i]);
    one_hot_.assign(classes_ * classes_, T(0));
    for (std::size_t c = 0; c < classes_; ++c) one_hot_[c * classes_ + c] = T(1);
  }

  std::size_t size() const noexcept { return labels_.size(); }
  bool empty() const noexcept { return labels_.empty(); }
  std::size_t input_size() const noexcept { return in_; }
  std::size_t output_size() const noexcept { return classes_; }
  T input_scale() const noexcept { return scale_; }

  std::span<const std::uint8_t> input(std::size_t i) const { return {x_.data() + check(i) * in_, in_}; }
  std::span<const T> target(std::size_t i) const { return {one_hot_.data() + label(i) * classes_, classes_}; }
  std::size_t label(std::size_t i) const { return labels_[check(i)]; }

  // Appends one sample; the input must have input_size() bytes.
  void add(std::span<const std::uint8_t> x, std::size_t label) {
    if (x.size() != in_)
      throw std::invalid_argument("nn::byte_dataset::add: expected an input of " + std::to_string(in_) + " bytes, got " +
                                  std::to_string(x.size()));
    check_label(label);
    x_.insert(x_.end(), x.begin(), x.end());
    labels_.push_back(static_cast<std::uint8_t>(label));
  }
  void reserve(std::size_t n) {
    x_.reserve(n * in_);
    labels_.reserve(n);
  }
  // n samples; new ones have all input bytes 0 and label 0. Shrinking keeps the storage.
  void resize(std::size_t n) {
    x_.resize(n * in_);
    labels_.resize(n);
  }

 private:
  void check_label(std::size_t label) const {
    if (label >= classes_ || label > 255)
      throw std::invalid_argument("nn::byte_dataset: expected a label from 0 to " +
                                  std::to_string(std::min<std::size_t>(classes_ - 1, 255)) + ", found " +
                                  std::to_string(label));
  }
  std::size_t check(std::size_t i) const {
    if (i >= labels_.size())
      throw std::out_of_range("nn::byte_dataset: sample " + std::to_string(i) + " requested, the data set has " +
                              std::to_string(labels_.size()));
    return i;
  }

  std::size_t in_, classes_;
  T scale_;
  std::vector<std::uint8_t> x_, labels_;
  std::vector<T> one_hot_;
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
template <class T>
byte_dataset<T> subset(const byte_dataset<T>& d, std::span<const std::size_t> indices) {
  byte_dataset<T> out(d.input_size(), d.output_size(), d.input_scale());
  out.reserve(indices.size());
  for (std::size_t i : indices) out.add(d.input(i), d.label(i));
  return out;
}

namespace detail {
// The data set types that split_at and split take: those that nn::subset copies samples out of.
template <class D>
concept subsettable = requires(const D& d, std::span<const std::size_t> indices) {
  { subset(d, indices) } -> std::same_as<D>;
};

inline void check_split_at(std::size_t count, std::size_t size) {
  if (count > size)
    throw std::invalid_argument("nn::split_at: " + std::to_string(count) + " samples asked of a data set of " +
                                std::to_string(size));
}

// The samples at order[0, count) and at order[count, end).
template <class D>
std::pair<D, D> split_by(const D& d, const std::vector<std::size_t>& order, std::size_t count) {
  return {subset(d, std::span<const std::size_t>(order.data(), count)),
          subset(d, std::span<const std::size_t>(order.data() + count, order.size() - count))};
}
}  // namespace detail

// The first `count` samples and the rest, in order: the course's split of MNIST's 60,000 training
// images into 50,000 for training and 10,000 for validation is split_at(train, 50000). For an
// nn::dataset or an nn::byte_dataset.
template <detail::subsettable D>
std::pair<D, D> split_at(const D& d, std::size_t count) {
  detail::check_split_at(count, d.size());
  std::vector<std::size_t> idx(d.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  return detail::split_by(d, idx, count);
}

// The same for a data set not needed afterwards, split_at(std::move(d), count): the first part keeps d's
// storage and only the rest is copied, so splitting takes the memory of the rest, not of a second copy
// of the whole set.
template <detail::subsettable D>
  requires(!std::is_reference_v<D> && requires(D& d, std::size_t n) { d.resize(n); })
std::pair<D, D> split_at(D&& d, std::size_t count) {
  detail::check_split_at(count, d.size());
  std::vector<std::size_t> idx(d.size() - count);
  std::iota(idx.begin(), idx.end(), count);
  D rest = subset(d, std::span<const std::size_t>(idx));
  d.resize(count);
  return {std::move(d), std::move(rest)};
}

// A seeded random split: the first part gets `count` samples (an integer) or round(fraction · size)
// samples (a floating-point number in [0, 1]), drawn at random; the second part gets the rest. The same
// seed picks the same sample indices in any data set of the same size.
template <detail::subsettable D, class N>
  requires std::is_arithmetic_v<N>
std::pair<D, D> split(const D& d, N count_or_fraction, std::uint64_t seed) {
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
