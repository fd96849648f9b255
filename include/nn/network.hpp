// nn's umbrella header, and the network type: a fully connected feed-forward network whose layer
// sizes are template arguments. Where a training step lives: trainer::fit (nn/train.hpp) gathers a
// mini-batch, then basic_network::backprop (below) runs forward, output error, backward and the update.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "nn/activation.hpp"
#include "nn/cost.hpp"
#include "nn/data/dataset.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/fwd.hpp"
#include "nn/init.hpp"
#include "nn/matrix.hpp"
#include "nn/optimizer.hpp"
#include "nn/random.hpp"
#include "nn/simd/kernels.hpp"
#include "nn/train.hpp"

namespace nn {

// The element type and activations of a network. Hidden is used by every layer but the last.
template <class T, class Hidden, class Output>
struct policies {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "nn::policies: the element type must be float or double");
  static_assert(activation_for<Hidden, T>,
                "nn::policies: Hidden must satisfy nn::activation_for<Hidden, T> (members f(z) and df(z, a) "
                "for T and nn::simd::batch<T>; a row-wise activation such as nn::softmax can only be the output "
                "layer's; see docs/policies.md)");
  static_assert(output_activation_for<Output, T>,
                "nn::policies: Output must satisfy nn::activation_for<Output, T> (members f(z) and df(z, a) "
                "for T and nn::simd::batch<T>) or nn::row_activation_for<Output, T> (member rows(z, a)); see "
                "docs/policies.md");
  using value_type = T;
  using hidden_activation = Hidden;
  using output_activation = Output;
};

namespace detail {

constexpr std::size_t round_up(std::size_t n, std::size_t w) { return (n + w - 1) / w * w; }

}  // namespace detail

template <class Policies, std::size_t... Sizes>
class basic_network {
  static_assert(sizeof...(Sizes) >= 2,
                "nn::network needs at least two layer sizes, inputs then outputs, e.g. nn::network<784, 30, 10>");
  static_assert(((Sizes > 0) && ...), "nn::network: every layer size must be at least 1");

 public:
  using value_type = typename Policies::value_type;
  using hidden_activation = typename Policies::hidden_activation;
  using output_activation = typename Policies::output_activation;
  using T = value_type;

  static constexpr std::array<std::size_t, sizeof...(Sizes)> sizes{Sizes...};
  static constexpr std::size_t layer_count = sizeof...(Sizes) - 1;  // layers of weights
  static constexpr std::size_t inputs = sizes.front();
  static constexpr std::size_t outputs = sizes.back();

  // Input-major weights of layer L (0-based): rows are the sizes[L] inputs, columns the sizes[L+1] neurons.
  template <std::size_t L>
  using weight_ref = matrix_ref<T, sizes[L], sizes[L + 1]>;

 private:
  static constexpr std::size_t W = simd::width<T>;
  static constexpr std::array<std::size_t, sizeof...(Sizes)> strides{detail::round_up(Sizes, W)...};
  static constexpr std::array<std::size_t, layer_count + 1> offsets = [] {
    std::array<std::size_t, layer_count + 1> o{};
    for (std::size_t l = 0; l < layer_count; ++l) o[l + 1] = o[l] + (sizes[l] + 1) * strides[l + 1];
    return o;
  }();
  static constexpr std::size_t weight_offset(std::size_t l) { return offsets[l]; }
  static constexpr std::size_t bias_offset(std::size_t l) { return offsets[l] + sizes[l] * strides[l + 1]; }

  template <class F>
  static void for_layers(F&& f) { simd::detail::static_for<layer_count>(f); }
  template <class F>
  static void for_layers_reversed(F&& f) {
    simd::detail::static_for<layer_count>([&](auto k) { f(std::integral_constant<std::size_t, layer_count - 1 - k>{}); });
  }
  template <std::size_t L>
  using activation_of = std::conditional_t<L + 1 == layer_count, output_activation, hidden_activation>;

 public:
  // Weights and biases that are real (padding excluded), and the storage they take with padding.
  static constexpr std::size_t parameter_count = [] {
    std::size_t n = 0;
    for (std::size_t l = 0; l < layer_count; ++l) n += (sizes[l] + 1) * sizes[l + 1];
    return n;
  }();
  static constexpr std::size_t parameter_storage = offsets[layer_count];

