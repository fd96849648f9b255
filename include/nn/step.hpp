// One training step, in one place, and the executors that share its work.
//
// nn::train_step: on the mini-batch in a workspace, every member of an executor
//   1. fills its rows of the mini-batch (the caller's `fill`) and runs phase 1 on them (forward, the
//      cost's error, backward: the model's backprop_errors, with barriers inside for layers that need
//      statistics of the whole mini-batch: nn::batch_norm);
//   2. after a barrier, runs phase 2 (each layer's parameter gradient) on its part of the parameters, into a
//      sink: the parameters themselves when the optimizer is plain SGD (fused: one pass instead of three) and
//      the executor's members share them, a gradient buffer otherwise;
//   3. for a gradient buffer: a barrier, the executor's sum of the gradient over all workers, then the
//      optimizer's step (by one member when the parameters are shared, by each when each has a copy);
//   4. parameters with no gradient (batch norm's running statistics) from the batch's statistics, `after`
//      on member 0 (the trainer's bookkeeping), and a last barrier.
// trainer::fit (its threads), trainer::step, online_trainer and the model's sgd_step and gradient (phases
// 1 and 2 alone) all run on this. docs/design.md draws it; docs/layers.md says what a layer sees of it.
//
// An executor (the concept nn::executor) says how the step's work is split:
//   size(), rank()            the members, and which one this is
//   rows(m) -> {first, count} the part of a mini-batch of m rows that is this member's, in the workspace
//   total_rows(m)             the mini-batch's rows over all members (the mean gradient divides by it)
//   barrier() -> bool         waits for every member; true when one failed (then all leave the step)
//   run(f)                    runs f, and if it throws, keeps the exception for the team (one thread: rethrows)
//   sum(span)                 adds a gradient up over all workers, in place (threads share one buffer: nothing)
//   shares_parameters         static: members update one copy of the parameters (threads) or each its own
// nn::one_thread (the default), nn::team_member (the threads of trainer::threads) and nn::process_member
// (those threads in one of several processes that exchange gradients: trainer::processes, over MPI with
// nn/mpi.hpp) are here; layers and optimizers never know which one runs them.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <utility>

#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/float_env.hpp"
#include "nn/detail/thread_team.hpp"
#include "nn/executor.hpp"
#include "nn/fwd.hpp"
#include "nn/layer.hpp"
#include "nn/optimizer.hpp"

namespace nn {

// Member `rank` of a detail::thread_team (trainer::threads): contiguous rows each, one shared copy of the
// parameters. An exception in any member is kept (the first one) and every member leaves at the next
// barrier; the trainer rethrows it after the team is done.
class team_member {
 public:
  static constexpr bool shares_parameters = true;
  // The team's shared record of a failure.
  struct failure {
    std::exception_ptr first;
    std::atomic<bool> failed{false};
  };
  team_member(detail::thread_team& team, std::size_t rank, failure& f) noexcept : team_(&team), rank_(rank), failure_(&f) {}
  std::size_t size() const noexcept { return team_->size(); }
  std::size_t rank() const noexcept { return rank_; }
  row_range rows(std::size_t m) const noexcept {
    return part_of(m, rank_, size());
  }
  std::size_t total_rows(std::size_t m) const noexcept { return m; }
  bool barrier() noexcept { return team_->barrier(); }
  template <class F>
  void run(F&& f) noexcept {
    try {
      f();
    } catch (...) {
      if (!failure_->failed.exchange(true)) failure_->first = std::current_exception();
      team_->flag_failure();
    }
  }
  template <class T>
  void sum(std::span<T>) noexcept {}

 private:
  detail::thread_team* team_;
  std::size_t rank_;
  failure* failure_;
};

// Member `rank` of the thread team of one process in training over several (trainer::processes,
// docs/distributed.md): the process holds its part of every mini-batch (rows [0, m) of its workspace),
// which its threads split as team_member does; the gradient, and the statistics of layers that couple
// the rows, are added up over the processes by member 0 (process_group::sum) once every thread's part is
// in. total_rows is the whole mini-batch's, over all processes (the mean gradient divides by it).
class process_member {
 public:
  static constexpr bool shares_parameters = true;  // within the process
  static constexpr bool exchanges_gradients = true;
  // `what` names the exchanges in messages (the caller keeps it up to date: "step 12 of epoch 3").
  process_member(team_member member, process_group& group, const std::string& what) noexcept
      : member_(member), group_(&group), what_(&what) {}
  // This step's mini-batch: its rows over all processes.
  void batch_rows(std::size_t rows) noexcept { batch_rows_ = rows; }
  std::size_t size() const noexcept { return member_.size(); }
  std::size_t rank() const noexcept { return member_.rank(); }
  row_range rows(std::size_t m) const noexcept { return member_.rows(m); }
  std::size_t total_rows(std::size_t) const noexcept { return batch_rows_; }
  bool barrier() noexcept { return member_.barrier(); }
  template <class F>
  void run(F&& f) noexcept {
    member_.run(std::forward<F>(f));
  }
  template <class T>
  void sum(std::span<T> values) noexcept {
    (void)member_.barrier();  // every thread's part is in
    if (member_.rank() == 0) group_->sum(values, what_->c_str());
  }

