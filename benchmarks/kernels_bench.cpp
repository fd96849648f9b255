// Micro-benchmarks of the hot kernels (nn/simd/kernels.hpp), each beside its plain scalar twin from
// tests/reference.hpp (the same arguments and padded layout, summing in T: the loop a user would write,
// compiled with the same flags) in the same run, on the layers of the course's networks 784-30-10 and
// 784-100-10 at mini-batch 10 (and 64 and 128 for the first layer of 784-100-10), with the sigmoid and the
// quadratic cost. Names read kernel/implementation/shape/batch, with /double for double precision.
//
//   kernels_bench --benchmark_min_time=0.2 [--benchmark_filter=dense_forward]
//
// GFLOP/s counts only work on real values (never padding lanes): a multiply-add is 2 FLOP, any other
// addition, subtraction, multiplication or division 1; exp is not counted. The dense kernels count only
// their multiply-adds, 2·m·In·Out (not the bias, activation, derivative or alpha they fuse); column_sum
// counts its m·N additions, axpy its multiply-adds (2 per real parameter), activate 2 per value
// (1 + e^−z and the division) and output_delta 8 per value ((a − y)·a·(1 − a) and ½(a − y)², summed).
#include <nn/network.hpp>
#include <nn/simd/kernels.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "reference.hpp"

namespace {

template <class T, std::size_t N>
using mini_batch = nn::matrix<T, nn::dynamic, N>;

// A matrix of `rows` rows (or a fixed-size one) whose real entries are uniform in [lo, hi).
template <class M>
M filled(M m, nn::rng& r, double lo, double hi) {
  ref::fill(m, r, lo, hi);
  return m;
}

// Times one call per iteration of the SIMD kernel (call(std::true_type)) or of its scalar twin
// (call(std::false_type)). Every buffer the call uses is handed to DoNotOptimize first, so the compiler
// must treat it as visible outside; ClobberMemory after each call then forces every result to be stored
// and every input to be read again, so no call can be dropped, hoisted or merged with the next.
template <class Call, class... Buffers>
void time_calls(benchmark::State& state, bool simd, double flop, Call call, Buffers&... buffers) {
  (benchmark::DoNotOptimize(buffers.data()), ...);
  auto loop = [&](auto use_simd) {
    for (auto _ : state) {
      call(use_simd);
      benchmark::ClobberMemory();
    }
  };
  if (simd)
    loop(std::true_type{});
  else
    loop(std::false_type{});
  state.counters["GFLOP/s"] = benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
}

// Inputs of a layer as training sees them: activations in [0, 1), weights of the scaled initialiser's
// size, errors of a few hundredths. Mini-batches of m samples.
template <class T, std::size_t In, std::size_t Out>
struct layer_data {
  explicit layer_data(std::size_t m)
      : x(filled(mini_batch<T, In>(m), r, 0, 1)),
        w(filled(nn::matrix<T, In, Out>(), r, -1 / std::sqrt(double(In)), 1 / std::sqrt(double(In)))),
        b(filled(nn::vector<T, Out>(), r, -1, 1)),
        delta(filled(mini_batch<T, Out>(m), r, -0.05, 0.05)) {}
  nn::rng r{42};
  mini_batch<T, In> x;
  nn::matrix<T, In, Out> w;
  nn::vector<T, Out> b;
  mini_batch<T, Out> delta;
};

double flop_of(std::size_t m, std::size_t in, std::size_t out) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(in) * static_cast<double>(out);
}

// One struct per kernel: its name and run(state, m, simd), which times the SIMD kernel or its scalar twin
// on a layer In→Out at mini-batch m.

template <class T, std::size_t In, std::size_t Out>
struct dense_forward {
  static constexpr const char* name = "dense_forward";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    layer_data<T, In, Out> d(m);
    mini_batch<T, Out> z(m), a(m);
    time_calls(
        state, simd, flop_of(m, In, Out),
        [&](auto use_simd) {
          if constexpr (use_simd)
            nn::simd::dense_forward<T, In, Out>(d.x, d.w, d.b.data(), z.data(), a, nn::sigmoid{});
          else
            ref::dense_forward<T, In, Out>(d.x, d.w, d.b.data(), z.data(), a, nn::sigmoid{});
        },
        d.x, d.w, d.b, z, a);
  }
};

