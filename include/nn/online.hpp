// Online learning, as chapter 1 of the course describes it: the examples come one at a time from a
// stream whose length is not known in advance (a file read as it goes, data generated in real time), and
// the network takes a step after each one, so the cost is a running sum, with no 1/n.
//
//   nn::idx_stream<float> digits("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
//   nn::online_trainer<> t{nn::sgd{0.5}};
//   t.fit(net, digits);             // one pass, a step per example, memory independent of the file size
//
// A stream is any type with input_size(), output_size() and next(x, y) (the concept example_stream):
// nn::idx_stream (nn/data/idx.hpp), nn::csv_stream (nn/data/csv.hpp), nn::sequential_stream over any
// data source, or one's own.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "nn/cost.hpp"
#include "nn/data/dataset.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/clock.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/fwd.hpp"
#include "nn/optimizer.hpp"
#include "nn/train.hpp"

namespace nn {

// A source of examples read one at a time (docs/policies.md): next(x, y) writes the next example's
// input_size() input values and output_size() target values (every one of them: the spans hold the
// previous example) and returns true, or returns false when there are no more, after which it is not
// called again. Bad data throws (nn::data_error for files).
template <class S, class T>
concept example_stream = requires(S& s, std::span<T> x, std::span<T> y) {
  { s.input_size() } -> std::convertible_to<std::size_t>;
  { s.output_size() } -> std::convertible_to<std::size_t>;
  { s.next(x, y) } -> std::convertible_to<bool>;
};

// The samples of a data source (nn::data_source: a dataset, a byte_dataset, one's own) in their order,
// as a stream: inputs given as bytes are converted exactly as the trainer converts them.
template <class Data, class T = float>
class sequential_stream {
  static_assert(data_source<Data, T>, "nn::sequential_stream<Data, T>: Data must be an nn::data_source of T (give T "
                                      "for a data set of double: nn::sequential_stream<nn::dataset<double>, double>)");

 public:
  explicit sequential_stream(const Data& d) : d_(&d) {}
  sequential_stream(const Data&&) = delete;  // it keeps a pointer: the data must outlive the stream
  std::size_t input_size() const { return d_->input_size(); }
  std::size_t output_size() const { return d_->output_size(); }
  bool next(std::span<T> x, std::span<T> y) {
    if (i_ == d_->size()) return false;
    const auto target = std::span<const T>(d_->target(i_));
    if (target.size() != y.size())
      throw std::invalid_argument("nn::sequential_stream: sample " + std::to_string(i_) + " has a target of " +
                                  std::to_string(target.size()) + " values, the stream's reader wants " +
                                  std::to_string(y.size()));
    copy_input(*d_, i_, x);
    std::copy(target.begin(), target.end(), y.begin());
    ++i_;
    return true;
  }
  std::size_t position() const noexcept { return i_; }  // examples delivered so far

 private:
  const Data* d_;
  std::size_t i_ = 0;
};

// What online training has done so far, given to online_trainer::on_report every report_every examples
// and once at the end.
struct online_report {
  std::size_t examples = 0;   // examples trained on so far
  std::size_t steps = 0;      // steps taken (examples / batch_size, rounded up)
  double total_cost = 0;      // Σ_x C_x over every example so far: the course's cost without the 1/n
  double mean_cost = 0;       // total_cost / examples
  double recent_cost = 0;     // mean C_x over the examples since the previous report (each before its step)
  std::size_t recent = 0;     // how many examples that is
  double seconds = 0;         // since fit began
  bool finished = false;      // the stream has ended
};

// "After 10000 examples: mean cost 0.0412 over the last 10000 (total 612.3, 0.15 s)", and at the end
// "Finished after 60000 examples: mean cost 0.0210 (total 1260, 0.92 s)".
inline std::string format_online_report(const online_report& r) {
  char buf[200];
  if (r.finished)
    std::snprintf(buf, sizeof buf, "Finished after %zu examples: mean cost %.4f (total %.6g, %.2f s)", r.examples,
                  r.mean_cost, r.total_cost, r.seconds);
  else
    std::snprintf(buf, sizeof buf, "After %zu examples: mean cost %.4f over the last %zu (total %.6g, %.2f s)", r.examples,
                  r.recent_cost, r.recent, r.total_cost, r.seconds);
  return buf;
}

inline void print_online_report(const online_report& r) {
  std::printf("%s\n", format_online_report(r).c_str());
  std::fflush(stdout);
}

// Trains a network on a stream in one pass, a step per batch_size examples: with the default of 1, the
// course's online learning, w ← w − η ∇C_x after each example x (with m > 1, the mean over each m as
// nn::trainer does; the last step takes whatever remains). Any optimizer and cost. The stream's length
// is never needed, so nothing depends on it (there is no L2 weight decay here: it is scaled by 1/n).
// Divergence throws nn::divergence_error naming the step and example: a non-finite cost at once, or the
// mean cost of a window of 64 examples 10⁴ times that of the first 256 (trainer::fit compares mini-batches
// of shuffled samples; a stream comes in its own order, so single examples are not compared). If the
// stream throws, the examples it gave for the unfinished step are not trained on; every step before is.
template <class Optimizer = sgd, class Cost = quadratic_cost>
class online_trainer {
 public:
  Optimizer optimizer{};
  Cost cost{};
  std::size_t batch_size = 1;
  std::size_t report_every = 10000;  // examples between calls of on_report (0: only the final one)
  callback<void(const online_report&)> on_report = print_online_report;
  bool flush_subnormals = true;  // as nn::trainer's: subnormal numbers become 0 in the steps

