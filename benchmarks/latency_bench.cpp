// Single-sample inference latency: one sample per call, float, the figure real-time users look at, for
// nn beside RTNeural's compile-time API (xsimd backend) measured in the same run.
//
//   latency_bench [--rounds N] [--target-ms M] [--tolerance R]
//
// Two networks: the course's 784-30-10 (sigmoid on both layers; nn::network<784, 30, 10>) and a dense
// 64-64-64 tanh network (nn::sequential<nn::input<64>, nn::dense<64, nn::tanh>, nn::dense<64, nn::tanh>>).
// For nn, both the owning network's feedforward(span, span) and nn::network_view's. Calls are chained:
// each call's input takes the previous call's first output as its first value, so a call cannot start
// before the previous one has finished (latency, not throughput) and nothing can be optimised away.
// Each figure is the median, over rounds, of one batch's ns per call; in every round each candidate runs
// one batch, in an order that rotates from round to round, so that a drift of the machine's speed falls
// on all of them alike. "paired" ratios are the median over rounds of that round's nn / RTNeural.
//
// RTNeural is not part of nn and is never built by it: configure with -DNN_RTNEURAL_DIR=<a checkout of
// github.com/jatinchowdhury18/RTNeural> (and, since RTNeural needs xsimd 9 or newer,
// -DNN_RTNEURAL_XSIMD_DIR=<an xsimd include directory>, which the whole of this program then uses, nn
// included) to define NN_WITH_RTNEURAL; without it, this program measures nn alone. Before any timing,
// RTNeural's models get nn's parameters and must give nn's outputs (to 1e-5 relative, --tolerance) on a
// few inputs, or the program stops. docs/benchmarks.md has the figures and what limits them.
#include <nn/io.hpp>
#include <nn/network.hpp>

#if defined(NN_WITH_RTNEURAL)
#if !defined(RTNEURAL_USE_XSIMD)
#define RTNEURAL_USE_XSIMD 1
#endif
#if !defined(RTNEURAL_DEFAULT_ALIGNMENT)  // at least one xsimd register: RTNeural stores whole registers to it
#if defined(__AVX512F__)
#define RTNEURAL_DEFAULT_ALIGNMENT 64
#elif defined(__AVX__)
#define RTNEURAL_DEFAULT_ALIGNMENT 32
#else
#define RTNEURAL_DEFAULT_ALIGNMENT 16
#endif
#endif
#include <RTNeural/RTNeural.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peak.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

using bench::median;

struct options {
  std::size_t rounds = 15;
  double target_ms = 4;     // one batch's length
  double tolerance = 1e-5;  // nn and RTNeural must agree to this, relative
};

// One implementation of one network: run(n) makes n chained calls.
struct candidate {
  enum kind { nn, peer, other };  // nn's; RTNeural's, checked (the ratios' denominator); RTNeural's, not
  std::string name;
  kind what;
  std::function<void(std::size_t)> run;
  std::vector<double> ns;  // per round, ns per call
};

// The samples: pixels in [0, 1] for 784-30-10, values in [-1, 1] for the tanh network.
template <std::size_t N>
std::vector<std::array<float, N>> samples(std::size_t count, std::uint64_t seed, float lo, float hi) {
  nn::rng r(seed);
  std::vector<std::array<float, N>> v(count);
  for (auto& s : v)
    for (auto& x : s) x = lo + (hi - lo) * static_cast<float>(r.below(1u << 24)) / float(1u << 24);
  return v;
}

#if defined(NN_WITH_RTNEURAL)
// |a - b| / max(|a|, |b|). Both libraries sum each neuron's products in the same order, from its bias, and
// use xsimd's exp and tanh: compiled with contraction (GCC's default in GNU mode, this program's build),
// RTNeural's a * b + c become FMAs, like nn's nn::simd::fma, and the outputs are the same bits. With
// -ffp-contract=off RTNeural rounds each product: outputs near 0 of the tanh network then differ by up to
// a few 1e-5 relative (cancellation in z), hence --tolerance.
double relative_difference(float a, float b) {
  const double m = std::max(std::fabs(double(a)), std::fabs(double(b)));
  return m == 0 ? 0 : std::fabs(double(a) - double(b)) / m;
}

