// Training by mini-batch stochastic gradient descent, and evaluation.
//
// One training step (trainer::step): the mini-batch's inputs and targets are copied into the network's
// workspace, then either the optimizer's update is fused into backprop (plain SGD) or backprop writes the
// mean gradient and the optimizer's step() applies it.
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
#include "nn/random.hpp"
#include "nn/step.hpp"

namespace nn {

// What happened in one epoch, given to trainer::on_epoch.
struct epoch_report {
  std::size_t epoch = 0;      // 0-based, like the course's "Epoch 0"
  std::size_t epochs = 0;     // epochs in the whole run
  std::size_t samples = 0;    // training samples seen this epoch
  double seconds = 0;         // training time of the epoch (evaluation excluded)
  double mean_cost = 0;       // (1/n) Σ_x C_x over the epoch's training samples, each before its update
  std::size_t correct = 0;    // test samples classified correctly (see nn::evaluate)
  std::size_t tested = 0;     // test samples; 0 when fit was given no test data
  double eval_seconds = 0;    // evaluation time
  std::size_t threads = 1;    // threads the epoch trained on (see trainer::threads)
  double learning_rate = 0;   // the optimizer's learning_rate during the epoch (0 if it has none)
  std::size_t best_epoch = 0;  // with early stopping: the best epoch so far (its parameters are kept)
  bool stopped_early = false;  // with early stopping: this was the last epoch
};

// Learning-rate schedules for trainer::schedule: the factor for each (0-based) epoch.
// Step decay: 1 for the first `every` epochs, then `factor`, factor², …
inline std::function<double(std::size_t)> step_decay(std::size_t every, double factor) {
  if (every == 0 || !(factor > 0)) throw std::invalid_argument("nn::step_decay: every must be ≥ 1 and factor > 0");
  return [=](std::size_t e) { return std::pow(factor, static_cast<double>(e / every)); };
}
// Cosine decay (Loshchilov & Hutter's SGDR without restarts): from 1 at epoch 0 down to `floor` at epoch
// `epochs` − 1 along half a cosine; `floor` after that.
inline std::function<double(std::size_t)> cosine_decay(std::size_t epochs, double floor = 0.01) {
  if (epochs == 0 || !(floor > 0 && floor <= 1))
    throw std::invalid_argument("nn::cosine_decay: epochs must be ≥ 1 and floor in (0, 1]");
  return [=](std::size_t e) {
    if (e == 0) return 1.0;
    if (e + 1 >= epochs) return floor;
    const double t = static_cast<double>(e) / static_cast<double>(epochs - 1);
    return floor + (1 - floor) * 0.5 * (1 + std::cos(3.14159265358979323846 * t));
  };
}

// The course's line and a little more: "Epoch 0: 9129 / 10000  (1.23 s, mean cost 0.0412)",
// or "Epoch 0 complete  (...)" when there is no test data.
inline std::string format_report(const epoch_report& r) {
  char buf[160];
  if (r.tested)
    std::snprintf(buf, sizeof buf, "Epoch %zu: %zu / %zu  (%.2f s, mean cost %.4f)", r.epoch, r.correct, r.tested,
                  r.seconds, r.mean_cost);
  else
    std::snprintf(buf, sizeof buf, "Epoch %zu complete  (%.2f s, mean cost %.4f)", r.epoch, r.seconds, r.mean_cost);
  return buf;
}

// The default per-epoch report: format_report's line on standard output.
inline void print_report(const epoch_report& r) {
  std::printf("%s\n", format_report(r).c_str());
  std::fflush(stdout);
}

// Training whose cost stopped being finite, or grew by orders of magnitude: the learning rate is most
// likely too large. Epochs and mini-batches count from 0, as epoch_report and the per-epoch report
// ("Epoch 0: ...") do; the message also gives ordinals ("epoch 2 (the 3rd of 10)"), so it reads the same
// whichever way a program numbers its own lines.
class divergence_error : public std::runtime_error {
 public:
  // Where and how.
  struct context {
    std::size_t epoch = 0;              // 0-based
    std::size_t epochs = 0;             // epochs in the run (0: not known)
    bool in_batch = false;              // a mini-batch's cost gave it away, not the epoch's mean
    std::size_t batch = 0;              // 0-based mini-batch of the epoch, when in_batch
    std::size_t batches = 0;            // mini-batches in an epoch (0: not known)
    double cost = 0;                    // mean cost per sample of that mini-batch, or of the epoch
    double reference = 0;               // what it grew from
    std::size_t reference_batches = 0;  // the run's first mini-batches `reference` is the mean of; 0: the first epoch
    double learning_rate = 0;           // 0: the optimizer has none
    std::size_t examples = 0;           // online training (nn::online_trainer): examples seen; 0: epochs
  };

  explicit divergence_error(const context& c) : std::runtime_error(message(c)), where_(c) {}
  std::size_t epoch() const noexcept { return where_.epoch; }
  double learning_rate() const noexcept { return where_.learning_rate; }
  const context& where() const noexcept { return where_; }

