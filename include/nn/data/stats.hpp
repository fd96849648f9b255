// Looking at data before choosing features, as the crash course teaches: per-column statistics like
// pandas' describe() and the Pearson correlation matrix like pandas' corr(), printed as aligned tables.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "nn/data/csv.hpp"

namespace nn {

struct column_summary {
  std::string name;
  std::size_t count = 0;
  double mean = 0, std = 0, min = 0, q25 = 0, q50 = 0, max = 0, q75 = 0;
};

namespace detail {
// Quantile q of sorted values with linear interpolation between closest ranks (pandas' default).
inline double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}
inline std::string cell(double v, int width) {
  char buf[64];
  if (std::isnan(v)) std::snprintf(buf, sizeof buf, "%*s", width, "NaN");
  else std::snprintf(buf, sizeof buf, "%*.4f", width, v);
  return buf;
}
}  // namespace detail

// count, mean, std (sample, n − 1), min, 25%, 50%, 75%, max of every column.
inline std::vector<column_summary> describe(const table& t) {
  std::vector<column_summary> out;
  for (std::size_t c = 0; c < t.cols(); ++c) {
    column_summary s;
    s.name = t.names[c];
    std::vector<double> v = t.columns[c];
    s.count = v.size();
    if (v.empty()) {
      s.mean = s.std = s.min = s.q25 = s.q50 = s.q75 = s.max = std::numeric_limits<double>::quiet_NaN();
    } else {
      double sum = 0;
      for (double x : v) sum += x;
      s.mean = sum / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - s.mean) * (x - s.mean);
      s.std = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : std::numeric_limits<double>::quiet_NaN();
      std::sort(v.begin(), v.end());
      s.min = v.front();
      s.max = v.back();
      s.q25 = detail::quantile(v, 0.25);
      s.q50 = detail::quantile(v, 0.50);
      s.q75 = detail::quantile(v, 0.75);
    }
    out.push_back(s);
  }
  return out;
}

// Pearson correlation of every pair of columns (NaN where a column is constant).
inline std::vector<std::vector<double>> correlation(const table& t) {
  const std::size_t k = t.cols(), n = t.rows();
  std::vector<double> mean(k, 0), norm(k, 0);
  for (std::size_t c = 0; c < k; ++c) {
    for (double x : t.columns[c]) mean[c] += x;
    mean[c] /= static_cast<double>(n);
    for (double x : t.columns[c]) norm[c] += (x - mean[c]) * (x - mean[c]);
    norm[c] = std::sqrt(norm[c]);
  }
  std::vector<std::vector<double>> r(k, std::vector<double>(k));
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = a; b < k; ++b) {
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) s += (t.columns[a][i] - mean[a]) * (t.columns[b][i] - mean[b]);
      const double d = norm[a] * norm[b];
      r[a][b] = r[b][a] = d > 0 ? s / d : std::numeric_limits<double>::quiet_NaN();
    }
  return r;
}

// describe()'s result as pandas prints it: one column per data column, one row per statistic.
inline std::string format_describe(const std::vector<column_summary>& s) {
  std::vector<int> w;
  std::string out = "       ";
  for (const auto& c : s) {
    w.push_back(std::max<int>(14, static_cast<int>(c.name.size()) + 2));
    char buf[128];
    std::snprintf(buf, sizeof buf, "%*s", w.back(), c.name.c_str());
    out += buf;
  }
  out += '\n';
  auto row = [&](const char* label, auto get) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%-7s", label);
    out += buf;
    for (std::size_t i = 0; i < s.size(); ++i) out += detail::cell(get(s[i]), w[i]);
    out += '\n';
  };
  row("count", [](const column_summary& c) { return static_cast<double>(c.count); });
  row("mean", [](const column_summary& c) { return c.mean; });
  row("std", [](const column_summary& c) { return c.std; });
  row("min", [](const column_summary& c) { return c.min; });
  row("25%", [](const column_summary& c) { return c.q25; });
  row("50%", [](const column_summary& c) { return c.q50; });
  row("75%", [](const column_summary& c) { return c.q75; });
  row("max", [](const column_summary& c) { return c.max; });
  return out;
}

// The correlation matrix with the column names on both sides.
inline std::string format_correlation(const table& t, const std::vector<std::vector<double>>& r) {
  std::size_t name_w = 0;
  for (const auto& n : t.names) name_w = std::max(name_w, n.size());
  std::vector<int> w;
  std::string out(name_w, ' ');
  for (const auto& n : t.names) {
    w.push_back(std::max<int>(9, static_cast<int>(n.size()) + 2));
    char buf[128];
    std::snprintf(buf, sizeof buf, "%*s", w.back(), n.c_str());
    out += buf;
  }
  out += '\n';
  for (std::size_t a = 0; a < r.size(); ++a) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_w), t.names[a].c_str());
    out += buf;
    for (std::size_t b = 0; b < r.size(); ++b) {
      if (std::isnan(r[a][b])) std::snprintf(buf, sizeof buf, "%*s", w[b], "NaN");
      else std::snprintf(buf, sizeof buf, "%*.3f", w[b], r[a][b]);
      out += buf;
    }
    out += '\n';
  }
  return out;
}

}  // namespace nn