// Gives an RTNeural ModelT<dense, activation, dense, activation> the parameters of nn's In-H-Out network
// (nn's file order: for each dense layer w[j][k], outputs × inputs, then b[j]; RTNeural's setWeights takes
// weights[out][in], setBias bias[out]). The model's hidden layer may have Hp ≥ H neurons: the extra ones
// get zero weights and bias, and zero weights to the outputs, so the model computes the same function.
template <class Net, class Model>
void copy_parameters(Net& net, Model& model, std::size_t in, std::size_t h, std::size_t hp, std::size_t out) {
  std::vector<float> values;  // (through a non-const Net: for a const one, visit_parameters sees the padded storage)
  nn::detail::for_each_parameter(net, [&](float& v) { values.push_back(v); });
  std::size_t at = 0;
  const auto layer = [&](auto& dense, std::size_t n_in, std::size_t n_in_model, std::size_t n_out, std::size_t n_out_model) {
    std::vector<std::vector<float>> w(n_out_model, std::vector<float>(n_in_model, 0.f));
    std::vector<float> b(n_out_model, 0.f);
    for (std::size_t j = 0; j < n_out; ++j)
      for (std::size_t k = 0; k < n_in; ++k) w[j][k] = values[at++];
    for (std::size_t j = 0; j < n_out; ++j) b[j] = values[at++];
    dense.setWeights(w);
    dense.setBias(b.data());
  };
  layer(model.template get<0>(), in, in, h, hp);
  layer(model.template get<2>(), h, hp, out, out);
  if (at != values.size() || values.size() != Net::parameter_count) {
    std::fprintf(stderr, "latency_bench: copied %zu of %zu parameters\n", at, values.size());
    std::exit(1);
  }
}
#endif

// Times every candidate of one network: calibration, warm-up, then rounds in rotating order.
void measure(const char* network, std::vector<candidate>& cands, const options& o, double flops) {
  // Calibrate on the first candidate: calls per batch for a batch of about target_ms.
  std::size_t n = 64;
  for (;;) {
    const auto t0 = clock_type::now();
    cands.front().run(n);
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    if (ms >= o.target_ms / 4 || n > (std::size_t{1} << 30)) {
      n = std::max<std::size_t>(16, static_cast<std::size_t>(static_cast<double>(n) * o.target_ms / std::max(ms, 1e-3)));
      break;
    }
    n *= 4;
  }
  for (auto& c : cands) c.run(n);  // warm-up: caches, branch predictors, the clock's frequency
  {  // calibrated again, warm (the first calls of all are the slowest)
    const auto t0 = clock_type::now();
    cands.front().run(n);
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    n = std::max<std::size_t>(16, static_cast<std::size_t>(static_cast<double>(n) * o.target_ms / std::max(ms, 1e-3)));
  }
  for (std::size_t round = 0; round < o.rounds; ++round)
    for (std::size_t i = 0; i < cands.size(); ++i) {
      auto& c = cands[(i + round) % cands.size()];
      const auto t0 = clock_type::now();
      c.run(n);
      c.ns.push_back(std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / static_cast<double>(n));
    }

  const candidate* reference = nullptr;
  for (const auto& c : cands)
    if (!reference && c.what == candidate::peer) reference = &c;
  std::printf("%s: %zu rounds of %zu chained calls\n", network, o.rounds, n);
  for (const auto& c : cands) {
    const double med = median(c.ns);
    std::printf("  %-34s %9.1f ns/call  (rounds %.1f-%.1f)  %5.2f GFLOP/s", c.name.c_str(), med,
                *std::min_element(c.ns.begin(), c.ns.end()), *std::max_element(c.ns.begin(), c.ns.end()), flops / med);
    if (reference && c.what == candidate::nn) {
      std::vector<double> paired;
      for (std::size_t r = 0; r < c.ns.size(); ++r) paired.push_back(c.ns[r] / reference->ns[r]);
      std::printf("  nn/RTNeural %.3f (paired %.3f)", med / median(reference->ns), median(paired));
    }
    std::printf("\n");
  }
  std::printf("\n");
}

// The inputs of the agreement checks and where every candidate's chain of calls starts.
template <std::size_t In>
struct inputs {
  std::vector<std::array<float, In>> checks;
  std::array<float, In> start;
};

