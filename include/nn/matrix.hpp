// Fixed-size, SIMD-aligned matrices. Rows are padded to a multiple of 64 bytes (whatever the instruction
// set) so every row starts aligned; the padding is kept at zero, which lets kernels run whole registers
// over a row.
// Big matrices live on the heap (a 784x100 float matrix is 306 KiB), small or large alike.
#pragma once

#include <cassert>
#include <cstddef>
#include <limits>
#include <span>

#include "nn/detail/aligned_buffer.hpp"
#include "nn/fwd.hpp"
#include "nn/simd/xsimd_compat.hpp"

namespace nn {

// The compile-time facts of a row of Cols values of T, computed once.
template <class T, std::size_t Cols>
struct row_layout {
  static_assert(Cols > 0, "nn: a matrix needs at least one column");
  using value_type = T;
  static constexpr std::size_t cols = Cols;
  static constexpr std::size_t simd_width = simd::width<T>;
  // Registers that hold the row's values: the kernels' loops run over these.
  static constexpr std::size_t registers = (Cols + simd_width - 1) / simd_width;
  // The row stride in elements: a multiple of 64 bytes (simd::layout_width), the same on every
  // instruction set, so at least `registers` whole registers.
  static constexpr std::size_t stride = (Cols + simd::layout_width<T> - 1) / simd::layout_width<T> * simd::layout_width<T>;
  // Lanes used in the last register (1..simd_width).
  static constexpr std::size_t tail = Cols - (registers - 1) * simd_width;
  static constexpr std::size_t alignment = simd::alignment;
};

// A non-owning view of Rows x Cols values with padded, aligned rows. Rows may be nn::dynamic.
template <class T, std::size_t Rows, std::size_t Cols>
class matrix_ref {
 public:
  using layout = row_layout<std::remove_const_t<T>, Cols>;
  using value_type = std::remove_const_t<T>;
  static constexpr std::size_t cols = Cols;
  static constexpr std::size_t stride = layout::stride;

  constexpr matrix_ref() = default;
  matrix_ref(T* data, std::size_t rows = Rows) noexcept : data_(data), rows_(rows) {}
  // A view of non-const data converts to a view of const data.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  matrix_ref(matrix_ref<U, Rows, Cols> o) noexcept : data_(o.data()), rows_(o.rows()) {}

  std::size_t rows() const noexcept { return rows_; }
  T* data() const noexcept { return data_; }
  T* row_data(std::size_t r) const noexcept { return data_ + r * stride; }
  std::span<T, Cols> row(std::size_t r) const noexcept { return std::span<T, Cols>(row_data(r), Cols); }
  T& operator()(std::size_t r, std::size_t c) const noexcept {
    assert(r < rows_ && c < Cols);
    return data_[r * stride + c];
  }
  // All storage including padding, for whole-buffer operations (parameter updates).
  std::span<T> storage() const noexcept { return {data_, rows_ * stride}; }

 private:
  T* data_ = nullptr;
  std::size_t rows_ = Rows == dynamic ? 0 : Rows;
};

// An owning Rows x Cols matrix (Rows may be nn::dynamic, then given at construction), zero-initialised.
template <class T, std::size_t Rows, std::size_t Cols>
class matrix {
 public:
  using layout = row_layout<T, Cols>;
  using value_type = T;
  using ref = matrix_ref<T, Rows, Cols>;
  using const_ref = matrix_ref<const T, Rows, Cols>;
  static constexpr std::size_t cols = Cols;
  static constexpr std::size_t stride = layout::stride;

  matrix()
    requires(Rows != dynamic)
      : buf_(Rows * stride), rows_(Rows) {}
  explicit matrix(std::size_t rows)
    requires(Rows == dynamic)
      : buf_(rows * stride), rows_(rows) {}

  std::size_t rows() const noexcept { return rows_; }
  T* data() noexcept { return buf_.data(); }
  const T* data() const noexcept { return buf_.data(); }
  T& operator()(std::size_t r, std::size_t c) noexcept { return view()(r, c); }
  const T& operator()(std::size_t r, std::size_t c) const noexcept { return view()(r, c); }
  std::span<T, Cols> row(std::size_t r) noexcept { return view().row(r); }
  std::span<const T, Cols> row(std::size_t r) const noexcept { return view().row(r); }

  ref view() noexcept { return ref(buf_.data(), rows_); }
  const_ref view() const noexcept { return const_ref(buf_.data(), rows_); }
  operator ref() noexcept { return view(); }
  operator const_ref() const noexcept { return view(); }

 private:
  detail::aligned_buffer<T> buf_;
  std::size_t rows_;
};

// A fixed-size vector of N values: a matrix of one padded row.
template <class T, std::size_t N>
using vector = matrix<T, 1, N>;

// A mini-batch of vectors of N values: one sample per row.
template <class T, std::size_t N>
using batch_matrix = matrix<T, dynamic, N>;

}  // namespace nn
