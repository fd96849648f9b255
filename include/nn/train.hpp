// Training by mini-batch stochastic gradient descent: nn::trainer's epochs, shuffles, mini-batches, early
// stopping, schedules and reports. Each mini-batch is one nn::train_step (nn/step.hpp), shared by the
// trainer's threads; evaluation is in nn/evaluate.hpp, reports and divergence in nn/report.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/cost.hpp"
#include "nn/data/dataset.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/detail/thread_team.hpp"
#include "nn/fwd.hpp"
#include "nn/layer.hpp"
#include "nn/optimizer.hpp"
#include "nn/evaluate.hpp"
#include "nn/random.hpp"
#include "nn/report.hpp"
#include "nn/step.hpp"

namespace nn {


// Mini-batch SGD with a pluggable optimizer and cost (docs/policies.md).
//   nn::trainer<> t{nn::sgd{3.0}};  t.epochs = 30;  t.batch_size = 10;
//   t.fit(net, training_data, test_data);
template <class Optimizer, class Cost>
class trainer {
 public:
  Optimizer optimizer{};
  Cost cost{};
  std::size_t epochs = 30;
  std::size_t batch_size = 10;
  std::uint64_t seed = 0;  // seeds the shuffle of every epoch
  // Threads for training and evaluation. A mini-batch is shared out when it has at least
  // min_rows_per_thread samples per thread (smaller ones train on one thread: the threads would cost
  // more than they save); evaluation always uses them. The trained network is the same bit for bit
  // whatever the number (docs/design.md, "Threads").
  std::size_t threads = 1;
  static constexpr std::size_t min_rows_per_thread = 16;
  // L2 regularisation (the course's chapter 3): λ in C = C0 + (λ/2n) Σ_w w², n the training samples; every
  // weight (not the biases) decays by η·λ/n per step. 0: none. Reported costs are C0 (without the L2 term).
  double weight_decay = 0;
  // Optional learning-rate schedule: the factor, at each epoch, by which the optimizer's learning_rate
  // (its value when fit starts) is multiplied, e.g. nn::step_decay(10, 0.5) or nn::cosine_decay(30).
  // fit restores the starting rate when it returns.
  std::function<double(std::size_t epoch)> schedule;
  // Early stopping: with patience p > 0, fit stops when the count correct on the data passed as its
  // third argument (a validation set) has not risen for p epochs, and leaves the network with the
  // parameters of the best epoch (the first of equals). Keras's EarlyStopping with
  // restore_best_weights. 0: off (train all epochs, keep the last parameters).
  std::size_t patience = 0;
  // Dropout on the hidden layers during training (nn::dropout): each hidden unit of each sample is
  // dropped with this probability in each step, the kept ones scaled by 1/(1 − p); evaluation and
  // predict use the whole network. The masks depend on seed, epoch, mini-batch and row only, so results
  // are the same on any number of threads. 0: off.
  double dropout = 0;
  std::function<void(const epoch_report&)> on_epoch = print_report;
  // Optional: (samples done, samples in the epoch), about 100 times an epoch, e.g. for a progress bar.
  std::function<void(std::size_t, std::size_t)> on_progress;

  trainer() = default;
  explicit trainer(Optimizer o, Cost c = {}) : optimizer(std::move(o)), cost(std::move(c)) {}

  template <class Net, class Train>
  std::vector<epoch_report> fit(Net& net, const Train& train) {
    return run(net, train, static_cast<const Train*>(nullptr));
  }
  template <class Net, class Train, class Test>
  std::vector<epoch_report> fit(Net& net, const Train& train, const Test& test) {
    return run(net, train, &test);
  }

  // One step on the mini-batch already in ws; returns the batch's total cost. weight_decay needs n, the
  // number of training samples (fit passes it; by hand, say it here).
  template <class Net>
  typename Net::value_type step(Net& net, typename Net::workspace& ws, std::size_t training_samples = 0) {
    using T = typename Net::value_type;
    const nn::dropout drop{dropout, detail::mix64(seed ^ 0x73746570ULL ^ detail::mix64(++steps_))};
    return train_step(net, ws, optimizer, cost, grads<T>(), step_settings<T>{l2_of<T>(training_samples), drop});
  }

 private:
  using clock = std::chrono::steady_clock;
  std::uint64_t steps_ = 0;  // steps taken by step(), for its dropout masks

  template <class T>
  T l2_of(std::size_t n) const {
    if (weight_decay == 0) return T(0);
    if (n == 0) throw std::invalid_argument("nn::trainer: weight_decay needs the number of training samples");
    return static_cast<T>(weight_decay / static_cast<double>(n));
  }

