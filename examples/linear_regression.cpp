// The crash course's linear regression: one neuron with the identity activation and squared loss,
// trained by mini-batch SGD on a CSV (California housing: total_rooms -> median_house_value by default).
// Prints weight, bias and RMSE per epoch, writes the loss curve as CSV and SVG, and with --grid runs
// learning rates x epochs x batch sizes and prints the course's verdict for each.
#include <nn/data/stats.hpp>
#include <nn/network.hpp>
#include <nn/tuning.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "chart.hpp"

namespace {

struct options {
  std::string csv;
  std::vector<std::string> features;
  std::string label = "median_house_value";
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> derived;  // name = a / b
  double lr = 0.01, label_scale = 1000;
  std::size_t epochs = 30, batch = 30;
  bool scale = true;
  std::uint64_t seed = 1;
  std::string curve = "loss_curve.csv", svg = "loss_curve.svg", grid;
  bool describe = false;
  bool features_given = false;  // --feature or --derive: --describe shows only those and the label
};

void usage(std::FILE* out) {
  std::fprintf(out,
      "Usage: linear_regression CSV [options]\n"
      "  --feature NAME       a feature column (repeat for several; default total_rooms)\n"
      "  --label NAME         the label column (default median_house_value)\n"
      "  --derive NAME=A/B    add a feature NAME = column A / column B (e.g. rooms_per_person=total_rooms/population)\n"
      "  --label-scale X      divide the label by X (default 1000: house values in thousands, as in the course)\n"
      "  --lr X               learning rate (default 0.01)\n"
      "  --epochs N           (default 30)\n"
      "  --batch N            mini-batch size (default 30)\n"
      "  --no-scale           do not z-score the features (then SGD needs a much smaller learning rate)\n"
      "  --seed N             initial weights and shuffles (default 1)\n"
      "  --curve FILE         loss curve as CSV (default loss_curve.csv)\n"
      "  --svg FILE           loss curve as an SVG picture (default loss_curve.svg)\n"
      "  --grid L1,L2:E1,E2:B1,B2   try every learning rate x epochs x batch size; print the verdicts\n"
      "  --describe           print the statistics and correlations of every column (of the features and\n"
      "                       the label, when --feature or --derive is given), then stop\n\n"
      "The crash course's file is california_housing_train.csv from its public data sets\n"
      "(download.mlcc.google.com/mledu-datasets/california_housing_train.csv).\n");
}

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "linear_regression: %s\n", msg.c_str());
  std::exit(2);
}

std::vector<double> list(const std::string& s) {
  std::vector<double> v;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(',', start), s.size());
    char* e = nullptr;
    const std::string part = s.substr(start, end - start);
    v.push_back(std::strtod(part.c_str(), &e));
    if (part.empty() || *e) fail("--grid: '" + part + "' is not a number");
    start = end + 1;
  }
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() {
      const std::string v = value();
      char* e = nullptr;
      const double d = std::strtod(v.c_str(), &e);
      if (v.empty() || *e || !(d > 0)) fail(a + " expects a positive number, got '" + v + "'");
      return d;
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--feature") o.features.push_back(value());
    else if (a == "--label") o.label = value();
    else if (a == "--derive") {
      const std::string v = value();
      const auto eq = v.find('='), slash = v.find('/');
      if (eq == std::string::npos || slash == std::string::npos || slash < eq) fail("--derive expects NAME=A/B, got '" + v + "'");
      o.derived.push_back({v.substr(0, eq), {v.substr(eq + 1, slash - eq - 1), v.substr(slash + 1)}});
    } else if (a == "--label-scale") o.label_scale = number();
    else if (a == "--lr") o.lr = number();
    else if (a == "--epochs") o.epochs = static_cast<std::size_t>(number());
    else if (a == "--batch") o.batch = static_cast<std::size_t>(number());
    else if (a == "--seed") o.seed = static_cast<std::uint64_t>(number());
    else if (a == "--no-scale") o.scale = false;
    else if (a == "--curve") o.curve = value();
    else if (a == "--svg") o.svg = value();
    else if (a == "--grid") o.grid = value();
    else if (a == "--describe") o.describe = true;
    else if (!a.empty() && a[0] == '-') fail("unknown option '" + a + "' (see --help)");
    else o.csv = a;
  }
  o.features_given = !o.features.empty() || !o.derived.empty();
  if (!o.features_given) o.features.push_back("total_rooms");
  return o;
}

// The loss curve as a picture: RMSE against epoch, with axes and labels (the examples' chart writer).
void write_svg(const std::string& path, const std::vector<double>& rmse, const std::string& title) {
  example::line l{"training RMSE", {}, rmse};
  for (std::size_t i = 0; i < rmse.size(); ++i) l.x.push_back(static_cast<double>(i));
  example::write_line_charts(path, {{title, "epoch", "RMSE", {l}}});
}