  // Buffers for one mini-batch of up to `capacity` samples: inputs, targets, weighted inputs z,
  // activations a and errors delta of every layer. Reused from batch to batch.
  class workspace {
   public:
    explicit workspace(std::size_t capacity) : capacity_(capacity), rows_(capacity) {
      if (capacity == 0) throw std::invalid_argument("nn: a mini-batch needs at least one sample");
      std::size_t n = 0;
      for (std::size_t l = 0; l <= layer_count; ++l) {
        a_off_[l] = n;
        n += capacity * strides[l];
        if (l == 0) continue;  // the inputs have no z and no error
        z_off_[l] = n;
        n += capacity * strides[l];
        d_off_[l] = n;
        n += capacity * strides[l];
      }
      // Dropout (hidden layers only): each hidden layer's mask (0 or 1/(1 − p) per unit) and its
      // activations after the mask, which the next layer reads; a keeps f(z) for the derivative.
      for (std::size_t l = 1; l < layer_count; ++l) {
        k_off_[l] = n;
        n += capacity * strides[l];
        x_off_[l] = n;
        n += capacity * strides[l];
      }
      y_off_ = n;
      n += capacity * strides.back();
      cost_off_ = n;
      n += detail::round_up(capacity, W);
      buf_ = detail::aligned_buffer<T>(n);
    }
    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t rows() const noexcept { return rows_; }
    // Samples in the current mini-batch (at most capacity()).
    void set_rows(std::size_t m) {
      if (m == 0 || m > capacity_)
        throw std::invalid_argument("nn: mini-batch of " + std::to_string(m) + " samples in a workspace for " +
                                    std::to_string(capacity_));
      rows_ = m;
    }
    matrix_ref<T, dynamic, inputs> input() noexcept { return a<0>(); }
    matrix_ref<T, dynamic, outputs> target() noexcept { return {buf_.data() + y_off_, rows_}; }
    matrix_ref<T, dynamic, outputs> output() noexcept { return a<layer_count>(); }
    template <std::size_t L>
    matrix_ref<T, dynamic, sizes[L]> a() noexcept { return {buf_.data() + a_off_[L], rows_}; }
    template <std::size_t L>
      requires(L > 0)
    matrix_ref<T, dynamic, sizes[L]> z() noexcept { return {buf_.data() + z_off_[L], rows_}; }
    template <std::size_t L>
      requires(L > 0)
    matrix_ref<T, dynamic, sizes[L]> delta() noexcept { return {buf_.data() + d_off_[L], rows_}; }
    // Rows [first, first + count) of the same buffers, for threads that share a mini-batch.
    template <std::size_t L>
    matrix_ref<T, dynamic, sizes[L]> a(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + a_off_[L] + first * strides[L], count};
    }
    template <std::size_t L>
      requires(L > 0)
    matrix_ref<T, dynamic, sizes[L]> z(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + z_off_[L] + first * strides[L], count};
    }
    template <std::size_t L>
      requires(L > 0)
    matrix_ref<T, dynamic, sizes[L]> delta(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + d_off_[L] + first * strides[L], count};
    }
    matrix_ref<T, dynamic, outputs> target(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + y_off_ + first * strides.back(), count};
    }
    // The cost of each sample of the last backprop (Σ_o of the cost's value), in row order.
    T* row_costs() noexcept { return buf_.data() + cost_off_; }
    // With dropout, hidden layer L's mask and its activations after the mask (see nn::dropout).
    template <std::size_t L>
      requires(L > 0 && L < layer_count)
    matrix_ref<T, dynamic, sizes[L]> mask(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + k_off_[L] + first * strides[L], count};
    }
    template <std::size_t L>
      requires(L > 0 && L < layer_count)
    matrix_ref<T, dynamic, sizes[L]> dropped(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + x_off_[L] + first * strides[L], count};
    }

   private:
    std::size_t capacity_, rows_;
    std::array<std::size_t, layer_count + 1> a_off_{}, z_off_{}, d_off_{}, k_off_{}, x_off_{};
    std::size_t y_off_ = 0, cost_off_ = 0;
    detail::aligned_buffer<T> buf_;
  };

  // All weights and biases zero (set them by hand, e.g. a perceptron, or call initialize).
  basic_network() : params_(parameter_storage) {}
  // Random parameters from `init` (default: the course's N(0, 1)) drawn from nn::rng(seed).
  template <initializer Init = normal_init>
  explicit basic_network(std::uint64_t seed, Init init = {}) : params_(parameter_storage) {
    rng r(seed);
    initialize(r, init);
  }

  // Draws every bias, layer by layer, then every weight, neuron by neuron (the course's order).
  template <initializer Init = normal_init>
  void initialize(rng& r, Init init = {}) {
    for (std::size_t l = 0; l < layer_count; ++l)
      for (std::size_t j = 0; j < sizes[l + 1]; ++j) bias(l, j) = static_cast<T>(init.bias(r, sizes[l], sizes[l + 1]));
    for (std::size_t l = 0; l < layer_count; ++l)
      for (std::size_t j = 0; j < sizes[l + 1]; ++j)
        for (std::size_t k = 0; k < sizes[l]; ++k) weight(l, j, k) = static_cast<T>(init.weight(r, sizes[l], sizes[l + 1]));
  }

  // The course's w^{l+1}_{jk}: the weight from neuron k of layer `l` to neuron j of layer l+1, with
  // layer 0 the inputs. Bounds are checked.
  T& weight(std::size_t l, std::size_t j, std::size_t k) { return params_.data()[weight_index(l, j, k)]; }
  T weight(std::size_t l, std::size_t j, std::size_t k) const { return params_.data()[weight_index(l, j, k)]; }
  // The course's b^{l+1}_j: the bias of neuron j of layer l+1.
  T& bias(std::size_t l, std::size_t j) { return params_.data()[bias_index(l, j)]; }
  T bias(std::size_t l, std::size_t j) const { return params_.data()[bias_index(l, j)]; }

  template <std::size_t L>
  weight_ref<L> weights() noexcept { return {params_.data() + weight_offset(L)}; }
  template <std::size_t L>
  matrix_ref<const T, sizes[L], sizes[L + 1]> weights() const noexcept { return {params_.data() + weight_offset(L)}; }
  template <std::size_t L>
  std::span<T, sizes[L + 1]> biases() noexcept { return std::span<T, sizes[L + 1]>(params_.data() + bias_offset(L), sizes[L + 1]); }
  template <std::size_t L>
  std::span<const T, sizes[L + 1]> biases() const noexcept {
    return std::span<const T, sizes[L + 1]>(params_.data() + bias_offset(L), sizes[L + 1]);
  }

  // Every parameter in storage order, padding included (padding is always zero and has zero gradient).
  // Optimizers and gradients use this layout.
  std::span<T> parameters() noexcept { return params_.span(); }
  std::span<const T> parameters() const noexcept { return params_.span(); }

  // The network's output for one input: a std::array, std::span, std::vector or C array of T.
  template <class Range>
  std::array<T, outputs> feedforward(const Range& x) const {
    if constexpr (detail::static_extent<Range>() != dynamic) detail::check_input_size<inputs, detail::static_extent<Range>()>();
    const std::span<const T> in(std::data(x), std::size(x));
    check_runtime_size("feedforward", in.size());
    workspace ws(1);
    std::copy(in.begin(), in.end(), ws.input().row_data(0));
    forward<false>(ws);
    std::array<T, outputs> out;
    std::copy_n(ws.output().row_data(0), outputs, out.begin());
    return out;
  }

  // Outputs for a batch of inputs (one sample per row): an nn::matrix or nn::matrix_ref of rows of
  // `inputs` values. The second form writes into the caller's matrix (x.rows() rows of `outputs`) and
  // allocates nothing that grows with the batch: for repeated inference into reused storage.
  template <class U, std::size_t Rows, std::size_t Cols>
  matrix<T, dynamic, outputs> predict(const matrix<U, Rows, Cols>& x) const {
    return predict(matrix_ref<const U, Rows, Cols>(x.data(), x.rows()));
  }
  template <class U, std::size_t Rows, std::size_t Cols>
  matrix<T, dynamic, outputs> predict(matrix_ref<U, Rows, Cols> x) const {
    matrix<T, dynamic, outputs> out(x.rows());
    predict(x, matrix_ref<T, dynamic, outputs>(out.data(), out.rows()));
    return out;
  }
  template <class U, std::size_t Rows, std::size_t Cols>
  void predict(const matrix<U, Rows, Cols>& x, matrix_ref<T, dynamic, outputs> out) const {
    predict(matrix_ref<const U, Rows, Cols>(x.data(), x.rows()), out);
  }
  template <class U, std::size_t Rows, std::size_t Cols>
  void predict(matrix_ref<U, Rows, Cols> x, matrix_ref<T, dynamic, outputs> out) const {
    static_assert(std::is_same_v<std::remove_const_t<U>, T>, "nn: predict's inputs must have the network's element type");
    detail::check_input_size<inputs, Cols>();
    if (out.rows() != x.rows())
      throw std::invalid_argument("nn: predict: " + std::to_string(x.rows()) + " rows of inputs but " +
                                  std::to_string(out.rows()) + " rows for the outputs");
    // The first layer reads the caller's rows and the last writes into `out`, so nothing is copied. The
    // hidden activations of a chunk of rows are all the scratch there is: about 64 KB, in L2. (The first
    // layer's kernel prefetches each row block's successor, so a chunk's first block is the one that
    // waits for memory: chunks are as long as the scratch allows, in multiples of 48 rows.)
    constexpr std::size_t hidden_stride = [] {
      std::size_t n = 0;
      for (std::size_t l = 1; l < layer_count; ++l) n += strides[l];
      return n;
    }();
    constexpr std::size_t chunk = std::max<std::size_t>(48, 65536 / sizeof(T) / std::max<std::size_t>(hidden_stride, 1) / 48 * 48);
    std::array<std::size_t, layer_count + 1> hidden_off{};
    for (std::size_t l = 1; l < layer_count; ++l) hidden_off[l + 1] = hidden_off[l] + chunk * strides[l];
    detail::aligned_buffer<T> hidden(std::max<std::size_t>(hidden_off[layer_count], 1));
    for (std::size_t s0 = 0; s0 < x.rows(); s0 += chunk) {
      const std::size_t m = std::min(chunk, x.rows() - s0);
      for_layers([&](auto l) {
        constexpr std::size_t L = l.value;
        const matrix_ref<const T, dynamic, sizes[L]> in =
            L == 0 ? matrix_ref<const T, dynamic, sizes[L]>(x.row_data(s0), m)
                   : matrix_ref<const T, dynamic, sizes[L]>(hidden.data() + hidden_off[L], m);
        const matrix_ref<T, dynamic, sizes[L + 1]> to =
            L + 1 == layer_count ? matrix_ref<T, dynamic, sizes[L + 1]>(out.row_data(s0), m)
                                 : matrix_ref<T, dynamic, sizes[L + 1]>(hidden.data() + hidden_off[L + 1], m);
        simd::dense_forward<T, sizes[L], sizes[L + 1]>(in, weights<L>(), params_.data() + bias_offset(L), nullptr, to,
                                                       activation_of<L>{});
      });
    }
  }

  // Forward pass over ws.input(); the result is in ws.output(). With KeepZ, the weighted inputs of
  // every layer are kept for backprop.
  template <bool KeepZ = true>
  void forward(workspace& ws) const {
    for_layers([&](auto l) {
      constexpr std::size_t L = l.value;
      simd::dense_forward<T, sizes[L], sizes[L + 1]>(ws.template a<L>(), weights<L>(), params_.data() + bias_offset(L),
                                                     KeepZ ? ws.template z<L + 1>().data() : nullptr,
                                                     ws.template a<L + 1>(), activation_of<L>{});
    });
  }

  // (Both take an optional nn::dropout: with a rate p > 0, each hidden unit of each sample is dropped
  // with probability p for this step, and the kept ones are scaled by 1/(1 − p); see nn::dropout.)
  //
  // Mean gradient of the cost over the mini-batch in ws (inputs and targets filled in) into `grads`
  // (same layout as parameters(), aligned, e.g. an nn::aligned_vector<T> of parameter_storage values).
  // With l2 = λ/n (the course's L2 regularisation, C = C0 + (λ/2n) Σ w²), l2·w is added to every weight's
  // gradient (not the biases'). Returns the batch's total cost Σ_x C_x (without the L2 term).
  template <class Cost>
  T gradient(workspace& ws, const Cost& cost, std::span<T> grads, T l2 = T(0), const dropout& d = {}) const {
    check_gradient(grads);
    check_dropout(d);
    return const_cast<basic_network*>(this)->backprop<false>(ws, cost, grads.data(), T(1) / static_cast<T>(ws.rows()),
                                                             l2, d);
  }

  // One SGD step on the mini-batch in ws, the update fused into the gradient kernels:
  // w ← (1 − η·l2)·w − (η/m) Σ_x ∂C_x/∂w, b ← b − (η/m) Σ_x ∂C_x/∂b (the course's rule; l2 = λ/n, 0 for
  // none). Returns the batch's total cost (before the update, without the L2 term).
  template <class Cost>
  T sgd_step(workspace& ws, const Cost& cost, T eta, T l2 = T(0), const dropout& d = {}) {
    check_dropout(d);
    return backprop<true>(ws, cost, params_.data(), -eta / static_cast<T>(ws.rows()), l2, d);
  }

  friend bool operator==(const basic_network& a, const basic_network& b) noexcept {
    return std::equal(a.params_.span().begin(), a.params_.span().end(), b.params_.span().begin());
  }

 private:
  // Backpropagation over the whole mini-batch as matrix operations, in two phases that threads can share
  // (trainer::fit with threads > 1 runs them on parts of the batch; results are the same bit for bit):
  //   errors:    for samples [first, first + count): forward, the output error, and the error of every
  //              hidden layer from the weights before they change. Samples are independent here.
  //   gradients: for part `part` of `parts` of every layer's weight rows: the gradient over all m
  //              samples, times alpha, written to (Accumulate = false) or added to (Accumulate = true)
  //              target's layer (target may be the parameters themselves: fused SGD).
  //   With l2 ≠ 0 each part also applies L2 weight decay to its own weight rows: fused, the rows are
  //   scaled by 1 + alpha·m·l2 (= 1 − η·l2) before the update; otherwise l2·w is added to the gradient.
  template <bool Accumulate, class Cost>
  T backprop(workspace& ws, const Cost& cost, T* target, T alpha, T l2 = T(0), const dropout& d = {}) {
    backprop_errors(ws, cost, 0, ws.rows(), d);
    backprop_gradients<Accumulate>(ws, ws.rows(), target, alpha, 0, 1, l2, d);
    T total(0);
    for (std::size_t s = 0; s < ws.rows(); ++s) total += ws.row_costs()[s];
    return total;
  }

 public:
  // Phase 1 of backprop (see above); each sample's cost goes to ws.row_costs().
  template <class Cost>
  void backprop_errors(workspace& ws, const Cost& cost, std::size_t first, std::size_t count,
                       const dropout& d = {}) const {
    static_assert(!row_activation_for<output_activation, T> || cost_for<Cost, T, output_activation>,
                  "nn: a softmax (row-wise) output layer needs a cost whose error does not use the activation's "
                  "derivative: nn::log_likelihood (∂C/∂z = a − y). Other costs would need softmax's full Jacobian");
    static_assert(row_activation_for<output_activation, T> || cost_for<Cost, T, output_activation>,
                  "nn: the cost must satisfy nn::cost_for<Cost, T, OutputActivation> (members value(a, y) and "
                  "delta(z, a, y, activation) for T and nn::simd::batch<T>; see docs/policies.md)");
    if (count == 0) return;
    const bool drop = d.rate > 0 && layer_count > 1;
    for_layers([&](auto l) {
      constexpr std::size_t L = l.value;
      simd::dense_forward<T, sizes[L], sizes[L + 1]>(input_of<L>(ws, first, count, drop), weights<L>(),
                                                     params_.data() + bias_offset(L),
                                                     ws.template z<L + 1>(first, count).data(),
                                                     ws.template a<L + 1>(first, count), activation_of<L>{});
      if constexpr (L + 1 < layer_count)
        if (drop) apply_dropout<L + 1>(ws, first, count, d);
    });
    simd::output_delta<T, outputs>(ws.template z<layer_count>(first, count).data(), ws.template a<layer_count>(first, count),
                                   ws.target(first, count), ws.template delta<layer_count>(first, count), cost,
                                   output_activation{}, ws.row_costs() + first);
    for_layers_reversed([&](auto l) {
      constexpr std::size_t L = l.value;
      if constexpr (L > 0) {
        simd::dense_backward_input<T, sizes[L], sizes[L + 1]>(
            weights<L>(), ws.template delta<L + 1>(first, count), ws.template z<L>(first, count).data(),
            ws.template a<L>(first, count), ws.template delta<L>(first, count), hidden_activation{});
        // A dropped unit passes no error back; a kept one's is scaled like its output.
        if (drop) simd::multiply<T>(ws.template mask<L>(first, count).storage(), ws.template delta<L>(first, count).storage());
      }
    });
  }

  // Phase 2 of backprop (see above) over the m samples of the mini-batch in ws.
  template <bool Accumulate>
  void backprop_gradients(workspace& ws, std::size_t m, T* target, T alpha, std::size_t part, std::size_t parts,
                          T l2 = T(0), const dropout& d = {}) {
    const bool drop = d.rate > 0 && layer_count > 1;
    for_layers([&](auto l) {
      constexpr std::size_t L = l.value, In = sizes[L];
      const std::size_t first = In * part / parts, last = In * (part + 1) / parts;
      // This part's weight rows, contiguous: [first, last) of layer L's In rows.
      const auto rows = [&](T* base) {
        return std::span<T>(base + weight_offset(L) + first * strides[L + 1], (last - first) * strides[L + 1]);
      };
      if (Accumulate && l2 != T(0)) simd::scale(T(1) + alpha * static_cast<T>(m) * l2, rows(target));
      simd::rank_update<Accumulate, T, In, sizes[L + 1]>(input_of<L>(ws, 0, m, drop), ws.template delta<L + 1>(0, m),
                                                         weight_ref<L>(target + weight_offset(L)), alpha, first, last);
      if (!Accumulate && l2 != T(0)) simd::axpy_registers(l2, std::span<const T>(rows(params_.data())), rows(target));
      if (L % parts == part)
        simd::column_sum<Accumulate, T, sizes[L + 1]>(ws.template delta<L + 1>(0, m), target + bias_offset(L), alpha);
    });
  }

 private:
  // Layer L's input in a training step: the inputs, or a hidden layer's activations after dropout.
  template <std::size_t L>
  static matrix_ref<T, dynamic, sizes[L]> input_of(workspace& ws, std::size_t first, std::size_t count, bool drop) {
    if constexpr (L > 0 && L < layer_count)
      if (drop) return ws.template dropped<L>(first, count);
    return ws.template a<L>(first, count);
  }
  // Draws hidden layer L's mask for rows [first, first + count) of the mini-batch (each unit kept with
  // probability 1 − p, from a hash of the step's key, the row and the unit, so the same on any number of
  // threads) and writes the kept activations, scaled by 1/(1 − p), to ws.dropped<L>.
  template <std::size_t L>
  static void apply_dropout(workspace& ws, std::size_t first, std::size_t count, const dropout& d) {
    const auto mask = ws.template mask<L>(first, count);
    const T keep = T(1) / static_cast<T>(1 - d.rate);
    const std::uint64_t threshold = static_cast<std::uint64_t>(d.rate * 16777216.0);  // p·2^24
    for (std::size_t r = 0; r < count; ++r) {
      T* row = mask.row_data(r);
      const std::uint64_t base = d.key ^ (static_cast<std::uint64_t>(first + r) << 40) ^ (std::uint64_t{L} << 32);
      for (std::size_t j = 0; j < sizes[L]; ++j) row[j] = (detail::mix64(base ^ j) >> 40) >= threshold ? keep : T(0);
    }
    const auto out = ws.template dropped<L>(first, count);
    std::copy_n(ws.template a<L>(first, count).data(), count * strides[L], out.data());
    simd::multiply<T>(mask.storage(), out.storage());
  }
  static void check_dropout(const dropout& d) {
    if (!(d.rate >= 0 && d.rate < 1))
      throw std::invalid_argument("nn: the dropout rate must be in [0, 1), not " + std::to_string(d.rate));
  }
  static std::string shape() {
    std::string s = "nn::network<";
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(sizes[i]);
    }
    return s + ">";
  }
  static void check_runtime_size(const char* what, std::size_t n) {
    if (n != inputs)
      throw std::invalid_argument(shape() + "::" + what + ": the input has " + std::to_string(n) +
                                  " values but the network's input layer has " + std::to_string(inputs));
  }
  static void check_gradient(std::span<T> g) {
    if (g.size() != parameter_storage)
      throw std::invalid_argument(shape() + "::gradient: the gradient buffer has " + std::to_string(g.size()) +
                                  " values, expected parameter_storage = " + std::to_string(parameter_storage));
    if (reinterpret_cast<std::uintptr_t>(g.data()) % simd::alignment != 0)
      throw std::invalid_argument(shape() + "::gradient: the gradient buffer is not aligned to " +
                                  std::to_string(simd::alignment) + " bytes; use nn::aligned_vector<T>");
  }
  static std::size_t weight_index(std::size_t l, std::size_t j, std::size_t k) {
    if (l >= layer_count || j >= sizes[l + 1] || k >= sizes[l])
      throw std::out_of_range(shape() + "::weight(" + std::to_string(l) + ", " + std::to_string(j) + ", " +
                              std::to_string(k) + "): out of range");
    return weight_offset(l) + k * strides[l + 1] + j;
  }
  static std::size_t bias_index(std::size_t l, std::size_t j) {
    if (l >= layer_count || j >= sizes[l + 1])
      throw std::out_of_range(shape() + "::bias(" + std::to_string(l) + ", " + std::to_string(j) + "): out of range");
    return bias_offset(l) + j;
  }

  detail::aligned_buffer<T> params_;
};

}  // namespace nn
