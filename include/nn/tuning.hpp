// Reading a loss curve the way the crash course teaches, for hyper-parameter experiments.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace nn {

enum class loss_trend {
  diverged,          // not finite, ended far above where it started, or rising steadily: lower the learning rate
  oscillating,       // goes up and down, or ends above its start, instead of settling: lower the learning rate
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

// The verdict on a per-epoch loss curve, in this order:
//   diverged          a value is not finite, the curve ends above 10 times its start, or every step of
//                     its last half rises by more than 10·tolerance (relative);
//   oscillating       more than a third of the steps of its last half rise by more than 10·tolerance, or
//                     it ends above where it started (however little: a curve that ends higher has not
//                     settled, whatever its length);
//   still decreasing  the last quarter of the epochs (at least the last step) lowered it by more than
//                     `tolerance` (relative), or it has only one value, which shows no trend yet;
//   converged         none of these.
// "The last half" is at least the last two steps when there are three values or more, and the one step
// of a two-epoch curve, so short curves are judged by the same rules as long ones.
inline loss_trend judge_loss(const std::vector<double>& loss, double tolerance = 0.01) {
  if (loss.empty()) return loss_trend::still_decreasing;
  for (double v : loss)
    if (!std::isfinite(v)) return loss_trend::diverged;
  const std::size_t n = loss.size();
  if (n == 1) return loss_trend::still_decreasing;
  if (loss.back() > 10 * loss.front()) return loss_trend::diverged;
  // Only rises of more than 10·tolerance count: an epoch's mean cost is itself an estimate (over 1,000
  // samples the MSE's relative noise is about √(2/1000) ≈ 4.5%), and SGD's noise at a minimum is not
  // the bouncing of a learning rate that is too large.
  const std::size_t half = n == 2 ? 1 : std::min(n / 2 + 1, n - 2);
  std::size_t ups = 0;
  for (std::size_t i = half; i < n; ++i) ups += loss[i] > loss[i - 1] * (1 + 10 * tolerance);
  const std::size_t steps = n - half;
  if (ups == steps) return loss_trend::diverged;
  if (3 * ups > steps || loss.back() > loss.front()) return loss_trend::oscillating;
  const std::size_t q = n - std::max<std::size_t>(1, n / 4) - 1;
  const double before = loss[q], after = loss.back();
  if (before > 0 && (before - after) / before > tolerance) return loss_trend::still_decreasing;
  return loss_trend::converged;
}

}  // namespace nn
