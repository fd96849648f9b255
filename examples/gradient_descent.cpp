// Gradient descent as a ball rolling down a valley (Nielsen, Neural Networks and Deep Learning, chapter 1):
// v ← v − η∇C on two functions of two variables, with nn's own optimizer policies driving a
// std::array<double, 2> through std::span, as they drive a network's parameters.
//   bowl    C = v1² + 5·v2², an elongated quadratic bowl: plain descent diverges for η > 2/λ_max = 0.2
//   valley  Rosenbrock's narrow curved valley C = (1 − v1)² + 100·(v2 − v1²)², minimum at (1, 1)
// For each: η too small (still far when the steps run out), a good η (converges), η too large (ΔC > 0,
// divergence), and the course's fixed-length moves η = ε/‖∇C‖ (nn::normalized_sgd), which never settle.
// Prints each path and a summary table, and draws the paths over contour lines of C as gd_bowl.svg and
// gd_valley.svg.
//
//   gradient_descent [--function bowl|valley|both] [--eta L1,L2,...] [--epsilon X] [--steps N]
//                    [--start v1,v2] [--every K] [--tolerance X] [--svg PREFIX | --no-svg]
#include <nn/optimizer.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "chart.hpp"

namespace {

using example::format;
using example::xml;
using point = std::array<double, 2>;

// ---- The functions

struct view {
  double x0, x1, y0, y1, tick;  // the region drawn (equal scale on both axes) and the axis tick spacing
};

struct function {
  const char* name;
  const char* formula;
  const char* curvature;  // why the default η fall where they do
  double (*cost)(const point&);
  point (*gradient)(const point&);
  point minimum, start;
  std::vector<double> etas;  // too small, good, too large
  double epsilon;
  std::size_t steps;
  view box;
  std::vector<double> levels;  // contour lines
};

const std::vector<function>& functions() {
  static const std::vector<function> all{
      {"bowl", "C = v1² + 5·v2²",
       "curvatures 2 and 10 (the Hessian's eigenvalues): plain gradient descent diverges for η > 2/10 = 0.2",
       [](const point& v) { return v[0] * v[0] + 5 * v[1] * v[1]; },
       [](const point& v) { return point{2 * v[0], 10 * v[1]}; },
       {0, 0}, {-4, 1.5}, {0.01, 0.15, 0.25}, 0.2, 50, {-4.5, 4.5, -2.5, 2.5, 1},
       // (k/2)²: evenly spaced ellipses
       {0.25, 1, 2.25, 4, 6.25, 9, 12.25, 16, 20.25, 25, 30.25}},
      {"valley", "C = (1 − v1)² + 100·(v2 − v1²)²",
       "at the minimum the curvatures are 0.4 and 1002: η must stay below 2/1002 ≈ 0.002, and the floor is "
       "2500 times flatter than the walls",
       [](const point& v) {
         const double a = 1 - v[0], b = v[1] - v[0] * v[0];
         return a * a + 100 * b * b;
       },
       [](const point& v) {
         const double b = v[1] - v[0] * v[0];
         return point{-2 * (1 - v[0]) - 400 * v[0] * b, 200 * b};
       },
       {1, 1}, {-1.2, 1}, {0.0001, 0.0015, 0.008}, 0.01, 20000, {-2, 2, -1, 3, 0.5},
       // log-spaced: C spans five decades between the floor and the walls
       {0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000}},
  };
  return all;
}

double distance(const point& a, const point& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

// ---- Options

struct options {
  std::string function = "both";
  std::vector<double> etas;  // empty: each function's own
  double epsilon = 0;        // 0: each function's own
  std::size_t steps = 0;     // 0: each function's own
  std::size_t every = 0;     // 0: about a tenth of the steps
  std::optional<point> start;
  double tolerance = 1e-4;
  std::string svg = "gd_";  // empty: no pictures
};

void usage(std::FILE* out) {
  std::fprintf(out,
      "Usage: gradient_descent [options]\n"
      "  --function F     bowl, valley or both (default both)\n"
      "  --eta L1,L2,...  learning rates of plain gradient descent, v <- v - eta*grad C\n"
      "                   (default: bowl 0.01,0.15,0.25; valley 0.0001,0.0015,0.008)\n"
      "  --epsilon X      step length of the fixed-step rule eta = epsilon/|grad C| (default: bowl 0.2, valley 0.01)\n"
      "  --steps N        steps per run (default: bowl 50, valley 20000)\n"
      "  --start V1,V2    starting point (default: bowl -4,1.5; valley -1.2,1)\n"
      "  --every K        print every K-th step after the first 5 (default: a tenth of the steps)\n"
      "  --tolerance X    converged when this close to the minimum (default 1e-4)\n"
      "  --svg PREFIX     write PREFIXbowl.svg and PREFIXvalley.svg, or into PREFIX if it is a folder or ends\n"
      "                   in '/' (default gd_: gd_bowl.svg, gd_valley.svg)\n"
      "  --no-svg         write no pictures\n");
}

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "gradient_descent: %s (see --help)\n", msg.c_str());
  std::exit(2);
}