// The error of a hidden layer: dp = (W·δ) ⊙ σ'(zp).
template <class T, std::size_t In, std::size_t Out>
struct dense_backward_input {
  static constexpr const char* name = "dense_backward_input";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    layer_data<T, In, Out> d(m);
    mini_batch<T, In> zp = filled(mini_batch<T, In>(m), d.r, -4, 4), ap(m), dp(m);
    ref::activate<T, In>(zp, ap, nn::sigmoid{});
    time_calls(
        state, simd, flop_of(m, In, Out),
        [&](auto use_simd) {
          if constexpr (use_simd)
            nn::simd::dense_backward_input<T, In, Out>(d.w, d.delta, zp.data(), ap, dp, nn::sigmoid{});
          else
            ref::dense_backward_input<T, In, Out>(d.w, d.delta, zp.data(), ap, dp, nn::sigmoid{});
        },
        d.w, d.delta, zp, ap, dp);
  }
};

// Accumulate = true is fused SGD (g = the weights, alpha = −η/m with η = 3); false writes a gradient.
// The in-place form flips alpha's sign every call, so the weights swing between two values instead of
// drifting towards infinity (or, with a tiny alpha, into denormals, which would time the CPU's microcode).
template <bool Accumulate, class T, std::size_t In, std::size_t Out>
struct rank_update {
  static constexpr const char* name = Accumulate ? "rank_update<accumulate>" : "rank_update<write>";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    layer_data<T, In, Out> d(m);
    nn::matrix<T, In, Out> g = d.w;
    T alpha = static_cast<T>(-3.0 / static_cast<double>(m));
    time_calls(
        state, simd, flop_of(m, In, Out),
        [&](auto use_simd) {
          if constexpr (use_simd)
            nn::simd::rank_update<Accumulate, T, In, Out>(d.x, d.delta, g, alpha);
          else
            ref::rank_update<Accumulate, T, In, Out>(d.x, d.delta, g, alpha);
          if constexpr (Accumulate) alpha = -alpha;
        },
        d.x, d.delta, g);
  }
};
template <class T, std::size_t In, std::size_t Out>
using rank_update_write = rank_update<false, T, In, Out>;
template <class T, std::size_t In, std::size_t Out>
using rank_update_accumulate = rank_update<true, T, In, Out>;

// The kernels below work on one layer's N outputs; In is unused.

// The bias gradient, or (Accumulate) fused SGD's bias update, alpha's sign flipping as in rank_update.
template <bool Accumulate, class T, std::size_t In, std::size_t N>
struct column_sum {
  static constexpr const char* name = Accumulate ? "column_sum<accumulate>" : "column_sum<write>";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    layer_data<T, 1, N> d(m);
    T alpha = static_cast<T>(-3.0 / static_cast<double>(m));
    time_calls(
        state, simd, static_cast<double>(m * N),
        [&](auto use_simd) {
          if constexpr (use_simd)
            nn::simd::column_sum<Accumulate, T, N>(d.delta, d.b.data(), alpha);
          else
            ref::column_sum<Accumulate, T, N>(d.delta, d.b.data(), alpha);
          if constexpr (Accumulate) alpha = -alpha;
        },
        d.delta, d.b);
  }
};
template <class T, std::size_t In, std::size_t N>
using column_sum_write = column_sum<false, T, In, N>;
template <class T, std::size_t In, std::size_t N>
using column_sum_accumulate = column_sum<true, T, In, N>;

template <class T, std::size_t In, std::size_t N>
struct activate {
  static constexpr const char* name = "activate";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    nn::rng r(7);
    mini_batch<T, N> z = filled(mini_batch<T, N>(m), r, -4, 4), a(m);
    time_calls(
        state, simd, 2.0 * static_cast<double>(m * N),
        [&](auto use_simd) {
          if constexpr (use_simd)
            nn::simd::activate<T, N>(z, a, nn::sigmoid{});
          else
            ref::activate<T, N>(z, a, nn::sigmoid{});
        },
        z, a);
  }
};

template <class T, std::size_t In, std::size_t N>
struct output_delta {
  static constexpr const char* name = "output_delta";
  static void run(benchmark::State& state, std::size_t m, bool simd) {
    nn::rng r(11);
    mini_batch<T, N> z = filled(mini_batch<T, N>(m), r, -4, 4), a(m), y = filled(mini_batch<T, N>(m), r, 0, 1),
                     delta(m);
    ref::activate<T, N>(z, a, nn::sigmoid{});
    time_calls(
        state, simd, 8.0 * static_cast<double>(m * N),
        [&](auto use_simd) {
          if constexpr (use_simd)
            benchmark::DoNotOptimize(
                nn::simd::output_delta<T, N>(z.data(), a, y, delta, nn::quadratic_cost{}, nn::sigmoid{}));
          else
            benchmark::DoNotOptimize(
                ref::output_delta<T, N>(z.data(), a, y, delta, nn::quadratic_cost{}, nn::sigmoid{}));
        },
        z, a, y, delta);
  }
};

