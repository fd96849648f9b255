// The layer contract (docs/layers.md). A layer type such as nn::dense<30, nn::sigmoid> is a recipe; a
// model binds it to an element type and the shape the previous layer gives it:
//   typename Layer::template bind<T, InputShape>
// is the bound layer, a stateless class whose static members do the work on views of the model's
// buffers. The model owns everything (parameters, the workspace); a layer never allocates.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "nn/fwd.hpp"
#include "nn/matrix.hpp"
#include "nn/random.hpp"
#include "nn/shape.hpp"

namespace nn {

// One sample per row, `Shape::size` values per row, padded rows (see nn/shape.hpp).
template <class T, class Shape>
using rows_of = matrix_ref<T, dynamic, Shape::size>;

// Which parameters a layer draws in this pass of initialisation. The model draws every layer's biases,
// then every layer's weights: the order of the course's network.py, so a seed gives the same network
// whatever the layers around it.
enum class init_pass { biases, weights };

// What a layer's training forward pass is told: the step's dropout (rate 0: none; the model passes it
// to every layer but the last) and where its rows are in the mini-batch (dropout masks hash the row).
struct train_context {
  nn::dropout dropout{};
  std::size_t first_row = 0;  // the first of this call's rows in the whole mini-batch
  std::size_t position = 0;   // the layer's position in the model, 1-based (1: the first after the input)
  // A layer that couples the mini-batch's rows (below): its statistics of the whole mini-batch (forward
  // pass's, then backward pass's), and the mini-batch's rows over every member of the step.
  const double* batch = nullptr;
  std::size_t batch_rows = 0;
};

// Where the error a layer's backward pass receives stands: with respect to its output (what the next
// layer sends back), or already with respect to its pre-activation z (the cost computed it through the
// layer's activation: nn::output_delta, for the last layer only, when it has an activation).
enum class error_at { output, pre_activation };

// Where a layer's parameter gradient goes in phase 2 of a step, and how: for Accumulate, target +=
// alpha · Σ_s (the parameters themselves, plain SGD's fused update, alpha = −η/m); otherwise target =
// alpha · Σ_s (a gradient buffer, alpha = 1/m). l2: L2 weight decay of the weights (not the biases);
// fused, the weights are first scaled by 1 + alpha·m·l2 (= 1 − η·l2), else l2·w is added. Threads share
// the work: this call does part `part` of `parts` (a layer splits its rows; any split gives the same bits).
template <class T, bool Accumulate>
struct gradient_sink {
  static constexpr bool accumulate = Accumulate;
  T* target;         // this layer's block, laid out like its parameters
  T alpha;
  T l2 = T(0);
  std::size_t rows;  // m, the mini-batch's samples
  std::size_t part = 0, parts = 1;
  std::size_t position = 0;  // the layer's position (spreads small jobs such as biases over the parts)
  const double* batch = nullptr;  // as in train_context, for a layer that couples the rows
  std::size_t batch_rows = 0;
};

// The buffers a layer keeps from its forward pass for its backward pass: kept_count matrices of rows of
// Shape, for the rows in hand (a thread's part of the mini-batch). k[i] is matrix i.
template <class T, class Shape>
class kept_rows {
 public:
  static constexpr std::size_t stride = row_layout<std::remove_const_t<T>, Shape::size>::stride;
  kept_rows(T* base, std::size_t capacity, std::size_t first, std::size_t count) noexcept
      : base_(base), capacity_(capacity), first_(first), count_(count) {}
  rows_of<T, Shape> operator[](std::size_t i) const noexcept { return {base_ + (i * capacity_ + first_) * stride, count_}; }
  std::size_t rows() const noexcept { return count_; }

