// Getting samples into a model and scoring it: the checks of a data set against a model, the copy of a
// mini-batch's samples into a workspace (detail::gather_rows, bytes converted on the way), nn::is_correct
// and nn::evaluate (on any number of threads, the same count).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/data/dataset.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/detail/thread_team.hpp"
#include "nn/fwd.hpp"
#include "nn/matrix.hpp"

namespace nn {

namespace detail {

template <class Net, class Data>
void check_shapes(const Data& d, const char* what) {
  static_assert(data_source<Data, typename Net::value_type>,
                "nn: the data must satisfy nn::data_source<Data, T>: size(), input_size(), output_size(), "
                "input(i) and target(i) as contiguous ranges of T (see docs/policies.md)");
  if constexpr (detail::static_inputs<Data>() != dynamic) detail::check_input_size<Net::inputs, detail::static_inputs<Data>()>();
  if constexpr (detail::static_outputs<Data>() != dynamic) detail::check_output_size<Net::outputs, detail::static_outputs<Data>()>();
  detail::check_sizes<Net>(d.input_size(), d.output_size(), std::string("nn: the ") + what + " data");
}

// Copies samples idx[0..m) into the workspace's input and target rows first, first + 1, … (padding stays
// zero); bytes of a byte_input_source are converted on the way. The count is the network's input width, a
// compile-time constant, so GCC vectorises the conversion at full width with no scalar tail at -O3, and
// even at -O2 (GCC 12's very cheap cost model, which allows no tail) when the width is a multiple of 16,
// as 784 is.
template <class Net, class Data>
void gather_rows(const Data& d, std::span<const std::size_t> idx, typename Net::workspace& ws, std::size_t first) {
  using T = typename Net::value_type;
  constexpr bool computed = computed_input_source<Data, T>;
  constexpr bool bytes = !computed && byte_input_source<Data, T>;
  T scale = T(1);
  if constexpr (bytes) scale = static_cast<T>(d.input_scale());
  auto x = ws.template a<0>(first, idx.size());
  auto y = ws.target(first, idx.size());
  for (std::size_t r = 0; r < idx.size(); ++r) {
    const auto out = std::span<const T>(d.target(idx[r]));
    if constexpr (computed) {
      // input_size() was checked against the network when training or evaluation began.
      if (out.size() != Net::outputs)
        detail::check_sizes<Net>(Net::inputs, out.size(), "nn: sample " + std::to_string(idx[r]) + " of the data");
      d.write_input(idx[r], std::span<T>(x.row_data(r), Net::inputs));
    } else {
      using in_type = std::conditional_t<bytes, std::uint8_t, T>;
      const auto in = std::span<const in_type>(d.input(idx[r]));
      if (in.size() != Net::inputs || out.size() != Net::outputs)
        detail::check_sizes<Net>(in.size(), out.size(), "nn: sample " + std::to_string(idx[r]) + " of the data");
      if constexpr (bytes) detail::bytes_to_values(in.data(), Net::inputs, scale, x.row_data(r));
      else std::copy_n(in.data(), Net::inputs, x.row_data(r));
    }
    std::copy_n(out.data(), Net::outputs, y.row_data(r));
  }
}

// The same into rows 0..m), which become the workspace's mini-batch.
template <class Net, class Data>
void gather(const Data& d, std::span<const std::size_t> idx, typename Net::workspace& ws) {
  ws.set_rows(idx.size());
  gather_rows<Net>(d, idx, ws, 0);
}

// Asks the memory system for samples idx[…]'s inputs, which the next mini-batch will read: shuffled
// samples are scattered over the whole data set, so without this every one is a cache miss.
template <class Data>
void prefetch_inputs(const Data& d, std::span<const std::size_t> idx) {
  for (const std::size_t i : idx) {
    if constexpr (requires { d.prefetch_input(i); }) {
      d.prefetch_input(i);  // a source that computes its inputs knows what it will read
    } else if constexpr (requires { d.input(i); }) {
      prefetch_to_l2(d.input(i));
    }
  }
}

// The index of the first largest of v[0..n) (0 if n is 0), as std::max_element gives it, without a branch per
// value: the trainer scores every training sample, and on 784-30-10 at mini-batch 10 max_element's
// unpredictable branches took 2.5 % of training.
template <class T>
std::size_t argmax(const T* v, std::size_t n) {
  if (n == 0) return 0;
  std::size_t best = 0;
  T top = v[0];
  for (std::size_t i = 1; i < n; ++i) {
    const bool more = top < v[i];
    best = more ? i : best;
    top = more ? v[i] : top;
  }
  return best;
}


}  // namespace detail

// Whether the network's output for a sample counts as correct: the largest output is at the target's
// largest value (the course's rule for one-hot labels); with a single output, output and target are
// on the same side of 0.5. A data source with a member is_correct(output, target) (spans of T) decides
// for its own samples instead, e.g. targets that encode the class in binary (docs/policies.md).
template <class T>
bool is_correct(std::span<const T> output, std::span<const T> target) {
  if (output.size() == 1) return (output[0] > T(0.5)) == (target[0] > T(0.5));
  return detail::argmax(output.data(), output.size()) == detail::argmax(target.data(), target.size());
}

namespace detail {

// How many of the workspace's rows [0, m) the network got right: their outputs against their targets, by
// the data's own rule when it has one (the trainer counts its training samples so, as evaluation does).
template <class Net, class Data>
std::size_t correct_rows(const Data& data, typename Net::workspace& ws, std::size_t m) {
  using T = typename Net::value_type;
  std::size_t correct = 0;
  for (std::size_t r = 0; r < m; ++r) {
    const std::span<const T> out(ws.output().row_data(r), Net::outputs), target(ws.target().row_data(r), Net::outputs);
    if constexpr (requires { { data.is_correct(out, target) } -> std::convertible_to<bool>; }) {
      correct += static_cast<bool>(data.is_correct(out, target));  // the data knows its own encoding
    } else {
      // A member of that name that cannot be called so would be ignored without a word, and the
      // accuracy counted by the wrong rule.
      static_assert(!requires { &Data::is_correct; },
                    "nn: the data's is_correct member must be callable as "
                    "bool is_correct(std::span<const T> output, std::span<const T> target) const");
      correct += is_correct<T>(out, target);
    }
  }
  return correct;
}

// The correct count over samples [first, last) of data, in chunks of a workspace's rows.
template <class Net, class Data>
std::size_t count_correct(const Net& net, const Data& data, std::size_t first, std::size_t last,
                          typename Net::workspace& ws) {
  const std::size_t chunk = ws.capacity();
  std::vector<std::size_t> idx(chunk);
  std::size_t correct = 0;
  for (std::size_t s0 = first; s0 < last; s0 += chunk) {
    const std::size_t m = std::min(chunk, last - s0);
    std::iota(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(m), s0);
    detail::gather<Net>(data, std::span<const std::size_t>(idx.data(), m), ws);
    net.template forward<false>(ws);
    correct += correct_rows<Net>(data, ws, m);
  }
  return correct;
}

// Workspaces for evaluation, one per member of a team: made once per training run (allocating them
// every epoch costs page faults: a 64-row workspace of 784-30-10 is 240 KB).
template <class Net>
std::vector<typename Net::workspace> evaluation_workspaces(std::size_t members) {
  constexpr std::size_t chunk = 48;  // rows converted and fed forward at a time
  return std::vector<typename Net::workspace>(members, typename Net::workspace(chunk));
}

// The same over samples [first, last) of data (all by default), the team's members taking one contiguous
// part each.
template <class Net, class Data>
std::size_t evaluate_on(thread_team& team, const Net& net, const Data& data, std::vector<typename Net::workspace>& ws,
                        std::size_t first = 0, std::size_t last = static_cast<std::size_t>(-1)) {
  std::vector<std::size_t> correct(team.size());
  last = std::min(last, data.size());
  const std::size_t n = last - first, parts = team.size();
  team.run([&](std::size_t t) { correct[t] = count_correct(net, data, first + n * t / parts, first + n * (t + 1) / parts, ws[t]); });
  return std::accumulate(correct.begin(), correct.end(), std::size_t{0});
}

}  // namespace detail

// How many samples of `data` the network classifies correctly (see is_correct), on `threads` threads
// (each takes a contiguous part of the data; the count is the same for any number).
template <class Net, class Data>
std::size_t evaluate(const Net& net, const Data& data, std::size_t threads = 1) {
  detail::check_shapes<Net>(data, "test");
  auto ws = detail::evaluation_workspaces<Net>(std::min(std::max<std::size_t>(threads, 1), std::max<std::size_t>(1, data.size() / 256)));
  if (ws.size() == 1) return detail::count_correct(net, data, 0, data.size(), ws[0]);
  detail::thread_team team(ws.size());
  return detail::evaluate_on(team, net, data, ws);
}

// Runs the network over every sample of `data` (a data_source: inputs of T, or bytes converted as the
// trainer converts them) and calls f(i, output) with sample i's outputs (a std::span<const T, outputs>),
// in order. A chunk of 256 samples at a time goes through predict into storage made once: a program that
// scores a test set class by class needs nothing else.
template <class Net, class Data, class F>
void for_each_output(const Net& net, const Data& data, F&& f) {
  using T = typename Net::value_type;
  // Only the inputs must fit: the targets are the caller's business (a 4-output code scored by label).
  if constexpr (detail::static_inputs<Data>() != dynamic) detail::check_input_size<Net::inputs, detail::static_inputs<Data>()>();
  detail::check_inputs(data.input_size(), Net::inputs, "nn::for_each_output: the data");
  constexpr std::size_t chunk = 256;
  const std::size_t rows = std::min(chunk, data.size());
  if (rows == 0) return;
  matrix<T, dynamic, Net::inputs> x(rows);
  matrix<T, dynamic, Net::outputs> out(rows);
  for (std::size_t s0 = 0; s0 < data.size(); s0 += chunk) {
    const std::size_t m = std::min(chunk, data.size() - s0);
    for (std::size_t r = 0; r < m; ++r) copy_input(data, s0 + r, x.row(r));
    net.predict(matrix_ref<const T, dynamic, Net::inputs>(x.data(), m), matrix_ref<T, dynamic, Net::outputs>(out.data(), m));
    for (std::size_t r = 0; r < m; ++r) f(s0 + r, std::span<const T, Net::outputs>(out.view().row_data(r), Net::outputs));
  }
}

}  // namespace nn
