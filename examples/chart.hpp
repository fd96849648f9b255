// The examples' one small SVG chart writer: a plot area that maps data to pixels, its axes (frame, ticks,
// labels), lines, a legend, and line charts stacked in one file (a training history, a loss curve).
// gradient_descent draws its contours and paths in the same plot area with the same axes and legend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace example {

// printf into a std::string.
[[gnu::format(printf, 1, 2)]] inline std::string format(const char* fmt, ...) {
  std::va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string s(static_cast<std::size_t>(std::max(n, 0)), '\0');
  std::vsnprintf(s.data(), s.size() + 1, fmt, again);
  va_end(again);
  return s;
}

// Text for an SVG element: &, < and > escaped.
inline std::string xml(const std::string& s) {
  std::string out;
  for (const char c : s) out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
  return out;
}

inline const char* palette(std::size_t k) {
  static const char* const colours[] = {"#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};
  return colours[k % std::size(colours)];
}

// Data coordinates [x0, x1] x [y0, y1] drawn in a box of pixels; y grows upwards.
struct plot_area {
  double x0, x1, y0, y1;
  double left, top, width, height;
  double x(double v) const { return left + (v - x0) / (x1 - x0) * width; }
  double y(double v) const { return top + (y1 - v) / (y1 - y0) * height; }
  double bottom() const { return top + height; }
};

// Round values from lo to hi, steps of 1, 2 or 5 times a power of ten, about `count` of them.
inline std::vector<double> ticks(double lo, double hi, int count = 5) {
  if (!(hi > lo)) return {lo};
  const double rough = (hi - lo) / count, p = std::pow(10.0, std::floor(std::log10(rough)));
  const double step = rough / p < 1.5 ? p : rough / p < 3.5 ? 2 * p : rough / p < 7.5 ? 5 * p : 10 * p;
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);  // not "-0"
  return t;
}

// The frame of the plot area, ticks with their values on both axes, and the axes' names.
inline std::string axes(const plot_area& a, const std::vector<double>& x_ticks, const std::vector<double>& y_ticks,
                        const std::string& x_label, const std::string& y_label) {
  std::string out = format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n",
                           a.left, a.top, a.width, a.height);
  for (const double t : x_ticks)
    out += format("<path d=\"M%.1f %.1fv5\" stroke=\"black\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                  a.x(t), a.bottom(), a.x(t), a.bottom() + 18, t);
  for (const double t : y_ticks)
    out += format("<path d=\"M%.1f %.1fh-5\" stroke=\"black\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                  a.left, a.y(t), a.left - 8, a.y(t) + 4, t);
  out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", a.left + a.width / 2, a.bottom() + 36,
                xml(x_label).c_str());
  const double my = a.top + a.height / 2;
  out += format("<text x=\"16\" y=\"%.1f\" transform=\"rotate(-90 16 %.1f)\" text-anchor=\"middle\">%s</text>\n", my, my,
                xml(y_label).c_str());
  return out;
}

// A line through (x[i], y[i]); dashed lines let one beneath show where they share a path.
struct line {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
};

inline std::string polyline(const plot_area& a, const line& l, const char* colour, double stroke_width = 2) {
  std::string points;
  for (std::size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) points += format("%.1f,%.1f ", a.x(l.x[i]), a.y(l.y[i]));
  return format("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%g\"%s points=\"%s\"/>\n", colour, stroke_width,
                l.dashed ? " stroke-dasharray=\"6 4\"" : "", points.c_str());
}

// One entry a line: a short stroke of its colour and its name, from (x, y) down, 18 pixels apart.
inline std::string legend(double x, double y, const std::vector<line>& lines, std::size_t first_colour = 0) {
  std::string out;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const double ly = y + 18 * static_cast<double>(k);
    out += format("<path d=\"M%.1f %.1fh20\" stroke=\"%s\" stroke-width=\"3\"%s/><text x=\"%.1f\" y=\"%.1f\" "
                  "font-size=\"11\">%s</text>\n",
                  x, ly - 4, palette(first_colour + k), lines[k].dashed ? " stroke-dasharray=\"6 4\"" : "", x + 28, ly,
                  xml(lines[k].name).c_str());
  }
  return out;
}

inline std::string svg_begin(double width, double height) {
  return format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
                "fill=\"white\"/>\n",
                width, height);
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Lines against a common x axis, the y range from the data unless given (y_min < y_max).
struct line_chart {
  std::string title, x_label, y_label;
  std::vector<line> lines;
  double y_min = 0, y_max = 0;
};

// Charts one above the other in one SVG file, each with its title, axes and legend.
inline void write_line_charts(const std::string& path, const std::vector<line_chart>& charts, double width = 640,
                              double plot_height = 240) {
  const double left = 70, right = 20, title = 34, below = 50;
  double height = 0;
  for (const auto& c : charts) height += title + plot_height + below + 18 * static_cast<double>(c.lines.size()) + 10;
  std::string out = svg_begin(width, height);
  double top = 0;
  for (const auto& c : charts) {
    double x0 = 0, x1 = 1, y0 = c.y_min, y1 = c.y_max;
    bool first = true;
    for (const auto& l : c.lines)
      for (std::size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
        if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) continue;
        if (first) x0 = x1 = l.x[i];
        x0 = std::min(x0, l.x[i]), x1 = std::max(x1, l.x[i]);
        if (!(c.y_min < c.y_max)) {
          if (first) y0 = y1 = l.y[i];
          y0 = std::min(y0, l.y[i]), y1 = std::max(y1, l.y[i]);
        }
        first = false;
      }
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) y1 = y0 + 1;
    const double pad = c.y_min < c.y_max ? 0 : (y1 - y0) * 0.05;
    const plot_area a{x0, x1, y0 - pad, y1 + pad, left, top + title, width - left - right, plot_height};
    std::vector<double> xt = ticks(x0, x1, 8);
    if (x1 - x0 <= 8) {  // whole epochs
      xt.clear();
      for (double v = std::ceil(x0); v <= x1; ++v) xt.push_back(v);
    }
    out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n", width / 2, top + 22,
                  xml(c.title).c_str());
    out += axes(a, xt, ticks(a.y0, a.y1, 5), c.x_label, c.y_label);
    for (std::size_t k = 0; k < c.lines.size(); ++k) out += polyline(a, c.lines[k], palette(k));
    out += legend(left, a.bottom() + below + 8, c.lines);
    top += title + plot_height + below + 18 * static_cast<double>(c.lines.size()) + 10;
  }
  out += "</svg>\n";
  write_file(path, out);
}

}  // namespace example