  online_trainer() = default;
  explicit online_trainer(Optimizer o, Cost c = {}) : optimizer(std::move(o)), cost(std::move(c)) {}

  // Reads `stream` to its end, training `net` on each example; returns the final report.
  template <class Net, class Stream>
  online_report fit(Net& net, Stream&& stream) {
    using T = typename Net::value_type;
    static_assert(example_stream<std::remove_cvref_t<Stream>, T>,
                  "nn::online_trainer: the stream must satisfy nn::example_stream<Stream, T>: input_size(), "
                  "output_size() and bool next(std::span<T> x, std::span<T> y) (see docs/policies.md)");
    if (batch_size == 0) throw std::invalid_argument("nn::online_trainer: batch_size must be at least 1");
    detail::check_sizes<Net>(stream.input_size(), stream.output_size(), "nn::online_trainer: the stream");
    const double t0 = detail::monotonic_seconds();
    typename Net::workspace ws(batch_size);
    online_report rep;
    double recent_total = 0;
    std::size_t next_report = report_every ? report_every : std::numeric_limits<std::size_t>::max();
    bool report_due = false, ended = false;
    divergence_watch watch;
    while (!ended) {
      ws.set_rows(batch_size);
      std::size_t m = 0;
      // The stream writes straight into the workspace's rows; their padding stays zero. next() is not
      // called again once it has said there are no more.
      while (m < batch_size && !ended) {
        if (stream.next(std::span<T>(ws.input().row_data(m), Net::inputs), std::span<T>(ws.target().row_data(m), Net::outputs)))
          ++m;
        else
          ended = true;
      }
      if (m == 0) break;
      // A report falls due after a step, and goes out once the stream has shown it goes on (at its end,
      // the final report says it all).
      if (report_due) {
        report(rep, recent_total, t0);
        report_due = false;
      }
      ws.set_rows(m);
      const double c = static_cast<double>(train_step(net, ws, optimizer, cost, grads<T>(), step_settings<T>{T(0), {}, flush_subnormals}));
      rep.examples += m;
      ++rep.steps;
      watch.after_step(c, m, rep, detail::learning_rate_of(optimizer));
      rep.total_cost += c;
      recent_total += c;
      rep.recent += m;
      if (rep.examples >= next_report) {
        report_due = true;
        next_report = rep.examples + report_every;
      }
    }
    if (rep.examples == 0) throw std::invalid_argument("nn::online_trainer: the stream gave no examples");
    rep.finished = true;
    return report(rep, recent_total, t0);
  }

 private:
  // Divergence, judged on windows of at least 64 examples so that one unusual example (a stream is not
  // shuffled) is not mistaken for it: a non-finite cost at once, or a window's mean cost divergence_factor
  // times the mean of the first 4 windows (at least 256 examples).
  class divergence_watch {
   public:
    void after_step(double cost, std::size_t m, const online_report& rep, double learning_rate) {
      if (!std::isfinite(cost)) fail(cost / static_cast<double>(m), rep, learning_rate);
      sum_ += cost;
      n_ += m;
      steps_ += 1;
      if (n_ < window) return;
      const double mean = sum_ / static_cast<double>(n_);
      if (windows_ < reference_windows) {
        reference_sum_ += sum_;
        reference_n_ += n_;
        reference_steps_ += steps_;
        if (++windows_ == reference_windows) reference_ = reference_sum_ / static_cast<double>(reference_n_);
      } else if (reference_ > 0 && mean > divergence_factor * reference_) {
        fail(mean, rep, learning_rate);
      }
      sum_ = 0;
      n_ = 0;
      steps_ = 0;
    }

   private:
    static constexpr std::size_t window = 64, reference_windows = 4;
    [[noreturn]] void fail(double cost, const online_report& rep, double learning_rate) const {
      throw divergence_error({.in_batch = true, .batch = rep.steps - 1, .cost = cost,
                              .reference = reference_n_ ? reference_sum_ / static_cast<double>(reference_n_) : 0,
                              .reference_batches = reference_steps_, .learning_rate = learning_rate,
                              .examples = rep.examples});
    }
    double sum_ = 0, reference_sum_ = 0, reference_ = 0;
    std::size_t n_ = 0, steps_ = 0, windows_ = 0, reference_n_ = 0, reference_steps_ = 0;
  };

  // Sends the report so far, then starts a new "recent" window.
  online_report report(online_report& rep, double& recent_total, double t0) {
    rep.recent_cost = rep.recent ? recent_total / static_cast<double>(rep.recent) : 0;
    rep.mean_cost = rep.total_cost / static_cast<double>(rep.examples);
    rep.seconds = detail::monotonic_seconds() - t0;
    const online_report sent = rep;
    if (on_report) on_report(sent);
    recent_total = 0;
    rep.recent = 0;
    return sent;
  }

  // The mean gradient for an optimizer that is not fused; the network decides float or double.
  template <class T>
  detail::aligned_buffer<T>& grads() noexcept { return grads_.template get<T>(); }
  detail::buffer_per_type grads_;
};

}  // namespace nn