// `count` comma-separated numbers (any number of them if 0); `what` names them in the error message.
std::vector<double> numbers(const std::string& flag, const std::string& text, std::size_t count, bool positive,
                            const char* what) {
  std::vector<double> v;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, end - start);
    char* e = nullptr;
    v.push_back(std::strtod(part.c_str(), &e));
    if (part.empty() || *e || !std::isfinite(v.back()) || (positive && !(v.back() > 0)))
      fail(flag + " needs " + what + ", not '" + text + "'");
    start = end + 1;
  }
  if (count && v.size() != count) fail(flag + " needs " + what + ", not '" + text + "'");
  return v;
}

std::size_t whole(const std::string& flag, const std::string& text) {
  char* e = nullptr;
  const unsigned long long n = std::strtoull(text.c_str(), &e, 10);
  if (text.empty() || text[0] < '0' || text[0] > '9' || *e || n == 0)
    fail(flag + " needs a whole number of at least 1, not '" + text + "'");
  return static_cast<std::size_t>(n);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--function") {
      o.function = value();
      if (o.function != "bowl" && o.function != "valley" && o.function != "both")
        fail("--function needs bowl, valley or both, not '" + o.function + "'");
    } else if (a == "--eta") o.etas = numbers(a, value(), 0, true, "positive numbers separated by commas");
    else if (a == "--epsilon") o.epsilon = numbers(a, value(), 1, true, "a positive number")[0];
    else if (a == "--tolerance") o.tolerance = numbers(a, value(), 1, true, "a positive number")[0];
    else if (a == "--steps") o.steps = whole(a, value());
    else if (a == "--every") o.every = whole(a, value());
    else if (a == "--start") {
      const auto s = numbers(a, value(), 2, false, "two numbers V1,V2");
      o.start = point{s[0], s[1]};
    } else if (a == "--svg") {
      o.svg = value();
      if (o.svg.empty()) fail("--svg needs a prefix or a folder (or use --no-svg)");
    } else if (a == "--no-svg") o.svg.clear();
    else fail("unknown option '" + a + "'");
  }
  return o;
}

// ---- The run loop

struct sample {
  point v;
  double cost;
};

struct run_result {
  std::string method, rate;  // "gradient descent", "η = 0.15"
  std::vector<sample> path;  // the start and every step after it, all finite
  std::size_t steps = 0;     // steps taken (one more than the path shows if C overflowed)
  bool fixed_steps = false, converged = false, diverged = false, overflowed = false;
  std::string verdict;
};

// One run of any nn optimizer policy on the two coordinates: the same step(params, grads) that trains a
// network. Plain gradient descent stops once within the tolerance; fixed steps of length ε cannot get
// closer than about ε, so they run every step.
template <nn::optimizer_for<double> Optimizer>
run_result descend(const function& f, Optimizer optimizer, const point& start, std::size_t steps, double tolerance,
                   bool stops_when_close) {
  run_result r;
  point v = start;
  r.path.push_back({v, f.cost(v)});
  // Relative to the start, but a start near C = 0 must not make a few ε-steps count as a blow-up.
  const double limit = 1e6 * std::max(r.path[0].cost, 1.0);
  const auto close = [&] { return stops_when_close && distance(v, f.minimum) < tolerance; };
  while (r.steps < steps && !close()) {
    const point g = f.gradient(v);
    if (g[0] == 0 && g[1] == 0) break;  // a stationary point: sgd and normalized_sgd stay put for good
    optimizer.step(std::span<double>(v), std::span<const double>(g));
    ++r.steps;
    const double c = f.cost(v);
    if (!std::isfinite(c)) {
      r.overflowed = true;
      break;
    }
    r.path.push_back({v, c});
    if (c > limit) {
      r.diverged = true;
      break;
    }
  }
  r.converged = distance(v, f.minimum) < tolerance;
  return r;
}