 private:
  T* base_;
  std::size_t capacity_, first_, count_;
};

// A bound layer: shapes, parameters, buffers kept from the forward pass, and its passes.
//   kept_count × rows of kept_shape: what backward needs from forward (e.g. dense keeps z).
template <class B, class T>
concept bound_layer = requires {
  typename B::input_shape;
  typename B::output_shape;
  typename B::kept_shape;
  { B::parameter_count } -> std::convertible_to<std::size_t>;
  { B::parameter_storage } -> std::convertible_to<std::size_t>;
  { B::kept_count } -> std::convertible_to<std::size_t>;
} && is_shape<typename B::input_shape> && is_shape<typename B::output_shape> &&
    requires(const T* p, rows_of<const T, typename B::input_shape> x, rows_of<T, typename B::output_shape> y) {
  B::forward(p, x, y);  // inference
};

// Optional: a layer with parameters draws them from the initializer (nn::dense: the biases in one pass,
// the weights in the other). A named concept, not a requires-expression in the model's loop over layers:
// clang 14 evaluates one that names the model's members inside that generic lambda as false.
template <class B, class T, class Init>
concept initializable_layer = requires(T* p, rng& r, Init& init, init_pass pass) { B::initialize(p, r, init, pass); };

// Optional: bound layers that can also train. (A layer without backward can only end in a model used
// for inference.)
template <class B, class T>
concept trainable_layer =
    bound_layer<B, T> &&
    requires(const T* p, rows_of<const T, typename B::input_shape> x, rows_of<T, typename B::output_shape> y,
             kept_rows<T, typename B::kept_shape> k, const train_context& c, rows_of<T, typename B::output_shape> g,
             rows_of<T, typename B::input_shape> gi, const gradient_sink<T, true>& fused,
             const gradient_sink<T, false>& grad) {
      B::forward_train(p, x, y, k, c);
      B::backward(p, y, k, c, g, error_at::output, gi);       // gi: the error at the input
      B::backward(p, y, k, c, g, error_at::output, nullptr);  // the first layer: no error at the input
      B::gradient(p, rows_of<const T, typename B::input_shape>(x), rows_of<const T, typename B::output_shape>(g), fused);
      B::gradient(p, rows_of<const T, typename B::input_shape>(x), rows_of<const T, typename B::output_shape>(g), grad);
    };

// Optional: a layer whose training pass couples the mini-batch's rows (nn::batch_norm: the statistics of
// the whole mini-batch). It has statistics_count doubles per pass in the workspace, which the model fills
// between barriers of the step's members, and passes to the layer in train_context::batch (the forward
// pass's, then the backward pass's) and gradient_sink::batch:
//   forward_statistics(p, x, sums, part, parts)        before forward_train: sums over the rows x
//   backward_statistics(p, y, k, g, at, sums, part, parts)  before backward: turns g into the error its
//                                                      backward starts from, and sums over the rows
//   update_state(p, batch, rows)                       after the step's update: values with no gradient
//                                                      (running statistics)
// Members that share the workspace (threads) each take part `part` of `parts` of the values over all the
// mini-batch's rows, so any number of threads gives the same bits; members with a workspace each (over
// processes) take their own rows whole, and the executor adds the sums up.
template <class B, class T>
concept batch_coupled_layer =
    trainable_layer<B, T> &&
    requires(const T* p, T* q, rows_of<const T, typename B::input_shape> x, rows_of<const T, typename B::output_shape> y,
             kept_rows<T, typename B::kept_shape> k, rows_of<T, typename B::output_shape> g, double* sums) {
      { B::statistics_count } -> std::convertible_to<std::size_t>;
      B::forward_statistics(p, x, sums, std::size_t{0}, std::size_t{1});
      B::backward_statistics(p, y, k, g, error_at::output, sums, std::size_t{0}, std::size_t{1});
      B::update_state(q, static_cast<const double*>(sums), std::size_t{1});
    };

namespace detail {
// Visits a layer's parameters in its file order (nn::dense: the course's w[j][k], then b[j]); a layer that
// does not say has its whole block, padding included. Files, ONNX and nn::parameter_storage_of use it.
template <class B, class T, class F>
constexpr void visit_parameters(T* p, F&& f) {
  if constexpr (requires { B::visit_parameters(p, f); }) B::visit_parameters(p, f);
  else
    for (std::size_t i = 0; i < B::parameter_storage; ++i) f(p[i]);
}
}  // namespace detail

}  // namespace nn