#if defined(NN_WITH_RTNEURAL)
// One RTNeural model as a candidate, after checking it against nn's outputs (expected[i] for checks[i]).
// A model marked `must_agree` stops the program when it differs; another is reported and timed, but no
// ratio is taken against it.
template <class Model, std::size_t In, std::size_t Out>
void add_rtneural(std::vector<candidate>& cands, const char* network, std::string name, Model* model, bool must_agree,
                  const inputs<In>& in, const std::vector<std::array<float, Out>>& expected, double tolerance) {
  struct alignas(RTNEURAL_DEFAULT_ALIGNMENT) aligned_input {
    std::array<float, In> x;
  };
  double worst = 0;
  std::size_t worst_at = 0;
  float worst_nn = 0, worst_rt = 0;
  for (std::size_t i = 0; i < in.checks.size(); ++i) {
    aligned_input xa{in.checks[i]};
    model->reset();
    model->forward(xa.x.data());
    const float* r = model->getOutputs();
    for (std::size_t j = 0; j < Out; ++j) {
      const double d = relative_difference(expected[i][j], r[j]);
      if (!(d <= worst)) worst = d, worst_at = j, worst_nn = expected[i][j], worst_rt = r[j];
    }
  }
  const bool agree = worst <= tolerance;
  if (agree) {
    std::printf("%s: nn and %s agree on %zu inputs (largest relative difference %.2g)\n", network, name.c_str(),
                in.checks.size(), worst);
  } else {
    std::fprintf(must_agree ? stderr : stdout,
                 "%s%s: %s DIFFERS from nn: output %zu: nn %.9g, RTNeural %.9g (relative difference %.3g > %.3g)%s\n",
                 must_agree ? "latency_bench: " : "WARNING: ", network, name.c_str(), worst_at, double(worst_nn),
                 double(worst_rt), worst, tolerance, must_agree ? "" : "; timed, but not compared");
    if (must_agree) std::exit(1);
  }
  auto x = std::make_shared<aligned_input>(aligned_input{in.start});
  cands.push_back({name, agree ? candidate::peer : candidate::other, [model, x](std::size_t n) {
                     float* p = x->x.data();
                     for (std::size_t i = 0; i < n; ++i) p[0] = model->forward(p);  // forward returns output 0
                   },
                   {}});
}
#endif

