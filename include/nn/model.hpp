// The model: a compile-time list of layers, nn::sequential<nn::input<784>, nn::dense<30>, nn::dense<10>>.
// It owns the parameters (every layer's block, one after another, in one aligned buffer) and runs the
// layers: inference (feedforward, predict: no heap allocation), and the two phases of a training step
// (backprop_errors, backprop_gradients) that nn::trainer calls. It knows nothing of training loops.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "nn/activation.hpp"
#include "nn/cost.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/layer_list.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/executor.hpp"
#include "nn/init.hpp"
#include "nn/layer.hpp"
#include "nn/layers/input.hpp"
#include "nn/matrix.hpp"
#include "nn/random.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {


template <class T, class Input, class... Layers>
class basic_sequential {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "nn::sequential: the element type must be float or double");
  static_assert(is_input<Input>, "nn::sequential: the first entry must be nn::input<...>, the shape of one sample");
  static_assert(sizeof...(Layers) >= 1, "nn::sequential needs at least one layer after its input");

 public:
  using value_type = T;
  using input_shape = typename Input::shape;
  using bound_layers = typename detail::as_tuple<typename detail::bind_all<T, Input, input_shape, Layers...>::type>::type;
  template <std::size_t I>
  using layer_type = std::tuple_element_t<I, bound_layers>;  // the I-th layer after the input, bound
  static constexpr std::size_t layer_count = sizeof...(Layers);
  using output_shape = typename layer_type<layer_count - 1>::output_shape;
  static constexpr std::size_t inputs = input_shape::size;
  static constexpr std::size_t outputs = output_shape::size;

 private:
  static constexpr std::size_t W = simd::layout_width<T>;  // blocks start on 64 bytes, whatever the ISA
  template <std::size_t K>  // slot K: what flows into layer K (0: the input; layer_count: the output)
  using slot_shape = std::conditional_t<K == 0, input_shape, typename layer_type<(K == 0 ? 0 : K - 1)>::output_shape>;
  template <std::size_t K>
  static constexpr std::size_t slot_stride = row_layout<T, slot_shape<K>::size>::stride;

  template <class F>
  static void for_layers(F&& f) { simd::detail::static_for<layer_count>(f); }
  template <class F>
  static void for_layers_reversed(F&& f) {
    simd::detail::static_for<layer_count>([&](auto k) { f(std::integral_constant<std::size_t, layer_count - 1 - k>{}); });
  }
  template <class F>
  static constexpr void for_layers_constexpr(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::integral_constant<std::size_t, I>{}), ...); }(
        std::make_index_sequence<layer_count>{});
  }

  // Each layer's parameter block starts aligned.
  static constexpr std::array<std::size_t, layer_count + 1> offsets = [] {
    std::array<std::size_t, layer_count + 1> o{};
    for_layers_constexpr([&](auto i) { o[i + 1] = o[i] + detail::round_up(layer_type<i>::parameter_storage, W); });
    return o;
  }();
  static constexpr std::array<std::size_t, layer_count + 1> strides = [] {
    std::array<std::size_t, layer_count + 1> s{};
    s[0] = slot_stride<0>;
    for_layers_constexpr([&](auto i) { s[i + 1] = slot_stride<i + 1>; });
    return s;
  }();

 public:
  // Whether every layer can train (nn::trainable_layer); a model of inference-only layers cannot.
  static constexpr bool trainable = []<std::size_t... I>(std::index_sequence<I...>) {
    return (trainable_layer<layer_type<I>, T> && ...);
  }(std::make_index_sequence<layer_count>{});

  // Layer I couples the mini-batch's rows in training (nn::batch_coupled_layer: nn::batch_norm).
  template <std::size_t I>
  static constexpr bool couples_rows = batch_coupled_layer<layer_type<I>, T>;
  static constexpr bool any_couples_rows = []<std::size_t... I>(std::index_sequence<I...>) {
    return (couples_rows<I> || ...);
  }(std::make_index_sequence<layer_count>{});

  // Parameters that are real (padding excluded), and the storage they take with padding.
  static constexpr std::size_t parameter_count = [] {
    std::size_t n = 0;
    for_layers_constexpr([&](auto i) { n += layer_type<i>::parameter_count; });
    return n;
  }();
  static constexpr std::size_t parameter_storage = offsets[layer_count];

  // "nn::sequential<input<784>, dense<30, sigmoid>, dense<10, sigmoid>>", for messages.
  static std::string name() {
    std::string s = "nn::sequential<";
    s += Input::text();
    ((s += ", ", s += detail::layer_text<Layers>()), ...);
    s += '>';
    return s;
  }

  // Buffers for one mini-batch of up to `capacity` samples: what flows into and out of every layer,
  // the error at each, what each layer keeps for its backward pass, the targets and each sample's cost.
  // Reused from batch to batch; a layer sees only its own.
  class workspace {
   public:
    explicit workspace(std::size_t capacity) : capacity_(capacity), rows_(capacity) {
      if (capacity == 0) throw std::invalid_argument("nn: a mini-batch needs at least one sample");
      std::size_t n = 0;
      for (std::size_t k = 0; k <= layer_count; ++k) {
        a_off_[k] = n;
        n += capacity * strides[k];
        if (k == 0) continue;  // no error at the inputs
        d_off_[k] = n;
        n += capacity * strides[k];
      }
      for_layers_constexpr([&](auto i) {
        using B = layer_type<i>;
        k_off_[i] = n;
        n += B::kept_count * capacity * row_layout<T, B::kept_shape::size>::stride;
      });
      y_off_ = n;
      n += capacity * strides[layer_count];
      cost_off_ = n;
      n += detail::round_up(capacity, W);
      buf_ = detail::aligned_buffer<T>(n);
      std::size_t b = 0;
      for_layers_constexpr([&](auto i) {
        b_off_[i] = b;
        if constexpr (couples_rows<i>) b += 2 * layer_type<i>::statistics_count;
      });
      if (b > 0) batch_ = detail::aligned_buffer<double>(b);
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
    // Slot K's values: the input of layer K (0: the samples), the output of layer K − 1.
    template <std::size_t K>
    rows_of<T, slot_shape<K>> a() noexcept { return a<K>(0, rows_); }
    template <std::size_t K>
    rows_of<T, slot_shape<K>> a(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + a_off_[K] + first * strides[K], count};
    }
    // The error at slot K (K ≥ 1), with respect to those values; after layer K − 1's backward pass,
    // with respect to whatever that layer says (nn::dense: its z).
    template <std::size_t K>
      requires(K > 0)
    rows_of<T, slot_shape<K>> delta(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + d_off_[K] + first * strides[K], count};
    }
    template <std::size_t K>
      requires(K > 0)
    rows_of<T, slot_shape<K>> delta() noexcept { return delta<K>(0, rows_); }
    matrix_ref<T, dynamic, outputs> target(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + y_off_ + first * strides[layer_count], count};
    }
    // What layer I keeps from its forward pass for rows [first, first + count).
    template <std::size_t I>
    kept_rows<T, typename layer_type<I>::kept_shape> kept(std::size_t first, std::size_t count) noexcept {
      return {buf_.data() + k_off_[I], capacity_, first, count};
    }
    // The cost of each sample of the last backprop (Σ_o of the cost's value), in row order.
    T* row_costs() noexcept { return buf_.data() + cost_off_; }
    // Layer I's statistics of the mini-batch, when it couples the rows: its forward pass's, then its
    // backward pass's statistics_count values.
    template <std::size_t I>
      requires couples_rows<I>
    double* batch() noexcept { return batch_.data() + b_off_[I]; }

   private:
    std::size_t capacity_, rows_;
    std::array<std::size_t, layer_count + 1> a_off_{}, d_off_{};
    std::array<std::size_t, layer_count> k_off_{}, b_off_{};
    std::size_t y_off_ = 0, cost_off_ = 0;
    detail::aligned_buffer<T> buf_;
    detail::aligned_buffer<double> batch_;
  };

  // All parameters zero (set them by hand, or call initialize).
  basic_sequential() : params_(parameter_storage) { choose_kernels(); }
  // Random parameters from `init` (default: the course's N(0, 1)) drawn from nn::rng(seed).
  template <initializer Init = normal_init>
  explicit basic_sequential(std::uint64_t seed, Init init = {}) : params_(parameter_storage) {
    choose_kernels();
    rng r(seed);
    initialize(r, init);
  }

  // Every layer's biases, then every layer's weights (the course's order; see nn::init_pass).
  template <initializer Init = normal_init>
  void initialize(rng& r, Init init = {}) {
    for (const init_pass pass : {init_pass::biases, init_pass::weights})
      for_layers([&](auto i) {
        if constexpr (initializable_layer<layer_type<i>, T, Init>)
          layer_type<i>::initialize(layer_parameters<i>(), r, init, pass);
      });
  }

  // Every parameter in storage order, padding included (padding is always zero and has zero gradient).
  // Optimizers and gradients use this layout.
  std::span<T> parameters() noexcept { return params_.span(); }
  std::span<const T> parameters() const noexcept { return params_.span(); }
  // Layer I's block of parameters (laid out as that layer says), and where it starts in parameters().
  template <std::size_t I>
  T* layer_parameters() noexcept { return params_.data() + offsets[I]; }
  template <std::size_t I>
  const T* layer_parameters() const noexcept { return params_.data() + offsets[I]; }
  static constexpr std::size_t parameter_offset(std::size_t i) { return offsets[i]; }

  // The output for one input (a std::array, std::span, std::vector or C array of T). No heap allocation
  // (the scratch is on the stack), const, and safe to call from several threads at once.
  template <class Range>
  std::array<T, outputs> feedforward(const Range& x) const {
    std::array<T, outputs> out;
    feedforward(x, std::span<T, outputs>(out));
    return out;
  }
  template <class Range>
  void feedforward(const Range& x, std::span<T, outputs> out) const {
    if constexpr (detail::static_extent<Range>() != dynamic) detail::check_input_size<inputs, detail::static_extent<Range>()>();
    const std::span<const T> in(std::data(x), std::size(x));
    if (in.size() != inputs) detail::check_inputs(in.size(), inputs, name() + "::feedforward: the sample");
    infer_one(params_.data(), std::span<const T, inputs>(in.data(), inputs), out);
  }

  // One sample's inference from a block of parameters in this model's layout (its own, or those an
  // nn::network_view shows): no heap, no exceptions; the stack holds the sample's padded rows of the
  // input, the output and every hidden layer.
  // A first layer that never reads its input row's padding (nn::dense) reads the caller's values as they
  // are; others get a padded, aligned copy.
  static constexpr bool copies_input = !requires { requires !layer_type<0>::reads_input_padding; };
  // Whether one sample's rows fit the 256 KB nn keeps on the stack (else that scratch is on the heap, and
  // infer_one may throw std::bad_alloc): true for every network of nn's examples and docs.
  static constexpr bool one_sample_on_stack =
      ((copies_input ? strides[0] : 0) + strides[layer_count]) * sizeof(T) <= 262144 && [] {
        std::size_t n = 0;
        for (std::size_t k = 1; k < layer_count; ++k) n += strides[k];
        return n * sizeof(T) <= 262144;
      }();

  static void infer_one(const T* params, std::span<const T, inputs> in, std::span<T, outputs> out) noexcept(one_sample_on_stack) {
    constexpr bool copy = copies_input;
    detail::scratch<T, (copy ? strides[0] : 0) + strides[layer_count]> rows;
    T* const y = rows.get() + (copy ? strides[0] : 0);
    const T* x0 = in.data();
    if constexpr (copy) {
      std::copy(in.begin(), in.end(), rows.get());
      std::fill(rows.get() + inputs, rows.get() + strides[0], T(0));
      x0 = rows.get();
    }
    run_inference<1>(params, x0, 1, y);
    std::copy_n(y, outputs, out.begin());
  }
  // m padded rows of inputs at x into m padded rows at out, likewise (predict's work).
  static void infer_rows(const T* params, const T* x, std::size_t m, T* out) { run_inference(params, x, m, out); }

  // Outputs for a batch of inputs (one sample per row): an nn::matrix or nn::matrix_ref of rows of
  // `inputs` values. The second form writes into the caller's matrix (x.rows() rows of `outputs`) and
  // allocates nothing: for repeated inference into reused storage; it is const and thread-safe.
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
    run_inference(params_.data(), x.data(), x.rows(), out.data());
  }

  // Forward pass over ws.input(); the result is in ws.output(). With Keep, what each layer keeps for
  // its backward pass is kept (a training forward pass without dropout).
  template <bool Keep = true>
  void forward(workspace& ws) const {
    if constexpr (Keep) {
      one_thread alone;
      (void)forward_train(ws, ws.rows(), 0, ws.rows(), dropout{}, alone);
    } else {
      for_layers([&](auto i) {
        layer_type<i>::forward(layer_parameters<i>(), ws.template a<i>(), ws.template a<i + 1>());
      });
    }
  }

  // (gradient and sgd_step take an optional nn::dropout: with a rate p > 0, every layer but the last that
  // supports it drops each unit of each sample with probability p for this step; see nn::dropout.)
  //
  // Mean gradient of the cost over the mini-batch in ws (inputs and targets filled in) into `grads`
  // (same layout as parameters(), aligned, e.g. an nn::aligned_vector<T> of parameter_storage values).
  // With l2 = λ/n (the course's L2 regularisation, C = C0 + (λ/2n) Σ w²), l2·w is added to every weight's
  // gradient (not the biases'). Returns the batch's total cost Σ_x C_x (without the L2 term).
  template <class Cost>
  T gradient(workspace& ws, const Cost& cost, std::span<T> grads, T l2 = T(0), const dropout& d = {}) const {
    check_gradient(grads);
    check_dropout(d);
    one_thread alone;
    (void)backprop_errors(ws, cost, ws.rows(), d, alone);
    backprop_gradients(ws, gradient_sink<T, false>{grads.data(), T(1) / static_cast<T>(ws.rows()), l2, ws.rows()});
    return total_cost(ws);
  }

  // One SGD step on the mini-batch in ws, the update fused into the gradient kernels:
  // w ← (1 − η·l2)·w − (η/m) Σ_x ∂C_x/∂w, b ← b − (η/m) Σ_x ∂C_x/∂b (the course's rule; l2 = λ/n, 0 for
  // none). Returns the batch's total cost (before the update, without the L2 term).
  template <class Cost>
  T sgd_step(workspace& ws, const Cost& cost, T eta, T l2 = T(0), const dropout& d = {}) {
    check_dropout(d);
    one_thread alone;
    (void)backprop_errors(ws, cost, ws.rows(), d, alone);
    backprop_gradients(ws, gradient_sink<T, true>{params_.data(), -eta / static_cast<T>(ws.rows()), l2, ws.rows()});
    update_state(ws, ws.rows());
    return total_cost(ws);
  }

  // Phase 1 of a training step on the first m rows of ws, for this member's part of them (ex.rows(m):
  // threads take parts of the samples): every layer's forward pass, the output error and each sample's
  // cost (to ws.row_costs()), then every layer's backward pass from the last, from the parameters as
  // they are (before this step changes them). Every member of the step's executor calls it; layers that
  // couple the rows (nn::batch_norm) share their statistics at its barriers. Returns false when a barrier
  // told of a member's failure (every member has then left at that same barrier).
  template <class Cost, executor Exec>
  bool backprop_errors(workspace& ws, const Cost& cost, std::size_t m, const dropout& d, Exec& ex) const {
    using Last = layer_type<layer_count - 1>;
    using output_activation = typename detail::output_activation_of<Last, T>::type;
    static_assert(!row_activation_for<output_activation, T> || cost_for<Cost, T, output_activation>,
                  "nn: a softmax (row-wise) output layer needs a cost whose error does not use the activation's "
                  "derivative: nn::log_likelihood (∂C/∂z = a − y). Other costs would need softmax's full Jacobian");
    static_assert(row_activation_for<output_activation, T> || cost_for<Cost, T, output_activation>,
                  "nn: the cost must satisfy nn::cost_for<Cost, T, OutputActivation> (members value(a, y) and "
                  "delta(z, a, y, activation) for T and nn::simd::batch<T>; see docs/policies.md)");
    static_assert(trainable, "nn: every layer of a model that trains must satisfy nn::trainable_layer (forward_train, "
                             "backward and gradient; docs/layers.md)");
    const row_range mine = ex.rows(m);
    const std::size_t first = mine.first, count = mine.count;  // (lambdas below capture them: not a structured binding)
    if (count == 0 && !any_couples_rows) return true;
    if (!forward_train(ws, m, first, count, d, ex)) return false;
    if (count > 0) {
      const auto y = ws.template a<layer_count>(first, count);
      const auto kept = ws.template kept<layer_count - 1>(first, count);
      const T* const z = [&] {
        if constexpr (detail::has_activation<Last, T>) return Last::pre_activation(kept).data();
        else return y.data();
      }();
      simd::output_delta<T, outputs>(z, y, ws.target(first, count), ws.template delta<layer_count>(first, count), cost,
                                     output_activation{}, ws.row_costs() + first);
    }
    bool ok = true;
    for_layers_reversed([&](auto i) {
      constexpr std::size_t I = i;
      using B = layer_type<I>;
      if (!ok) return;
      const error_at at = I + 1 == layer_count && detail::has_activation<Last, T> ? error_at::pre_activation : error_at::output;
      if constexpr (couples_rows<I>)
        ok = share_statistics(m, first, count, ex, std::span(ws.template batch<I>() + B::statistics_count, B::statistics_count),
                              [&](row_range r, std::size_t part, std::size_t parts) {
                                B::backward_statistics(layer_parameters<I>(), ws.template a<I + 1>(r.first, r.count),
                                                       ws.template kept<I>(r.first, r.count),
                                                       ws.template delta<I + 1>(r.first, r.count), at,
                                                       ws.template batch<I>() + B::statistics_count, part, parts);
                              });
      if (!ok || count == 0) return;
      const auto gi = [&] {
        if constexpr (I > 0) return ws.template delta<I>(first, count);
        else return nullptr;  // the first layer: no error at the samples
      }();
      B::backward(layer_parameters<I>(), ws.template a<I + 1>(first, count), ws.template kept<I>(first, count),
                  context<I>(ws, m, first, d, ex), ws.template delta<I + 1>(first, count), at, gi);
    });
    return ok;
  }

  // After a step's update: the values of layers that couple the rows which have no gradient (nn::batch_norm's
  // running statistics) from the mini-batch's statistics, over `rows` rows (all the members').
  void update_state(workspace& ws, std::size_t rows) {
    for_layers([&](auto i) {
      if constexpr (couples_rows<i>) layer_type<i>::update_state(layer_parameters<i>(), ws.template batch<i>(), rows);
    });
  }

  // Phase 2, over all m samples of the mini-batch in ws: every layer's part `sink.part` of its parameter
  // gradient into the sink (the parameters themselves for fused SGD, a gradient buffer laid out like
  // parameters() otherwise). A sink's target is the whole buffer; each layer gets its own block.
  template <bool Accumulate>
  void backprop_gradients(workspace& ws, const gradient_sink<T, Accumulate>& sink) const {
    const std::size_t m = sink.rows;
    for_layers([&](auto i) {
      using B = layer_type<i>;
      gradient_sink<T, Accumulate> s = sink;
      s.target = sink.target + offsets[i];
      s.position = i + 1;
      if constexpr (couples_rows<i>) {
        s.batch = ws.template batch<i>();
        if (s.batch_rows == 0) s.batch_rows = m;
      }
      B::gradient(layer_parameters<i>(), rows_of<const T, slot_shape<i>>(ws.template a<i>(0, m)),
                  rows_of<const T, slot_shape<i + 1>>(ws.template delta<i + 1>(0, m)), s);
      // A block rounded up to 64 bytes: the rounding is the model's, and a gradient of it is zero.
      if constexpr (!Accumulate && offsets[i + 1] - offsets[i] != B::parameter_storage)
        if (sink.part == 0) std::fill(s.target + B::parameter_storage, sink.target + offsets[i + 1], T(0));
    });
  }

  friend bool operator==(const basic_sequential& a, const basic_sequential& b) noexcept {
    return std::equal(a.params_.span().begin(), a.params_.span().end(), b.params_.span().begin());
  }

 protected:
  static void check_gradient(std::span<T> g) {
    if (g.size() != parameter_storage)
      throw std::invalid_argument(name() + "::gradient: the gradient buffer has " + std::to_string(g.size()) +
                                  " values, expected parameter_storage = " + std::to_string(parameter_storage));
    if (reinterpret_cast<std::uintptr_t>(g.data()) % simd::alignment != 0)
      throw std::invalid_argument(name() + "::gradient: the gradient buffer is not aligned to " +
                                  std::to_string(simd::alignment) + " bytes; use nn::aligned_vector<T>");
  }

 private:
  // The run-time kernels' path (nn/simd/f32.hpp), chosen when the first model is made. NN_ISA is read
  // again for every model, so a wrong one is a std::invalid_argument from whichever model meets it,
  // not a failure in a kernel (which cannot throw).
  static void choose_kernels() {
    if constexpr (simd::runtime_paths<T>) {
      (void)simd::select();
      (void)simd::f32::active();
    }
  }
  template <std::size_t I, class Exec>
  static train_context context(workspace& ws, std::size_t m, std::size_t first, const dropout& d, const Exec& ex) noexcept {
    train_context c{I + 1 < layer_count ? d : dropout{}, first + d.row_offset, I + 1};
    if constexpr (couples_rows<I>) {
      c.batch = ws.template batch<I>();
      c.batch_rows = ex.total_rows(m);
    }
    return c;
  }
  // For a layer that couples the rows: once every member's rows are in, `sums(rows, part, parts)` fills
  // `values` (threads: part `rank` of the values over the whole mini-batch, the same bits on any number
  // of threads; a member with a workspace of its own: its rows, added up over the members), and every
  // member sees them. False when a member failed.
  template <class Exec, class F>
  static bool share_statistics(std::size_t m, std::size_t first, std::size_t count, Exec& ex, std::span<double> values,
                               F&& sums) {
    if (ex.barrier()) return false;
    if constexpr (Exec::shares_parameters) sums(row_range{0, m}, ex.rank(), ex.size());
    else sums(row_range{first, count}, 0, 1);
    ex.sum(values);
    return !ex.barrier();
  }
  template <class Exec>
  bool forward_train(workspace& ws, std::size_t m, std::size_t first, std::size_t count, const dropout& d, Exec& ex) const {
    bool ok = true;
    for_layers([&](auto i) {
      constexpr std::size_t I = i;
      using B = layer_type<I>;
      if (!ok) return;
      if constexpr (couples_rows<I>)
        ok = share_statistics(m, first, count, ex, std::span(ws.template batch<I>(), B::statistics_count),
                              [&](row_range r, std::size_t part, std::size_t parts) {
                                B::forward_statistics(layer_parameters<I>(), ws.template a<I>(r.first, r.count),
                                                      ws.template batch<I>(), part, parts);
                              });
      if (!ok || count == 0) return;
      B::forward_train(layer_parameters<I>(), ws.template a<I>(first, count), ws.template a<I + 1>(first, count),
                       ws.template kept<I>(first, count), context<I>(ws, m, first, d, ex));
    });
    return ok;
  }
  static T total_cost(workspace& ws) {
    T total(0);
    for (std::size_t s = 0; s < ws.rows(); ++s) total += ws.row_costs()[s];
    return total;
  }
  static void check_dropout(const dropout& d) {
    if (!(d.rate >= 0 && d.rate < 1))
      throw std::invalid_argument("nn: the dropout rate must be in [0, 1), not " + std::to_string(d.rate));
  }

  // Inference over m rows of x (padded rows of `inputs`) into out (padded rows of `outputs`): the first
  // layer reads the caller's rows and the last writes into out, so nothing is copied. The scratch for the
  // hidden slots of a chunk of rows is about 64 KB, on the stack (in L2). (The first layer's kernel
  // prefetches each row block's successor, so a chunk's first block is the one that waits for memory:
  // chunks are as long as the scratch allows, in multiples of 48 rows.)
  static constexpr std::size_t hidden_stride = [] {
    std::size_t n = 0;
    for (std::size_t k = 1; k < layer_count; ++k) n += strides[k];
    return n;
  }();
  static constexpr std::size_t chunk = std::max<std::size_t>(48, 65536 / sizeof(T) / std::max<std::size_t>(hidden_stride, 1) / 48 * 48);
  template <std::size_t Chunk = chunk>
  static void run_inference(const T* params, const T* x, std::size_t m, T* out) noexcept(Chunk == 1) {
    constexpr std::array<std::size_t, layer_count + 1> hidden_off = [] {
      std::array<std::size_t, layer_count + 1> o{};
      for (std::size_t k = 1; k < layer_count; ++k) o[k + 1] = o[k] + Chunk * strides[k];
      return o;
    }();
    detail::scratch<T, hidden_off[layer_count]> hidden;
    for (std::size_t s0 = 0; s0 < m; s0 += Chunk) {
      const std::size_t n = std::min(Chunk, m - s0);
      for_layers([&](auto i) {
        constexpr std::size_t I = i;
        const rows_of<const T, slot_shape<I>> in(I == 0 ? x + s0 * strides[0] : hidden.get() + hidden_off[I], n);
        const rows_of<T, slot_shape<I + 1>> to(I + 1 == layer_count ? out + s0 * strides[layer_count] : hidden.get() + hidden_off[I + 1], n);
        layer_type<I>::forward(params + offsets[I], in, to);
      });
    }
  }

  detail::aligned_buffer<T> params_;
};

// A model of float: nn::sequential<nn::input<784>, nn::dense<30>, nn::dense<10>>.
template <class Input, class... Layers>
using sequential = basic_sequential<float, Input, Layers...>;

}  // namespace nn