  // Holds the optimizer's starting learning rate while a schedule changes it, and puts it back.
  class rate_keeper {
   public:
    rate_keeper(Optimizer& o, bool active) : o_(active ? &o : nullptr) {
      if constexpr (requires { o.learning_rate; }) {
        if (o_) base_ = static_cast<double>(o.learning_rate);
      } else if (active) {
        throw std::invalid_argument("nn::trainer: a schedule needs an optimizer with a learning_rate member");
      }
    }
    rate_keeper(const rate_keeper&) = delete;
    rate_keeper& operator=(const rate_keeper&) = delete;
    ~rate_keeper() {
      if constexpr (requires { o_->learning_rate; })
        if (o_) o_->learning_rate = static_cast<decltype(o_->learning_rate)>(base_);
    }
    void apply(Optimizer& o, double factor, std::size_t epoch) {
      if (!(factor > 0) || !std::isfinite(factor))
        throw std::invalid_argument("nn::trainer: the learning-rate schedule gave " + std::to_string(factor) +
                                    " for epoch " + std::to_string(epoch) + "; it must be a finite factor > 0");
      if constexpr (requires { o.learning_rate; }) o.learning_rate = static_cast<decltype(o.learning_rate)>(base_ * factor);
    }

   private:
    Optimizer* o_;
    double base_ = 0;
  };

  template <class Net, class Train, class Test>
  std::vector<epoch_report> run(Net& net, const Train& train, const Test* test) {
    detail::check_shapes<Net>(train, "training");
    if (test) detail::check_shapes<Net>(*test, "test");
    if (batch_size == 0) throw std::invalid_argument("nn::trainer: batch_size must be at least 1");
    if (train.size() == 0) throw std::invalid_argument("nn::trainer: the training data is empty");

    using T = typename Net::value_type;
    static_assert(optimizer_for<Optimizer, T>,
                  "nn::trainer: the optimizer must satisfy nn::optimizer_for<Optimizer, T>: step(params, grads) "
                  "with std::span<T> and std::span<const T> (see docs/policies.md)");
    rng r(seed);
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    typename Net::workspace ws(std::min(batch_size, train.size()));
    std::vector<epoch_report> history;
    history.reserve(epochs);
    if constexpr (!has_fused_learning_rate<Optimizer>)
      if (grads<T>().size() != Net::parameter_storage) grads<T>() = detail::aligned_buffer<T>(Net::parameter_storage);
    if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
      throw std::invalid_argument("nn::trainer: weight_decay must be a finite λ ≥ 0, not " + std::to_string(weight_decay));
    const T l2 = l2_of<T>(train.size());
    if (!(dropout >= 0 && dropout < 1))
      throw std::invalid_argument("nn::trainer: dropout must be a probability in [0, 1), not " + std::to_string(dropout));
    if (patience && !test)
      throw std::invalid_argument("nn::trainer: early stopping (patience) needs validation data: fit(net, train, validation)");
    std::vector<T> best_params;  // early stopping: the parameters after the best epoch so far
    std::size_t best_epoch = 0;
    rate_keeper keep(optimizer, static_cast<bool>(schedule));
    const std::size_t team_size = std::max<std::size_t>(1, std::min(threads, batch_size / min_rows_per_thread));
    detail::thread_team team(team_size);
    std::unique_ptr<detail::thread_team> eval_team;
    if (test && threads > 1) eval_team = team_size == threads ? nullptr : std::make_unique<detail::thread_team>(threads);
    auto eval_ws = detail::evaluation_workspaces<Net>(test ? std::max<std::size_t>(threads, 1) : 0);

    // Divergence is checked after every mini-batch, so that a blow-up inside the first epoch stops at
    // once: a cost that is not finite, or a mini-batch's mean cost divergence_factor times the mean over
    // the run's first few mini-batches (the run's natural scale; the lowest cost so far may be a near-exact
    // fit, where noise alone is a large factor). Each epoch's mean is compared with the first epoch's.
    const std::size_t batches = (order.size() + batch_size - 1) / batch_size;
    const std::size_t reference_batches = std::min<std::size_t>(8, batches);
    std::size_t batches_seen = 0, reference_samples = 0;
    double reference_sum = 0, batch_limit = std::numeric_limits<double>::infinity();

    for (std::size_t e = 0; e < epochs; ++e) {
      if (schedule) keep.apply(optimizer, schedule(e), e);
      const auto t0 = clock::now();
      r.shuffle(std::span<std::size_t>(order));
      double total = 0;
      const std::size_t progress_every = std::max<std::size_t>(1, order.size() / 100);
      std::size_t next_progress = progress_every;
      // After every mini-batch's step, on member 0 only.
      std::size_t train_correct = 0;
      const auto after_step = [&](std::size_t s0, std::size_t m, double cost, std::size_t correct) {
        total += cost;
        train_correct += correct;
        if (!std::isfinite(cost) || cost > batch_limit * static_cast<double>(m))
          throw divergence_error({.epoch = e, .epochs = epochs, .in_batch = true, .batch = s0 / batch_size,
                                  .batches = batches, .cost = cost / static_cast<double>(m),
                                  .reference = reference_sum / static_cast<double>(std::max<std::size_t>(1, reference_samples)),
                                  .reference_batches = reference_batches, .learning_rate = detail::learning_rate_of(optimizer)});
        if (batches_seen < reference_batches) {
          reference_sum += cost;
          reference_samples += m;
          if (++batches_seen == reference_batches && reference_sum > 0)
            batch_limit = divergence_factor * reference_sum / static_cast<double>(reference_samples);
        }
        if (on_progress && s0 + m >= next_progress) {
          on_progress(s0 + m, order.size());
          next_progress = s0 + m + progress_every;
        }
      };
      run_epoch(team, net, train, order, ws, after_step, l2,
                detail::mix64(detail::mix64(seed ^ 0x64726f706f7574ULL) + e));
      if constexpr (has_on_epoch_end<Optimizer>) optimizer.on_epoch_end(e);

      epoch_report rep;
      rep.epoch = e;
      rep.epochs = epochs;
      rep.samples = order.size();
      rep.threads = team.size();
      rep.learning_rate = detail::learning_rate_of(optimizer);
      rep.seconds = std::chrono::duration<double>(clock::now() - t0).count();
      rep.mean_cost = total / static_cast<double>(order.size());
      rep.train_correct = train_correct;
      const double first_cost = history.empty() ? rep.mean_cost : history.front().mean_cost;
      if (!std::isfinite(rep.mean_cost) || (first_cost > 0 && rep.mean_cost > divergence_factor * first_cost))
        throw divergence_error({.epoch = e, .epochs = epochs, .batches = batches, .cost = rep.mean_cost,
                                .reference = first_cost, .learning_rate = detail::learning_rate_of(optimizer)});
      if (test) {
        const auto t1 = clock::now();
        rep.correct = threads <= 1 ? detail::count_correct(net, *test, 0, test->size(), eval_ws[0])
                                   : detail::evaluate_on(eval_team ? *eval_team : team, net, *test, eval_ws);
        rep.tested = test->size();
        rep.eval_seconds = std::chrono::duration<double>(clock::now() - t1).count();
      }
      if (patience) {
        if (best_params.empty() || rep.correct > history[best_epoch].correct) {
          best_epoch = e;
          best_params.assign(net.parameters().begin(), net.parameters().end());
        }
        rep.best_epoch = best_epoch;
        rep.stopped_early = e - best_epoch >= patience && e + 1 < epochs;
      }
      history.push_back(rep);
      if (on_epoch) on_epoch(rep);
      if (rep.stopped_early) break;
    }
    if (patience) std::copy(best_params.begin(), best_params.end(), net.parameters().begin());
    return history;
  }

