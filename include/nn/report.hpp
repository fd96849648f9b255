// What training tells its caller: the per-epoch report (nn::epoch_report, the course's "Epoch j: correct
// / n" line), the error when training diverges, and the learning-rate schedules of trainer::schedule.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "nn/callback.hpp"

namespace nn {

// What happened in one epoch, given to trainer::on_epoch.
struct epoch_report {
  std::size_t epoch = 0;      // 0-based, like the course's "Epoch 0"
  std::size_t epochs = 0;     // epochs in the whole run
  std::size_t samples = 0;    // training samples seen this epoch
  double seconds = 0;         // training time of the epoch (evaluation excluded)
  double mean_cost = 0;       // (1/n) Σ_x C_x over the epoch's training samples, each before its update
  std::size_t train_correct = 0;  // training samples classified correctly in the same passes (with dropout,
                                  // before their update): Keras's running "accuracy"
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
inline callback<double(std::size_t)> step_decay(std::size_t every, double factor) {
  if (every == 0 || !(factor > 0)) throw std::invalid_argument("nn::step_decay: every must be ≥ 1 and factor > 0");
  return [=](std::size_t e) { return std::pow(factor, static_cast<double>(e / every)); };
}
// Cosine decay (Loshchilov & Hutter's SGDR without restarts): from 1 at epoch 0 down to `floor` at epoch
// `epochs` − 1 along half a cosine; `floor` after that.
inline callback<double(std::size_t)> cosine_decay(std::size_t epochs, double floor = 0.01) {
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

}  // namespace nn