 private:
  static std::string ordinal(std::size_t n) {
    const char* suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
    return std::to_string(n) + suffix;
  }
  // %g (1e-07, 0.5), with ".0" on whole numbers so a learning rate still reads as one (3.0, 50.0).
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }
  static std::string message(const context& d) {
    std::string s;
    if (d.examples) {  // a stream has no epochs, and its length is not known
      s = "nn: online training diverged at its " + ordinal(d.batch + 1) + " step (after " + std::to_string(d.examples) +
          " example" + (d.examples == 1 ? "" : "s") + ")";
    } else {
      s = "nn: training diverged in epoch " + std::to_string(d.epoch);
      if (d.epochs) s += " (the " + ordinal(d.epoch + 1) + " of " + std::to_string(d.epochs) + ")";
      if (d.in_batch) s += ", at its " + ordinal(d.batch + 1) + " mini-batch" + (d.batches ? " of " + std::to_string(d.batches) : "");
    }
    if (d.learning_rate > 0) s += std::string(d.in_batch ? "," : "") + " at learning rate " + number(d.learning_rate);
    char buf[160];
    if (std::isinf(d.cost)) {
      s += ": the cost grew past the largest representable number";
    } else if (std::isnan(d.cost)) {
      s += ": the cost is no longer a number (an overflow, or a value in the data that is not a number)";
    } else {
      if (d.reference_batches)
        std::snprintf(buf, sizeof buf, ": the mean cost per sample grew from %.4g over the first %zu %s to %.4g",
                      d.reference, d.reference_batches,
                      d.examples ? (d.reference_batches == 1 ? "step" : "steps")
                                 : (d.reference_batches == 1 ? "mini-batch" : "mini-batches"),
                      d.cost);
      else
        std::snprintf(buf, sizeof buf, ": the mean cost grew from %.4g in the first epoch to %.4g", d.reference, d.cost);
      s += buf;
    }
    if (d.learning_rate > 0) s += "; try a smaller learning rate";
    return s;
  }
  context where_;
};

// A cost this many times the run's scale counts as divergence: a mini-batch's mean cost against the
// mean over the run's first few mini-batches, an epoch's mean cost against the first epoch's.
inline constexpr double divergence_factor = 1e4;

namespace detail {

template <class Net, class Data>
void check_shapes(const Data& d, const char* what) {
  static_assert(data_source<Data, typename Net::value_type>,
                "nn: the data must satisfy nn::data_source<Data, T>: size(), input_size(), output_size(), "
                "input(i) and target(i) as contiguous ranges of T (see docs/policies.md)");
  if constexpr (detail::static_inputs<Data>() != dynamic) detail::check_input_size<Net::inputs, detail::static_inputs<Data>()>();
  if constexpr (detail::static_outputs<Data>() != dynamic) detail::check_output_size<Net::outputs, detail::static_outputs<Data>()>();
  if (d.input_size() != Net::inputs || d.output_size() != Net::outputs)
    throw std::invalid_argument(std::string("nn: the ") + what + " data has inputs of " + std::to_string(d.input_size()) +
                                " values and targets of " + std::to_string(d.output_size()) +
                                ", but the network has " + std::to_string(Net::inputs) + " inputs and " +
                                std::to_string(Net::outputs) + " outputs");
}

// Copies samples idx[0..m) into the workspace's input and target rows first, first + 1, … (padding stays
// zero); bytes of a byte_input_source are converted on the way. The count is the network's input width, a
// compile-time constant, so GCC vectorises the conversion at full width with no scalar tail at -O3, and
// even at -O2 (GCC 12's very cheap cost model, which allows no tail) when the width is a multiple of 16,
// as 784 is.
template <class Net, class Data>
void gather_rows(const Data& d, std::span<const std::size_t> idx, typename Net::workspace& ws, std::size_t first) {
  using T = typename Net::value_type;
  constexpr bool bytes = byte_input_source<Data, T>;
  using in_type = std::conditional_t<bytes, std::uint8_t, T>;
  T scale = T(1);
  if constexpr (bytes) scale = static_cast<T>(d.input_scale());
  auto x = ws.template a<0>(first, idx.size());
  auto y = ws.target(first, idx.size());
  for (std::size_t r = 0; r < idx.size(); ++r) {
    const auto in = std::span<const in_type>(d.input(idx[r]));
    const auto out = std::span<const T>(d.target(idx[r]));
    if (in.size() != Net::inputs || out.size() != Net::outputs)
      throw std::invalid_argument("nn: sample " + std::to_string(idx[r]) + " of the data has an input of " +
                                  std::to_string(in.size()) + " values and a target of " + std::to_string(out.size()) +
                                  ", but the network has " + std::to_string(Net::inputs) + " inputs and " +
                                  std::to_string(Net::outputs) + " outputs");
    if constexpr (bytes) detail::bytes_to_values(in.data(), Net::inputs, scale, x.row_data(r));
    else std::copy_n(in.data(), Net::inputs, x.row_data(r));
    std::copy_n(out.data(), Net::outputs, y.row_data(r));
  }
}

// The same into rows 0..m), which become the workspace's mini-batch.
template <class Net, class Data>
void gather(const Data& d, std::span<const std::size_t> idx, typename Net::workspace& ws) {
  ws.set_rows(idx.size());
  gather_rows<Net>(d, idx, ws, 0);
}

// Asks the memory system for samples idx[…]'s inputs, which the next mini-batch will read: shuffled
// samples are scattered over the whole data set, so without this every one is a cache miss.
template <class Data>
void prefetch_inputs(const Data& d, std::span<const std::size_t> idx) {
  for (const std::size_t i : idx) {
    const auto in = d.input(i);
    const auto* p = reinterpret_cast<const char*>(std::data(in));
    const std::size_t bytes = std::size(in) * sizeof(*std::data(in));
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
  }
}

template <class T>
std::size_t argmax(const T* v, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(v, v + n) - v);
}