 private:
  team_member member_;
  process_group* group_;
  std::size_t batch_rows_ = 0;
  const std::string* what_;
};

// What a step needs besides the model, the workspace and the executor.
template <class T>
struct step_settings {
  T l2 = T(0);         // L2 weight decay λ/n (0: none)
  nn::dropout dropout{};
  // Subnormal numbers become 0 during the step (nn/detail/float_env.hpp: x86's slow path for them cost
  // the course's network a quarter of its speed). Results differ from IEEE arithmetic's only where a value
  // would have been below the normal range (1.2e-38 in float). false: IEEE arithmetic in the step, even
  // in a program that flushes them elsewhere (-ffast-math's start-up code does).
  bool flush_subnormals = true;
};

// One step on the mini-batch of m rows in ws (see the top of this file). `fill(first, count)` puts this
// member's rows into ws (the trainer gathers samples; nothing when they are already there); `after()` runs
// on member 0 once the parameters are updated. grads: the gradient buffer for an optimizer that is not
// fused, sized here. Returns false when a member failed: every member has then left the step.
template <class Net, class Optimizer, class Cost, executor Exec, class Fill, class After>
bool train_step(Net& net, typename Net::workspace& ws, std::size_t m, Optimizer& optimizer, const Cost& cost,
                detail::aligned_buffer<typename Net::value_type>& grads, const step_settings<typename Net::value_type>& s,
                Exec& ex, Fill&& fill, After&& after) {
  using T = typename Net::value_type;
  static_assert(optimizer_for<Optimizer, T>,
                "nn: the optimizer must satisfy nn::optimizer_for<Optimizer, T>: step(params, grads) "
                "with std::span<T> and std::span<const T> (see docs/policies.md)");
  {
    // This member's thread flushes subnormal numbers, or not, from the gather of its rows to the update;
    // `after` (the caller's bookkeeping and callbacks) runs in the thread's own state.
    const detail::subnormal_mode mode(s.flush_subnormals);
    const row_range mine = ex.rows(m);
    bool left = false;  // at a barrier inside phase 1 (layers that couple the rows), where a failure was told
    ex.run([&] {
      fill(mine.first, mine.count);
      left = !net.backprop_errors(ws, cost, m, s.dropout, ex);
    });
    if (left || ex.barrier()) return false;
    const std::size_t part = Exec::shares_parameters ? ex.rank() : 0, parts = Exec::shares_parameters ? ex.size() : 1;
    const std::size_t total = ex.total_rows(m);
    const T rows = static_cast<T>(total);
    if constexpr (has_fused_learning_rate<Optimizer> && Exec::shares_parameters && !exchanges_gradients<Exec>()) {
      const T eta = static_cast<T>(optimizer.fused_learning_rate());
      net.backprop_gradients(ws, gradient_sink<T, true>{net.parameters().data(), -eta / rows, s.l2, m, part, parts, 0, nullptr, total});
    } else {
      net.backprop_gradients(ws, gradient_sink<T, false>{grads.data(), T(1) / rows, s.l2, m, part, parts, 0, nullptr, total});
      (void)ex.barrier();  // no member can have failed since the last one
      ex.sum(grads.span());
      if (!Exec::shares_parameters || ex.rank() == 0)
        ex.run([&] { optimizer.step(net.parameters(), std::span<const T>(grads.span())); });
    }
    // Values with no gradient (batch_norm's running statistics), which no member's phase 2 touches.
    if constexpr (Net::any_couples_rows)
      if (!Exec::shares_parameters || ex.rank() == 0) ex.run([&] { net.update_state(ws, total); });
  }
  if (ex.rank() == 0) ex.run(after);
  return !ex.barrier();
}

// The same on the calling thread, the mini-batch already in ws; returns its total cost.
template <class Net, class Optimizer, class Cost>
typename Net::value_type train_step(Net& net, typename Net::workspace& ws, Optimizer& optimizer, const Cost& cost,
                                    detail::aligned_buffer<typename Net::value_type>& grads,
                                    const step_settings<typename Net::value_type>& s = {}) {
  using T = typename Net::value_type;
  if constexpr (!has_fused_learning_rate<Optimizer>)
    if (grads.size() != Net::parameter_storage) grads = detail::aligned_buffer<T>(Net::parameter_storage);
  one_thread ex;
  (void)train_step(net, ws, ws.rows(), optimizer, cost, grads, s, ex, [](std::size_t, std::size_t) {}, [] {});
  T total(0);
  for (std::size_t r = 0; r < ws.rows(); ++r) total += ws.row_costs()[r];
  return total;
}

}  // namespace nn