// What happened, in the course's terms: read off the path, not from the run's settings.
std::string judge(const function& f, const run_result& r, double epsilon) {
  const auto& p = r.path;
  constexpr std::size_t tail = 10;  // "the end" of a run: its last steps
  std::size_t first_rise = 0, late_rises = 0;
  double tail_distance = 0;
  for (std::size_t i = 1; i < p.size(); ++i) {
    const bool rise = p[i].cost > p[i - 1].cost;
    if (rise && first_rise == 0) first_rise = i;
    if (i + tail >= p.size()) {
      late_rises += rise ? 1 : 0;
      tail_distance = std::max(tail_distance, distance(p[i].v, f.minimum));
    }
  }
  const double d = distance(p.back().v, f.minimum);
  // Still getting closer: all the last steps are nearer than the run was a quarter of its steps ago.
  const bool closing_in = tail_distance < 0.99 * distance(p[p.size() - 1 - (p.size() - 1) / 4].v, f.minimum);
  if (r.diverged || r.overflowed)
    return format("diverged at step %zu: ΔC > 0 from step %zu, then C %s", r.steps, first_rise ? first_rise : r.steps,
                  r.overflowed ? "overflowed" : "passed 10⁶ × its start");
  const char* s = r.steps == 1 ? "" : "s";
  if (r.converged && !(r.fixed_steps && late_rises > 0)) return format("converged after %zu step%s", r.steps, s);
  if (r.fixed_steps && late_rises > 0 && tail_distance <= 5 * epsilon)
    return format("bouncing within %.2gε of the minimum: fixed steps never settle", tail_distance / epsilon);
  if (!r.fixed_steps && p.back().cost > p.front().cost)
    return format("diverging: ΔC > 0 from step %zu, C at %.3g × its start", first_rise, p.back().cost / p.front().cost);
  if (late_rises > 0 && closing_in)
    return format("still on its way after %zu step%s (%.3g from the minimum), zigzagging", r.steps, s, d);
  if (late_rises > 0 && r.fixed_steps) return format("stuck bouncing %.3g from the minimum: ε too large to get closer", d);
  if (late_rises > 0)
    return format("oscillating %.3g from the minimum, ΔC > 0 in %zu of the last %zu steps: η too large there", d,
                  late_rises, std::min(tail, p.size() - 1));
  return format("still far after %zu step%s (%.3g from the minimum): %s too small for %zu step%s", r.steps, s, d,
                r.fixed_steps ? "ε" : "η", r.steps, s);
}

// ---- Printing

// Left-aligned in `width` columns, counting characters, not the bytes of η or Δ.
std::string pad(std::string s, std::size_t width) {
  std::size_t shown = 0;
  for (const unsigned char c : s) shown += (c & 0xC0) != 0x80;
  if (shown < width) s.append(width - shown, ' ');
  return s;
}

std::string coordinate(double x) { return std::fabs(x) < 1e6 ? format("%11.5f", x) : format("%11.4e", x); }

void print_run(const run_result& r, const char* rule, std::size_t every) {
  std::printf("\n%s, %s (%s)\n", r.method.c_str(), r.rate.c_str(), rule);
  std::printf("   step          v1          v2             C            ΔC\n");
  constexpr std::size_t first_rows = 5;
  for (std::size_t i = 0; i < r.path.size(); ++i) {
    if (i > first_rows && i % every != 0 && i + 1 != r.path.size()) continue;
    const sample& s = r.path[i];
    std::printf("%7zu %s %s %13.6g", i, coordinate(s.v[0]).c_str(), coordinate(s.v[1]).c_str(), s.cost);
    if (i > 0) std::printf(" %+13.4g", s.cost - r.path[i - 1].cost);
    std::printf("\n");
  }
  std::printf("verdict: %s\n", r.verdict.c_str());
}

