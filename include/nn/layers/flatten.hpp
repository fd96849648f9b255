// nn::flatten: channels × height × width (or any shape) as one vector of the same values in the same
// order, for what comes after convolutions. (nn::dense flattens its input itself; flatten says so in
// the model's type, as ONNX's Flatten does.) No parameters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>

#include "nn/layer.hpp"

namespace nn {

struct flatten {
  static std::string text() { return "flatten"; }
  template <class T, class In>
  struct bind {
    using value_type = T;
    using input_shape = In;
    using output_shape = shape<In::size>;
    using kept_shape = output_shape;
    static constexpr std::size_t parameter_count = 0, parameter_storage = 0, kept_count = 0;
    static constexpr const char* kind = "flatten";
    static void forward(const T*, rows_of<const T, In> x, rows_of<T, output_shape> y) noexcept {
      std::copy_n(x.data(), x.rows() * rows_of<T, output_shape>::stride, y.data());
    }
    static void forward_train(const T* p, rows_of<const T, In> x, rows_of<T, output_shape> y, kept_rows<T, kept_shape>,
                              const train_context&) noexcept {
      forward(p, x, y);
    }
    template <class GI>
    static void backward(const T*, rows_of<const T, output_shape>, kept_rows<T, kept_shape>, const train_context&,
                         rows_of<T, output_shape> g, error_at, GI gi) noexcept {
      if constexpr (!std::is_null_pointer_v<GI>) std::copy_n(g.data(), g.rows() * rows_of<T, output_shape>::stride, gi.data());
    }
    template <bool Accumulate>
    static void gradient(const T*, rows_of<const T, In>, rows_of<const T, output_shape>, const gradient_sink<T, Accumulate>&) noexcept {}
  };
};

}  // namespace nn
