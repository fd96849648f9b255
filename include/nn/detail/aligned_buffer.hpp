// Zero-initialised, SIMD-aligned heap storage with value semantics.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/simd/xsimd_compat.hpp"

namespace nn::detail {

template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds plain numbers only");

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t n) : size_(n) { allocate(); }
  aligned_buffer(const aligned_buffer& o) : size_(o.size_) {
    allocate();
    if (size_) std::memcpy(data_, o.data_, size_ * sizeof(T));
  }
  aligned_buffer(aligned_buffer&& o) noexcept
      : raw_(std::exchange(o.raw_, nullptr)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  aligned_buffer& operator=(const aligned_buffer& o) {
    if (this != &o) {
      aligned_buffer tmp(o);
      swap(tmp);
    }
    return *this;
  }
  aligned_buffer& operator=(aligned_buffer&& o) noexcept {
    aligned_buffer tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~aligned_buffer() { release(); }

  void swap(aligned_buffer& o) noexcept {
    std::swap(raw_, o.raw_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<T> span() noexcept { return {data_, size_}; }
  std::span<const T> span() const noexcept { return {data_, size_}; }

 private:
  // Plain operator new of the bytes plus one alignment block, aligned by hand: a buffer freed and then
  // made again at the same size (a result returned on every call) gets the same memory back. (Aligned
  // operator new is glibc's memalign, which asks for more than it keeps, so a freed buffer is too small
  // for the next request of the same size: the heap grows and every call faults in fresh pages.)
  void allocate() {
    if (size_ == 0) return;
    // Round the byte count up to whole alignment blocks so full-width loads of the last row stay inside.
    const std::size_t bytes = (size_ * sizeof(T) + simd::alignment - 1) / simd::alignment * simd::alignment;
    raw_ = ::operator new(bytes + simd::alignment);
    const auto at = reinterpret_cast<std::uintptr_t>(raw_);
    data_ = reinterpret_cast<T*>((at + simd::alignment - 1) / simd::alignment * simd::alignment);
    std::memset(data_, 0, bytes);
  }
  void release() noexcept {
    ::operator delete(raw_);
    raw_ = nullptr;
    data_ = nullptr;
    size_ = 0;
  }

  void* raw_ = nullptr;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// An aligned buffer of each element type, for a class that is not a template over T but serves float
// and double networks (the trainers' gradient scratch): get<T>() is the one a network of T uses.
struct buffer_per_type {
  template <class T>
  aligned_buffer<T>& get() noexcept {
    if constexpr (std::is_same_v<T, float>) return f;
    else return d;
  }
  aligned_buffer<float> f;
  aligned_buffer<double> d;
};

}  // namespace nn::detail

namespace nn {

// A standard allocator whose memory is aligned for nn's kernels (simd::alignment bytes).
template <class T>
struct aligned_allocator {
  using value_type = T;
  aligned_allocator() noexcept = default;
  template <class U>
  aligned_allocator(const aligned_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{simd::alignment}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{simd::alignment}); }
  template <class U>
  bool operator==(const aligned_allocator<U>&) const noexcept { return true; }
};

// A std::vector whose data() suits nn's kernels, e.g. for gradients (basic_network::gradient).
template <class T>
using aligned_vector = std::vector<T, aligned_allocator<T>>;

}  // namespace nn