void print_summary(const function& f, const std::vector<run_result>& runs) {
  std::printf("\n%s: summary\n%s%s%7s %11s %11s %13s  %s\n", f.name, pad("method", 18).c_str(),
              pad("η or ε", 12).c_str(), "steps", "final v1", "v2", "final C", "verdict");
  for (const auto& r : runs) {
    const sample& s = r.path.back();
    std::printf("%s%s%7zu %s %s %13.6g  %s\n", pad(r.method, 18).c_str(), pad(r.rate, 12).c_str(), r.steps,
                coordinate(s.v[0]).c_str(), coordinate(s.v[1]).c_str(), s.cost, r.verdict.c_str());
  }
}

// ---- SVG


// Data coordinates to pixels, one scale for both axes so that the gradient looks perpendicular to the
// contours, as it is.
struct canvas {
  view box;
  double scale, left = 60, top = 40;
  double x(double v1) const { return left + (v1 - box.x0) * scale; }
  double y(double v2) const { return top + (box.y1 - v2) * scale; }
  double width() const { return (box.x1 - box.x0) * scale; }
  double height() const { return (box.y1 - box.y0) * scale; }
  example::plot_area area() const { return {box.x0, box.x1, box.y0, box.y1, left, top, width(), height()}; }
  // Node (i, j) of a grid of nx × ny cells over the view, in data coordinates.
  point node(std::size_t i, std::size_t j, std::size_t nx, std::size_t ny) const {
    return {box.x0 + (box.x1 - box.x0) * static_cast<double>(i) / static_cast<double>(nx),
            box.y0 + (box.y1 - box.y0) * static_cast<double>(j) / static_cast<double>(ny)};
  }
};

// The level set C = level by marching squares over a grid of C's values. Segments that share a grid edge
// are joined into lines: half the file that loose segments make, and strokes without seams.
void contour(std::ofstream& out, const canvas& c, const std::vector<double>& grid, std::size_t nx, std::size_t ny,
             double level) {
  const auto at = [&](std::size_t i, std::size_t j) {
    const point v = c.node(i, j, nx, ny);
    return point{c.x(v[0]), c.y(v[1])};
  };
  std::unordered_map<std::size_t, point> crossing;          // grid edge → where C = level on it, in pixels
  std::unordered_multimap<std::size_t, std::size_t> ends;   // grid edge → the segments ending there
  std::vector<std::array<std::size_t, 2>> segments;
  for (std::size_t j = 0; j < ny; ++j)
    for (std::size_t i = 0; i < nx; ++i) {
      // Corners counter-clockwise from the lower left; edge e joins corner e to e + 1. Edge ids: twice the
      // lower or left corner's index, plus one for vertical edges.
      const std::size_t ci[4] = {i, i + 1, i + 1, i}, cj[4] = {j, j, j + 1, j + 1}, k = j * (nx + 1) + i;
      const std::size_t id[4] = {2 * k, 2 * (k + 1) + 1, 2 * (k + nx + 1), 2 * k + 1};
      double q[4];
      for (int m = 0; m < 4; ++m) q[m] = grid[cj[m] * (nx + 1) + ci[m]] - level;
      std::size_t cross[4];
      int n = 0;
      for (int e = 0; e < 4; ++e) {
        const int b = (e + 1) % 4;
        if ((q[e] >= 0) == (q[b] >= 0)) continue;
        const double t = q[e] / (q[e] - q[b]);
        const point pa = at(ci[e], cj[e]), pb = at(ci[b], cj[b]);
        crossing.emplace(id[e], point{pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1])});
        cross[n++] = id[e];
      }
      const auto segment = [&](int a, int b) {
        ends.emplace(cross[a], segments.size());
        ends.emplace(cross[b], segments.size());
        segments.push_back({cross[a], cross[b]});
      };
      if (n == 2) segment(0, 1);
      if (n == 4) {  // a saddle: the cell's mean says which pair of opposite corners is joined
        if ((q[0] + q[1] + q[2] + q[3] >= 0) == (q[0] >= 0)) segment(0, 1), segment(2, 3);
        else segment(3, 0), segment(1, 2);
      }
    }
  out << "<path fill=\"none\" stroke=\"#bbb\" stroke-width=\"0.8\" d=\"";
  std::vector<bool> used(segments.size());
  for (std::size_t s = 0; s < segments.size(); ++s) {
    if (used[s]) continue;
    used[s] = true;
    std::deque<std::size_t> line(segments[s].begin(), segments[s].end());
    for (const bool forward : {true, false})
      for (bool grown = true; grown;) {
        grown = false;
        const std::size_t e = forward ? line.back() : line.front();
        for (auto [it, last] = ends.equal_range(e); it != last && !grown; ++it) {
          if (used[it->second]) continue;
          used[it->second] = grown = true;
          const std::size_t next = segments[it->second][0] == e ? segments[it->second][1] : segments[it->second][0];
          if (forward) line.push_back(next);
          else line.push_front(next);
        }
      }
    point drawn{};  // points within 2 pixels of the last one drawn change nothing visible
    for (std::size_t m = 0, shown = 0; m < line.size(); ++m) {
      const point& p = crossing[line[m]];
      if (m > 0 && m + 1 < line.size() && distance(p, drawn) < 2) continue;
      out << format(shown == 0 ? "M%.1f %.1f" : shown == 1 ? "L%.1f %.1f" : " %.1f %.1f", p[0], p[1]);
      drawn = p, ++shown;
    }
  }
  out << "\"/>\n";
}