template <class O>
double learning_rate_of(const O& o) {
  if constexpr (requires { o.learning_rate; }) return static_cast<double>(o.learning_rate);
  else return 0.0;
}

}  // namespace detail

// Whether the network's output for a sample counts as correct: the largest output is at the target's
// largest value (the course's rule for one-hot labels); with a single output, output and target are
// on the same side of 0.5. A data source with a member is_correct(output, target) (spans of T) decides
// for its own samples instead, e.g. targets that encode the class in binary (docs/policies.md).
template <class T>
bool is_correct(std::span<const T> output, std::span<const T> target) {
  if (output.size() == 1) return (output[0] > T(0.5)) == (target[0] > T(0.5));
  return detail::argmax(output.data(), output.size()) == detail::argmax(target.data(), target.size());
}

namespace detail {

// The correct count over samples [first, last) of data, in chunks of a workspace's rows.
template <class Net, class Data>
std::size_t count_correct(const Net& net, const Data& data, std::size_t first, std::size_t last,
                          typename Net::workspace& ws) {
  using T = typename Net::value_type;
  const std::size_t chunk = ws.capacity();
  std::vector<std::size_t> idx(chunk);
  std::size_t correct = 0;
  for (std::size_t s0 = first; s0 < last; s0 += chunk) {
    const std::size_t m = std::min(chunk, last - s0);
    std::iota(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(m), s0);
    detail::gather<Net>(data, std::span<const std::size_t>(idx.data(), m), ws);
    net.template forward<false>(ws);
    for (std::size_t r = 0; r < m; ++r) {
      const std::span<const T> out(ws.output().row_data(r), Net::outputs), target(ws.target().row_data(r), Net::outputs);
      if constexpr (requires { { data.is_correct(out, target) } -> std::convertible_to<bool>; }) {
        correct += static_cast<bool>(data.is_correct(out, target));  // the data knows its own encoding
      } else {
        // A member of that name that cannot be called so would be ignored without a word, and the
        // accuracy counted by the wrong rule.
        static_assert(!requires { &Data::is_correct; },
                      "nn: the data's is_correct member must be callable as "
                      "bool is_correct(std::span<const T> output, std::span<const T> target) const");
        correct += is_correct<T>(out, target);
      }
    }
  }
  return correct;
}

// Workspaces for evaluation, one per member of a team: made once per training run (allocating them
// every epoch costs page faults: a 64-row workspace of 784-30-10 is 240 KB).
template <class Net>
std::vector<typename Net::workspace> evaluation_workspaces(std::size_t members) {
  constexpr std::size_t chunk = 48;  // rows converted and fed forward at a time
  return std::vector<typename Net::workspace>(members, typename Net::workspace(chunk));
}

// The same over all of data, the team's members taking one contiguous part each.
template <class Net, class Data>
std::size_t evaluate_on(thread_team& team, const Net& net, const Data& data, std::vector<typename Net::workspace>& ws) {
  std::vector<std::size_t> correct(team.size());
  const std::size_t n = data.size(), parts = team.size();
  team.run([&](std::size_t t) { correct[t] = count_correct(net, data, n * t / parts, n * (t + 1) / parts, ws[t]); });
  return std::accumulate(correct.begin(), correct.end(), std::size_t{0});
}

}  // namespace detail

// How many samples of `data` the network classifies correctly (see is_correct), on `threads` threads
// (each takes a contiguous part of the data; the count is the same for any number).
template <class Net, class Data>
std::size_t evaluate(const Net& net, const Data& data, std::size_t threads = 1) {
  detail::check_shapes<Net>(data, "test");
  auto ws = detail::evaluation_workspaces<Net>(std::min(std::max<std::size_t>(threads, 1), std::max<std::size_t>(1, data.size() / 256)));
  if (ws.size() == 1) return detail::count_correct(net, data, 0, data.size(), ws[0]);
  detail::thread_team team(ws.size());
  return detail::evaluate_on(team, net, data, ws);
}

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
      const auto after_step = [&](std::size_t s0, std::size_t m, double cost) {
        total += cost;
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
          after_step(s0, m, static_cast<double>(batch_cost));
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
