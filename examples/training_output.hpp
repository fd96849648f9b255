// What the training examples show while they train and keep afterwards, written once: a progress bar on a
// terminal (none when the output goes to a file or a pipe) that the per-epoch report line replaces, and the
// per-epoch history as CSV and as an SVG chart (--history FILE), as Keras users get a History and a plot.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nn/report.hpp>

#include "chart.hpp"

namespace example {

// Sets the trainer's on_progress and on_epoch: a bar of the epoch's progress when `wanted` and standard
// output is a terminal, then the epoch's report line in its place (nn::print_report).
template <class Trainer>
void show_progress(Trainer& trainer, bool wanted) {
  const bool bar = wanted && isatty(STDOUT_FILENO);
  if (bar)
    trainer.on_progress = [](std::size_t done, std::size_t total) {
      const int width = 40, filled = static_cast<int>(width * done / total);
      std::printf("\r[%.*s%*s] %3zu%%", filled, "########################################", width - filled, "",
                  100 * done / total);
      std::fflush(stdout);
    };
  trainer.on_epoch = [bar](const nn::epoch_report& r) {
    if (bar) std::printf("\r%*s\r", 48, "");
    nn::print_report(r);
    std::fflush(stdout);
  };
}

// Writes FILE.csv and FILE.svg (a ".csv" or ".svg" ending of FILE is dropped) and returns their names: one
// row per epoch (epoch, mean cost, training and test accuracy, seconds, learning rate), and two charts, the
// mean cost and the accuracies against the epoch. Training accuracy is the share of training samples right in
// their own forward pass, with dropout (epoch_report::train_correct); the test columns (`scored`: the name of
// the data fit scored each epoch on) are empty without such data.
inline std::pair<std::string, std::string> write_history(std::string file, const std::vector<nn::epoch_report>& history,
                                                         const std::string& title, const std::string& scored = "test") {
  for (const char* ending : {".csv", ".svg"})
    if (file.size() > 4 && file.compare(file.size() - 4, 4, ending) == 0) file.resize(file.size() - 4);
  const std::string csv = file + ".csv", svg = file + ".svg";
  std::string rows = "epoch,mean_cost,train_accuracy," + scored + "_accuracy,seconds,learning_rate\n";
  line cost{"mean cost (training)", {}, {}}, train{"training accuracy (during the epoch)", {}, {}},
      test{scored + " accuracy", {}, {}, true};
  for (const auto& r : history) {
    const double e = static_cast<double>(r.epoch), train_acc = r.samples ? double(r.train_correct) / double(r.samples) : 0;
    rows += format("%zu,%.6g,%.6g,", r.epoch, r.mean_cost, train_acc);
    if (r.tested) rows += format("%.6g", double(r.correct) / double(r.tested));
    rows += format(",%.3f,%.6g\n", r.seconds, r.learning_rate);
    cost.x.push_back(e), cost.y.push_back(r.mean_cost);
    train.x.push_back(e), train.y.push_back(train_acc);
    if (r.tested) test.x.push_back(e), test.y.push_back(double(r.correct) / double(r.tested));
  }
  write_file(csv, rows);
  std::vector<line> accuracy{train};
  if (!test.x.empty()) accuracy.push_back(test);
  write_line_charts(svg, {{title, "epoch", "mean cost", {cost}}, {"Accuracy", "epoch", "accuracy", accuracy}});
  return {csv, svg};
}

}  // namespace example
