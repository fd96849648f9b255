// How a training step's work is shared (nn/step.hpp tells the whole story): the concept nn::executor, a
// member's rows of a mini-batch, and nn::one_thread, the executor of a step on the calling thread. The
// model needs no more than this to share the statistics of layers that couple the mini-batch's rows
// (nn::batch_norm) between the members of a step.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

namespace nn {

struct row_range {
  std::size_t first = 0, count = 0;
};

template <class E>
concept executor = requires(E& e, const E& ce, std::span<float> f, std::span<double> d, std::size_t m) {
  { ce.size() } -> std::convertible_to<std::size_t>;
  { ce.rank() } -> std::convertible_to<std::size_t>;
  { ce.rows(m) } -> std::same_as<row_range>;
  { ce.total_rows(m) } -> std::convertible_to<std::size_t>;
  { e.barrier() } -> std::convertible_to<bool>;
  e.run([] {});
  e.sum(f);
  e.sum(d);
  { E::shares_parameters } -> std::convertible_to<bool>;
};

// Everything on the calling thread.
struct one_thread {
  static constexpr bool shares_parameters = true;
  std::size_t size() const noexcept { return 1; }
  std::size_t rank() const noexcept { return 0; }
  row_range rows(std::size_t m) const noexcept { return {0, m}; }
  std::size_t total_rows(std::size_t m) const noexcept { return m; }
  bool barrier() noexcept { return false; }
  template <class F>
  void run(F&& f) {
    f();
  }
  template <class T>
  void sum(std::span<T>) noexcept {}
};

}  // namespace nn