void write_svg(const std::string& file, const function& f, const std::vector<run_result>& runs, const point& start) {
  const canvas c{f.box, 600 / (f.box.x1 - f.box.x0)};
  const double bottom = c.top + c.height(), legend = bottom + 56;
  // Wide enough for the longest legend line (about 6 px a character at 11 px, counting UTF-8 characters).
  std::size_t longest = 0;
  for (const auto& r : runs) {
    const std::string line = r.method + ", " + r.rate + ": " + r.verdict;
    longest = std::max<std::size_t>(longest, static_cast<std::size_t>(std::count_if(
                                                 line.begin(), line.end(), [](char ch) { return (ch & 0xC0) != 0x80; })));
  }
  const double width = std::max(c.left + c.width() + 20, c.left + 28 + 6.2 * static_cast<double>(longest) + 10);
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file);
  out << example::svg_begin(width, legend + 18 * static_cast<double>(runs.size()) + 12)
      << format("<defs><clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>\n",
                c.left, c.top, c.width(), c.height())
      << format("<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n<g clip-path=\"url(#plot)\">\n",
                width / 2, xml(format("%s: %s, from (%g, %g)", f.name, f.formula, start[0], start[1])).c_str());
  // About 1.5 pixels per cell: fine enough for the valley's thin inner contours.
  const std::size_t nx = 400, ny = static_cast<std::size_t>(std::lround(400 * c.height() / c.width()));
  std::vector<double> grid((nx + 1) * (ny + 1));
  for (std::size_t j = 0; j <= ny; ++j)
    for (std::size_t i = 0; i <= nx; ++i)
      grid[j * (nx + 1) + i] = f.cost(c.node(i, j, nx, ny));
  for (const double level : f.levels) contour(out, c, grid, nx, ny, level);
  for (std::size_t k = 0; k < runs.size(); ++k) {
    // Paths that leave the view are clipped, not rescaled. A point within 2 pixels of the last one drawn
    // adds nothing visible (the valley's 20,000 steps are mostly such, or bounce on the spot).
    std::string points, dots;
    double lx = 0, ly = 0;
    const auto& path = runs[k].path;
    for (std::size_t i = 0; i < path.size(); ++i) {
      const double x = c.x(path[i].v[0]), y = c.y(path[i].v[1]);
      if (!(std::fabs(x) < 1e6 && std::fabs(y) < 1e6)) break;  // diverging: nothing after this is in view
      if (i > 0 && i + 1 < path.size() && std::hypot(x - lx, y - ly) < 2) continue;
      points += format("%.1f,%.1f ", x, y);
      dots += format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\"/>", x, y);
      lx = x, ly = y;
    }
    // Dashed fixed steps let the runs beneath show where they share a path; a larger dot marks each end.
    const char* colour = example::palette(k);
    out << format("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>\n", colour,
                  runs[k].fixed_steps ? " stroke-dasharray=\"6 4\"" : "", points.c_str())
        << format("<g fill=\"%s\">%s<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" stroke=\"white\"/></g>\n", colour,
                  dots.c_str(), lx, ly);
  }
  const double mx = c.x(f.minimum[0]), my = c.y(f.minimum[1]), sx = c.x(start[0]), sy = c.y(start[1]);
  out << format("<path d=\"M%.1f %.1fh12M%.1f %.1fv12\" stroke=\"black\" stroke-width=\"2\"/>", mx - 6, my, mx, my - 6)
      << format("<text x=\"%.1f\" y=\"%.1f\">minimum (%g, %g)</text>\n", mx + 8, my + 16, f.minimum[0], f.minimum[1])
      << format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"none\" stroke=\"black\"/>", sx, sy)
      << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">start</text>\n</g>\n", sx, sy - 10);
  // Ticks at the view's spacing on both axes; the legend: grey contours, then each run.
  const auto axis_ticks = [&](double lo, double hi) {
    std::vector<double> t;
    for (double v = std::ceil(lo / f.box.tick - 1e-9) * f.box.tick; v <= hi + 1e-9; v += f.box.tick)
      t.push_back(std::fabs(v) < 1e-9 ? 0.0 : v);  // not "-0"
    return t;
  };
  out << example::axes(c.area(), axis_ticks(f.box.x0, f.box.x1), axis_ticks(f.box.y0, f.box.y1), "v1", "v2");
  std::string levels;
  for (const double l : f.levels) levels += format(levels.empty() ? "%g" : ", %g", l);
  out << format("<text x=\"%.1f\" y=\"%.1f\" fill=\"#888\">grey: contours of C at %s</text>\n", c.left, legend,
                levels.c_str());
  std::vector<example::line> entries;
  for (const auto& r : runs) entries.push_back({r.method + ", " + r.rate + ": " + r.verdict, {}, {}, r.fixed_steps});
  out << example::legend(c.left, legend + 18, entries);
  out << "</svg>\n";
  if (!out) throw std::runtime_error("cannot write " + file);
}