  // One epoch of mini-batch steps over `order`, every member of the team taking its part of each step
  // (nn::train_step with nn::team_member): its rows of the mini-batch gathered, then its share of both
  // phases. Member 0 does the bookkeeping. A member that throws (a bad sample, the divergence check, a
  // callback) records it; all leave at the next barrier, and it is rethrown here.
  template <class Net, class Data, class After>
  void run_epoch(detail::thread_team& team, Net& net, const Data& train, const std::vector<std::size_t>& order,
                 typename Net::workspace& ws, After& after_step, typename Net::value_type l2,
                 std::uint64_t epoch_key) {
    using T = typename Net::value_type;
    const std::size_t n = order.size();
    team_member::failure failure;
    team.run([&](std::size_t t) {
      team_member ex(team, t, failure);
      for (std::size_t s0 = 0; s0 < n; s0 += batch_size) {
        const std::size_t m = std::min(batch_size, n - s0);
        const auto fill = [&](std::size_t first, std::size_t count) {
          detail::gather_rows<Net>(train, std::span<const std::size_t>(order.data() + s0 + first, count), ws, first);
          if (s0 + batch_size < n) {  // this member's rows of the next mini-batch
            const row_range next = ex.rows(std::min(batch_size, n - s0 - batch_size));
            detail::prefetch_inputs(train, std::span<const std::size_t>(order.data() + s0 + batch_size + next.first, next.count));
          }
        };
        const auto after = [&] {
          T batch_cost(0);
          for (std::size_t s = 0; s < m; ++s) batch_cost += ws.row_costs()[s];
          after_step(s0, m, static_cast<double>(batch_cost), detail::correct_rows<Net>(train, ws, m));
        };
        const step_settings<T> settings{l2, nn::dropout{dropout, detail::mix64(epoch_key + s0)}};
        if (!train_step(net, ws, m, optimizer, cost, grads<T>(), settings, ex, fill, after)) return;
      }
    });
    if (failure.first) std::rethrow_exception(failure.first);
  }

  // Scratch for the mean gradient when the optimizer is not fused; the network decides float or double.
  template <class T>
  detail::aligned_buffer<T>& grads() noexcept { return grads_.template get<T>(); }
  detail::buffer_per_type grads_;
};

}  // namespace nn
