// How a training step's work is shared (nn/step.hpp tells the whole story): the concept nn::executor, a
// member's rows of a mini-batch, and nn::one_thread, the executor of a step on the calling thread. The
// model needs no more than this to share the statistics of layers that couple the mini-batch's rows
// (nn::batch_norm) between the members of a step.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nn {

struct row_range {
  std::size_t first = 0, count = 0;
};

// Member `rank`'s contiguous part of m rows shared by `size` members: how threads split a mini-batch, and
// processes too (trainer::processes).
constexpr row_range part_of(std::size_t m, std::size_t rank, std::size_t size) noexcept {
  const std::size_t first = m * rank / size, last = m * (rank + 1) / size;
  return {first, last - first};
}

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

// True for an executor whose members see only part of the mini-batch and add their gradients up over
// processes (nn::process_member): the update cannot be fused into the gradient kernels.
template <class E>
constexpr bool exchanges_gradients() {
  if constexpr (requires { E::exchanges_gradients; }) return E::exchanges_gradients;
  else return false;
}

// Processes that train one network together, data parallel (docs/distributed.md): what the trainer
// needs of the library that connects them. nn::mpi::group (nn/mpi.hpp, the nn::mpi component) is one
// over MPI; nn itself needs none. Every process calls every function in the same order (collectives).
// A failure to communicate never returns: the implementation stops every process with a message that
// says which process and which exchange (abort), so that no process waits for ever.
class process_group {
 public:
  virtual ~process_group() = default;
  virtual std::size_t size() const noexcept = 0;
  virtual std::size_t rank() const noexcept = 0;
  // Adds `values` up over every process, in place; every process gets the same sums. `what` names the
  // exchange in messages ("the gradient of epoch 3, step 120").
  virtual void sum(std::span<float> values, const char* what) = 0;
  virtual void sum(std::span<double> values, const char* what) = 0;
  // Rank 0's bytes to every process (the others' vectors are resized and overwritten).
  virtual void broadcast(std::vector<std::uint8_t>& bytes, const char* what) = 0;
  // Stops every process of the group because this one failed; `why` goes to standard error first.
  [[noreturn]] virtual void abort(const std::string& why) noexcept = 0;
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