std::string svg_file(const std::string& prefix, const std::string& name) {
  namespace fs = std::filesystem;
  if (prefix.back() == '/' || fs::is_directory(prefix)) {
    fs::create_directories(prefix);
    return (fs::path(prefix) / ("gd_" + name + ".svg")).string();
  }
  return prefix + name + ".svg";
}

// ---- One function: its runs, their summary and picture

void explore(const function& f, const options& o) {
  const point start = o.start.value_or(f.start);
  const std::size_t steps = o.steps ? o.steps : f.steps;
  const std::size_t every = o.every ? o.every : std::max<std::size_t>(steps / 10, 1);
  const double epsilon = o.epsilon > 0 ? o.epsilon : f.epsilon;
  std::printf("== %s: %s ==\nminimum C = %g at (%g, %g); start (%g, %g), C = %g; up to %zu steps, converged within %g "
              "of the minimum\n%s\n", f.name, f.formula, f.cost(f.minimum), f.minimum[0], f.minimum[1], start[0], start[1],
              f.cost(start), steps, o.tolerance, f.curvature);
  std::vector<run_result> runs;
  const auto record = [&](run_result r, bool fixed_steps, const std::string& rate, const char* rule) {
    r.fixed_steps = fixed_steps;
    r.method = fixed_steps ? "fixed steps" : "gradient descent";
    r.rate = rate;
    r.verdict = judge(f, r, epsilon);
    print_run(r, rule, every);
    runs.push_back(std::move(r));
  };
  for (const double eta : o.etas.empty() ? f.etas : o.etas)
    record(descend(f, nn::sgd{eta}, start, steps, o.tolerance, true), false, format("η = %g", eta),
           "nn::sgd: v ← v − η∇C");
  record(descend(f, nn::normalized_sgd{epsilon}, start, steps, o.tolerance, false), true, format("ε = %g", epsilon),
         "nn::normalized_sgd: v ← v − ε∇C/‖∇C‖, every move of length ε");
  print_summary(f, runs);
  if (!o.svg.empty()) {
    const std::string file = svg_file(o.svg, f.name);
    write_svg(file, f, runs, start);
    std::printf("picture: %s\n", file.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    bool first = true;
    for (const function& f : functions()) {
      if (o.function != "both" && o.function != f.name) continue;
      if (!first) std::printf("\n");
      first = false;
      explore(f, o);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gradient_descent: %s\n", e.what());
    return 1;
  }
}