// SGD's update of a whole network, p −= η·g over the parameter block (padding included, as the
// optimizer does it; only the real parameters are counted). The sign of η flips every call.
template <class Network>
void axpy(benchmark::State& state, bool simd) {
  using T = typename Network::value_type;
  nn::rng r(13);
  nn::aligned_vector<T> g(Network::parameter_storage), p(Network::parameter_storage);  // aligned, as the model's
  for (auto& v : g) v = static_cast<T>(r.uniform() - 0.5);
  for (auto& v : p) v = static_cast<T>(r.uniform() - 0.5);
  T eta = T(3);
  time_calls(
      state, simd, 2.0 * static_cast<double>(Network::parameter_count),
      [&](auto use_simd) {
        if constexpr (use_simd)
          nn::simd::axpy<T>(-eta, g, p);
        else
          ref::axpy<T>(-eta, g, p);
        eta = -eta;
      },
      g, p);
}

// Registers Kernel's SIMD benchmark and its scalar twin for a layer In→Out of T at mini-batch m, named
// by the layer (784x30) or, for kernels of the outputs only, by their number (30).
template <template <class, std::size_t, std::size_t> class Kernel, class T, std::size_t In, std::size_t Out>
void add(std::size_t m, bool outputs_only = false) {
  const std::string shape = outputs_only ? std::to_string(Out) : std::to_string(In) + "x" + std::to_string(Out);
  const std::string suffix = "/batch:" + std::to_string(m) + (std::is_same_v<T, double> ? "/double" : "");
  for (const bool simd : {true, false}) {
    const std::string name = std::string(Kernel<T, In, Out>::name) + (simd ? "/simd/" : "/scalar/") + shape + suffix;
    benchmark::RegisterBenchmark(name.c_str(), [m, simd](benchmark::State& s) { Kernel<T, In, Out>::run(s, m, simd); });
  }
}

// Every layer of 784-30-10 and 784-100-10 at mini-batch 10, and the first of 784-100-10 also at 64 and
// 128 (issue 17's mini-batches).
template <template <class, std::size_t, std::size_t> class Kernel, class T>
void add_course_layers() {
  add<Kernel, T, 784, 30>(10);
  add<Kernel, T, 784, 100>(10);
  add<Kernel, T, 784, 100>(64);
  add<Kernel, T, 784, 100>(128);
  add<Kernel, T, 30, 10>(10);
  add<Kernel, T, 100, 10>(10);
}

// The per-neuron kernels on each layer's outputs (30, 100, 10) at mini-batch 10.
template <template <class, std::size_t, std::size_t> class Kernel>
void add_layer_outputs() {
  add<Kernel, float, 1, 30>(10, true);
  add<Kernel, float, 1, 100>(10, true);
  add<Kernel, float, 1, 10>(10, true);
}

template <class Network>
void add_axpy(const std::string& network) {
  for (const bool simd : {true, false})
    benchmark::RegisterBenchmark(("axpy" + std::string(simd ? "/simd/" : "/scalar/") + network).c_str(),
                                 [simd](benchmark::State& s) { axpy<Network>(s, simd); });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("nn SIMD registers", std::to_string(nn::simd::width<float>) + " floats, " +
                                                       std::to_string(nn::simd::width<double>) + " doubles");

  // The two kernels that do most of a training step's work (forward and weight gradient), in both types.
  add_course_layers<dense_forward, float>();
  add_course_layers<dense_forward, double>();
  add_course_layers<rank_update_accumulate, float>();
  add_course_layers<rank_update_accumulate, double>();
  add_course_layers<rank_update_write, float>();
  add_course_layers<rank_update_write, double>();
  // Only the hidden layers' errors are computed: the input layer (784) needs none.
  add<dense_backward_input, float, 30, 10>(10);
  add<dense_backward_input, float, 100, 10>(10);
  // Wide next layers, where the error is dot products along the weights' rows: the Fashion-MNIST recipe's
  // 512→256 and chapter 6's ch6a (2880→100), beside their forward passes.
  for (const std::size_t m : {10, 64}) {
    add<dense_backward_input, float, 512, 256>(m);
    add<dense_forward, float, 512, 256>(m);
    add<dense_backward_input, float, 2880, 100>(m);
    add<dense_forward, float, 2880, 100>(m);
    add<dense_forward, float, 784, 512>(m);
  }
  add<output_delta, float, 1, 10>(10, true);
  add_layer_outputs<column_sum_accumulate>();
  add_layer_outputs<column_sum_write>();
  add_layer_outputs<activate>();
  add_axpy<nn::network<784, 30, 10>>("784-30-10");
  add_axpy<nn::network<784, 100, 10>>("784-100-10");

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