template <std::size_t N>
int run(const options& o, const nn::table& t, const std::vector<std::string>& names) {
  nn::dataset<double, N, 1> data;
  std::vector<double> mean(N, 0), sd(N, 1);
  const auto& label = t[o.label];
  for (std::size_t c = 0; c < N && o.scale; ++c) {
    const auto s = nn::describe(nn::table{{names[c]}, {t[names[c]]}})[0];
    mean[c] = s.mean;
    sd[c] = s.std > 0 ? s.std : 1;
  }
  std::array<double, N> x;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    for (std::size_t c = 0; c < N; ++c) x[c] = (t[names[c]][r] - mean[c]) / sd[c];
    data.add(std::span<const double>(x), std::span<const double>(std::array<double, 1>{label[r] / o.label_scale}));
  }
  using net_t = nn::basic_network<nn::policies<double, nn::identity>, N, 1>;

  auto train = [&](double lr, std::size_t epochs, std::size_t batch, bool print) {
    net_t net(o.seed, nn::scaled_normal_init{});
    nn::trainer<nn::sgd, nn::squared_error> tr{nn::sgd{lr}};
    tr.epochs = epochs;
    tr.batch_size = batch;
    tr.seed = o.seed;
    std::vector<double> rmse;
    tr.on_epoch = [&](const nn::epoch_report& r) {
      rmse.push_back(std::sqrt(r.mean_cost));
      if (!print) return;
      std::printf("epoch %3zu  ", r.epoch);  // from 0, like nn's reports and its divergence message
      for (std::size_t c = 0; c < N; ++c) std::printf("w[%s] %10.4f  ", names[c].c_str(), net.weight(0, 0, c));
      std::printf("bias %10.4f  RMSE %.4f\n", net.bias(0, 0), rmse.back());
    };
    std::string error;
    try {
      tr.fit(net, data);
    } catch (const nn::divergence_error& e) {
      error = e.what();
      rmse.push_back(std::numeric_limits<double>::infinity());
    }
    return std::pair{rmse, error};
  };

  std::printf("%zu examples; label %s / %g; features:", t.rows(), o.label.c_str(), o.label_scale);
  for (const auto& n : names) std::printf(" %s", n.c_str());
  std::printf("%s\n", o.scale ? " (z-scored: weights are per standard deviation)" : " (raw)");

  if (!o.grid.empty()) {
    const auto colon1 = o.grid.find(':'), colon2 = o.grid.find(':', colon1 + 1);
    if (colon1 == std::string::npos || colon2 == std::string::npos) fail("--grid expects LRS:EPOCHS:BATCHES");
    const auto lrs = list(o.grid.substr(0, colon1)), eps = list(o.grid.substr(colon1 + 1, colon2 - colon1 - 1)),
               bss = list(o.grid.substr(colon2 + 1));
    std::printf("\n%10s %7s %6s %14s  %s\n", "lr", "epochs", "batch", "final RMSE", "verdict");
    double best = std::numeric_limits<double>::infinity(), best_lr = 0, best_e = 0, best_b = 0;
    for (double lr : lrs)
      for (double e : eps)
        for (double b : bss) {
          const auto [rmse, error] = train(lr, static_cast<std::size_t>(e), static_cast<std::size_t>(b), false);
          const auto verdict = error.empty() ? nn::judge_loss(rmse) : nn::loss_trend::diverged;
          char final_rmse[32];
          if (std::isfinite(rmse.back())) std::snprintf(final_rmse, sizeof final_rmse, "%14.4f", rmse.back());
          else std::snprintf(final_rmse, sizeof final_rmse, "%14s", "-");
          std::printf("%10g %7g %6g %s  %s\n", lr, e, b, final_rmse, nn::advice(verdict));
          if (rmse.back() < best) best = rmse.back(), best_lr = lr, best_e = e, best_b = b;
        }
    if (std::isfinite(best))
      std::printf("\nlowest final RMSE: %.4f with learning rate %g, %g epochs, batch %g. A run that \"converged\"\n"
                  "well above it settled where its learning rate or batch size let it: compare, don't just read one curve.\n",
                  best, best_lr, best_e, best_b);
    return 0;
  }

  const auto [rmse, error] = train(o.lr, o.epochs, o.batch, true);
  if (!error.empty()) {
    std::printf("%s\n", error.c_str());
    return 1;
  }
  std::printf("verdict: %s\n", nn::advice(nn::judge_loss(rmse)));
  std::ofstream curve(o.curve);
  curve << "epoch,rmse\n";
  for (std::size_t i = 0; i < rmse.size(); ++i) curve << i << "," << rmse[i] << "\n";
  char title[64];
  std::snprintf(title, sizeof title, "RMSE per epoch, learning rate %g", o.lr);
  write_svg(o.svg, rmse, title);
  std::printf("loss curve: %s and %s\n", o.curve.c_str(), o.svg.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  if (o.csv.empty()) {
    std::fprintf(stderr, "linear_regression: give the path of a CSV file.\n\n");
    usage(stderr);
    return 2;
  }
  try {
    nn::csv_options co;
    co.missing = nn::missing_values::skip_row;
    nn::table t = nn::read_csv(o.csv, co);
    (void)t[o.label];
    std::vector<std::string> names = o.features;
    for (const auto& [name, ab] : o.derived) {
      const auto &a = t[ab.first], &b = t[ab.second];
      std::vector<double> v(a.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = b[i] != 0 ? a[i] / b[i] : 0.0;
      t.add(name, std::move(v));
      names.push_back(name);
    }
    for (const auto& n : names) (void)t[n];
    if (o.describe) {
      if (o.features_given) {
        nn::table shown;
        for (const auto& n : names) shown.add(n, t[n]);
        shown.add(o.label, t[o.label]);
        t = std::move(shown);
      }
      std::printf("%zu rows\n\n%s\nCorrelation (Pearson):\n%s", t.rows(), nn::format_describe(nn::describe(t)).c_str(),
                  nn::format_correlation(t, nn::correlation(t)).c_str());
      return 0;
    }
    switch (names.size()) {
      case 1: return run<1>(o, t, names);
      case 2: return run<2>(o, t, names);
      case 3: return run<3>(o, t, names);
      case 4: return run<4>(o, t, names);
      default: fail("between 1 and 4 features, please (got " + std::to_string(names.size()) + ")");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "linear_regression: %s\n", e.what());
    return 1;
  }
}
