// nn::max_pool<K> and nn::avg_pool<K>: K × K pooling with stride K over channels × height × width, the
// book's chapter 6 pooling layer. Each channel's H × W becomes H/K × W/K (rounded down: a last row or
// column that does not fill a window is left out, as PyTorch and ONNX do). No parameters. max_pool keeps
// where each maximum was (the first of equal ones), and the error goes back there alone; avg_pool spreads
// it evenly over the window.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>

#include "nn/layer.hpp"

namespace nn {

namespace detail {
struct pool_max {
  static constexpr const char* name = "max_pool";
};
struct pool_avg {
  static constexpr const char* name = "avg_pool";
};
}  // namespace detail

template <std::size_t K, class Op>
struct pool2d {
  static_assert(K > 0, "nn: a pooling window needs at least 1 x 1");
  template <class In>
  static constexpr bool accepts = [] {
    if constexpr (In::rank != 3) return false;
    else return In::dims[1] >= K && In::dims[2] >= K;
  }();

  static std::string text() { return std::string(Op::name) + '<' + std::to_string(K) + '>'; }

  template <class T, class In>
  struct bind {
    static constexpr std::size_t C = In::dims[0], H = In::dims[1], W = In::dims[2], OH = H / K, OW = W / K;
    static constexpr std::size_t window = K;  // K × K, stride K
    static constexpr bool is_max = std::is_same_v<Op, detail::pool_max>;
    using value_type = T;
    using input_shape = In;
    using output_shape = shape<C, OH, OW>;
    using kept_shape = output_shape;
    static constexpr std::size_t parameter_count = 0, parameter_storage = 0;
    // max_pool: each output's window offset of its maximum (dy·K + dx, as a value of T).
    static constexpr std::size_t kept_count = is_max ? 1 : 0;
    static constexpr const char* kind = Op::name;

    // One sample; `where`, if not null, gets the argmax's window offsets.
    static void pool(const T* x, T* y, T* where) noexcept {
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < OH; ++oy)
          for (std::size_t ox = 0; ox < OW; ++ox) {
            const T* win = x + (c * H + oy * K) * W + ox * K;
            const std::size_t o = (c * OH + oy) * OW + ox;
            if constexpr (is_max) {
              // Branch-free (the comparisons of noisy data do not predict): the first of equal maxima.
              T best = win[0];
              std::size_t at = 0;
              for (std::size_t dy = 0; dy < K; ++dy)
                for (std::size_t dx = 0; dx < K; ++dx) {
                  const T v = win[dy * W + dx];
                  const std::size_t more = std::size_t{0} - static_cast<std::size_t>(v > best);  // all ones or 0
                  best = v > best ? v : best;
                  at = (at & ~more) | ((dy * K + dx) & more);
                }
              y[o] = best;
              if (where) where[o] = static_cast<T>(at);
            } else {
              T sum = 0;
              for (std::size_t dy = 0; dy < K; ++dy)
                for (std::size_t dx = 0; dx < K; ++dx) sum += win[dy * W + dx];
              y[o] = sum * (T(1) / static_cast<T>(K * K));
            }
          }
    }

    static void forward(const T*, rows_of<const T, In> x, rows_of<T, output_shape> y) noexcept {
      for (std::size_t s = 0; s < x.rows(); ++s) pool(x.row_data(s), y.row_data(s), nullptr);
    }
    static void forward_train(const T*, rows_of<const T, In> x, rows_of<T, output_shape> y, kept_rows<T, kept_shape> k,
                              const train_context&) noexcept {
      for (std::size_t s = 0; s < x.rows(); ++s) pool(x.row_data(s), y.row_data(s), is_max ? k[0].row_data(s) : nullptr);
    }

    template <class GI>
    static void backward(const T*, rows_of<const T, output_shape>, kept_rows<T, kept_shape> k, const train_context&,
                         rows_of<T, output_shape> g, error_at, GI gi) noexcept {
      if constexpr (!std::is_null_pointer_v<GI>)
        for (std::size_t s = 0; s < g.rows(); ++s) {
          T* to = gi.row_data(s);
          const T* from = g.row_data(s);
          std::fill(to, to + C * H * W, T(0));
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t oy = 0; oy < OH; ++oy)
              for (std::size_t ox = 0; ox < OW; ++ox) {
                T* win = to + (c * H + oy * K) * W + ox * K;
                const std::size_t o = (c * OH + oy) * OW + ox;
                if constexpr (is_max) {
                  const auto at = static_cast<std::size_t>(k[0].row_data(s)[o]);
                  win[at / K * W + at % K] = from[o];
                } else {
                  const T share = from[o] * (T(1) / static_cast<T>(K * K));
                  for (std::size_t dy = 0; dy < K; ++dy)
                    for (std::size_t dx = 0; dx < K; ++dx) win[dy * W + dx] = share;
                }
              }
        }
    }

    template <bool Accumulate>
    static void gradient(const T*, rows_of<const T, In>, rows_of<const T, output_shape>, const gradient_sink<T, Accumulate>&) noexcept {}
  };
};

template <std::size_t K>
struct max_pool : pool2d<K, detail::pool_max> {};
template <std::size_t K>
struct avg_pool : pool2d<K, detail::pool_avg> {};

}  // namespace nn
