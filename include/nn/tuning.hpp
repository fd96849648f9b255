// Reading a loss curve the way the crash course teaches, for hyper-parameter experiments.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace nn {

enum class loss_trend {
  diverged,          // not finite, or ended far above where it started: lower the learning rate
  oscillating,       // goes up and down instead of settling: lower the learning rate
  still_decreasing,  // still falling at the end: train for more epochs (or raise the learning rate)
  converged          // flat at the end
};

inline const char* advice(loss_trend t) {
  switch (t) {
    case loss_trend::diverged: return "diverged: lower the learning rate";
    case loss_trend::oscillating: return "oscillating: lower the learning rate";
    case loss_trend::still_decreasing: return "still decreasing: train more epochs";
    case loss_trend::converged: return "converged";
  }
  return "";
}

// The verdict on a per-epoch loss curve. Oscillating: in the last half, more than a third of the
// epoch-to-epoch steps go up by more than 10·tolerance (relative). Still decreasing: the last quarter of the epochs lowered the loss by
// more than `tolerance` (relative). Converged: neither.
inline loss_trend judge_loss(const std::vector<double>& loss, double tolerance = 0.01) {
  if (loss.empty()) return loss_trend::still_decreasing;
  for (double v : loss)
    if (!std::isfinite(v)) return loss_trend::diverged;
  if (loss.size() >= 2 && loss.back() > 10 * loss.front()) return loss_trend::diverged;
  const std::size_t n = loss.size();
  if (n >= 4) {
    std::size_t ups = 0, steps = 0;
    // Only rises of more than 10·tolerance count: an epoch's mean cost is itself an estimate (over 1,000
    // samples the MSE's relative noise is about √(2/1000) ≈ 4.5%), and SGD's noise at a minimum is not
    // the bouncing of a learning rate that is too large.
    for (std::size_t i = n / 2 + 1; i < n; ++i, ++steps) ups += loss[i] > loss[i - 1] * (1 + 10 * tolerance);
    if (steps >= 2 && 3 * ups > steps) return loss_trend::oscillating;
  }
  const std::size_t q = n >= 4 ? n - n / 4 - 1 : 0;
  const double before = loss[q], after = loss.back();
  if (before > 0 && (before - after) / before > tolerance) return loss_trend::still_decreasing;
  return loss_trend::converged;
}

}  // namespace nn