// nn's two candidates (the owning network, and a network_view of it) and `peers`' (RTNeural's), checked, then timed.
template <class Net, std::size_t In, std::size_t Out, class Peers>
void run_network(const char* network, const Net& net, const inputs<In>& in, const options& o, double flops, Peers&& peers) {
  const nn::network_view<Net> view(net);
  std::vector<std::array<float, Out>> expected(in.checks.size());
  for (std::size_t i = 0; i < in.checks.size(); ++i) {
    std::array<float, Out> b{};
    net.feedforward(std::span<const float, In>(in.checks[i]), std::span<float, Out>(expected[i]));
    view.feedforward(std::span<const float, In>(in.checks[i]), std::span<float, Out>(b));
    if (b != expected[i]) {
      std::fprintf(stderr, "latency_bench: %s: nn::network_view differs from the network\n", network);
      std::exit(1);
    }
  }

  // Each candidate chains its calls on its own copy of the input: x[0] takes the previous output's first value.
  std::vector<candidate> cands;
  auto x_net = std::make_shared<std::array<float, In>>(in.start);
  cands.push_back({"nn::network::feedforward", candidate::nn, [&net, x_net](std::size_t n) {
                     auto& x = *x_net;
                     std::array<float, Out> out;
                     for (std::size_t i = 0; i < n; ++i) {
                       net.feedforward(std::span<const float, In>(x), std::span<float, Out>(out));
                       x[0] = out[0];
                     }
                   },
                   {}});
  auto x_view = std::make_shared<std::array<float, In>>(in.start);
  cands.push_back({"nn::network_view::feedforward", candidate::nn, [view, x_view](std::size_t n) {
                     auto& x = *x_view;
                     std::array<float, Out> out;
                     for (std::size_t i = 0; i < n; ++i) {
                       view.feedforward(std::span<const float, In>(x), std::span<float, Out>(out));
                       x[0] = out[0];
                     }
                   },
                   {}});
  peers(cands, expected);
  measure(network, cands, o, flops);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--rounds" || a == "--target-ms" || a == "--tolerance") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--rounds") o.rounds = std::stoul(v);
      else if (a == "--target-ms") o.target_ms = std::stod(v);
      else o.tolerance = std::stod(v);
    } else {
      std::fprintf(stderr, "usage: latency_bench [--rounds N] [--target-ms M] [--tolerance R]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (o.rounds == 0 || !(o.target_ms > 0) || !(o.tolerance >= 0)) {
    std::fprintf(stderr, "latency_bench: --rounds and --target-ms must be positive, --tolerance not negative\n");
    return 2;
  }

  std::printf("Single-sample inference latency, float, chained calls (each input's first value is the previous "
              "output's first)\n");
  std::printf("xsimd %d.%d.%d, %s, %zu floats per register", XSIMD_VERSION_MAJOR, XSIMD_VERSION_MINOR, XSIMD_VERSION_PATCH,
              nn::simd::arch::name(), nn::simd::width<float>);
#if defined(NN_WITH_RTNEURAL)
  std::printf("; RTNeural ModelT, xsimd backend, alignment %d\n", RTNEURAL_DEFAULT_ALIGNMENT);
#else
  std::printf("; RTNeural: not built (configure with -DNN_RTNEURAL_DIR=...)\n");
#endif
  std::printf("GFLOP/s: 2 FLOP per multiply-add of real neurons (784-30-10: 47,640 FLOP; 64-64-64: 16,384)\n\n");

  {
    using Net = nn::network<784, 30, 10>;
    Net net(1);
    const inputs<784> in{samples<784>(8, 12345, 0.f, 1.f), samples<784>(1, 777, 0.f, 1.f).front()};
#if defined(NN_WITH_RTNEURAL)
    // The model as written: its DenseT<float, 30, 10> (xsimd) runs its input loop over whole registers, 32
    // values, and reads weights[30] and weights[31], past its array of 30 (UBSan: "index 30 out of bounds
    // for type 'batch [30][1]'"), times the hidden layer's padding lanes, sigmoid(0) = 0.5: its outputs
    // are wrong whenever a layer's input size is not a multiple of the register width. The same network
    // with 32 hidden neurons, the two extra ones silent (zero weights in and out), computes 784-30-10
    // exactly, with the same loops: that one is checked and compared.
    using Model30 = RTNeural::ModelT<float, 784, 10, RTNeural::DenseT<float, 784, 30>, RTNeural::SigmoidActivationT<float, 30>,
                                     RTNeural::DenseT<float, 30, 10>, RTNeural::SigmoidActivationT<float, 10>>;
    using Model32 = RTNeural::ModelT<float, 784, 10, RTNeural::DenseT<float, 784, 32>, RTNeural::SigmoidActivationT<float, 32>,
                                     RTNeural::DenseT<float, 32, 10>, RTNeural::SigmoidActivationT<float, 10>>;
    auto m30 = std::make_unique<Model30>();
    auto m32 = std::make_unique<Model32>();
    copy_parameters(net, *m30, 784, 30, 30, 10);
    copy_parameters(net, *m32, 784, 30, 32, 10);
    const auto peers = [&](std::vector<candidate>& cands, const std::vector<std::array<float, 10>>& expected) {
      add_rtneural(cands, "784-30-10 sigmoid", "RTNeural 784-32-10, 2 silent", m32.get(), true, in, expected, o.tolerance);
      add_rtneural(cands, "784-30-10 sigmoid", "RTNeural 784-30-10 as written", m30.get(), false, in, expected, o.tolerance);
    };
#else
    const auto peers = [](std::vector<candidate>&, const std::vector<std::array<float, 10>>&) {};
#endif
    run_network<Net, 784, 10>("784-30-10 sigmoid", net, in, o, 2.0 * (784 * 30 + 30 * 10), peers);
  }
  {
    using Net = nn::sequential<nn::input<64>, nn::dense<64, nn::tanh>, nn::dense<64, nn::tanh>>;
    Net net(2);
    const inputs<64> in{samples<64>(8, 12345, -1.f, 1.f), samples<64>(1, 777, -1.f, 1.f).front()};
#if defined(NN_WITH_RTNEURAL)
    using Model = RTNeural::ModelT<float, 64, 64, RTNeural::DenseT<float, 64, 64>, RTNeural::TanhActivationT<float, 64>,
                                   RTNeural::DenseT<float, 64, 64>, RTNeural::TanhActivationT<float, 64>>;
    auto model = std::make_unique<Model>();
    copy_parameters(net, *model, 64, 64, 64, 64);
    const auto peers = [&](std::vector<candidate>& cands, const std::vector<std::array<float, 64>>& expected) {
      add_rtneural(cands, "64-64-64 tanh", "RTNeural::ModelT::forward", model.get(), true, in, expected, o.tolerance);
    };
#else
    const auto peers = [](std::vector<candidate>&, const std::vector<std::array<float, 64>>&) {};
#endif
    run_network<Net, 64, 64>("64-64-64 tanh", net, in, o, 2.0 * (64 * 64 + 64 * 64), peers);
  }
}
