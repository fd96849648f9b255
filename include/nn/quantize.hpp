// Post-training int8 quantization (docs/int8.md): nn::quantize(net, data) measures the range of every dense
// layer's inputs on a sample of `data` and makes an nn::quantized<Net>, which infers with
//   - weights as int8, one scale per output (per output channel): w ≈ s_o · q, q in [−127, 127];
//   - each dense layer's inputs as u8 with a scale and zero point from the measured range (0 exact);
//   - the products summed exactly in int32 (nn/simd/int8.hpp: AVX-512 VNNI, AVX2, SSE2 or plain C++, chosen
//     at run time), then z = s_x·s_o·(Σ − zero·Σ_k q) + b and the layer's activation in float.
// Layers that are not affine (convolutions, pooling, batch norm, …) run in float as in Net, so any model can
// be quantized; its dense layers are the ones that change. save_quantized / load_quantized keep it in a file.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/checkpoint.hpp"
#include "nn/data/limits.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/layer_list.hpp"
#include "nn/evaluate.hpp"
#include "nn/layer.hpp"
#include "nn/matrix.hpp"
#include "nn/simd/int8.hpp"
#include "nn/simd/kernels.hpp"

namespace nn {

// A bound layer that computes y = f(x·W + b) (nn::dense): W = B::weights(p), input-major with rows of
// B::stride, and b at p + B::bias_offset.
template <class B>
concept affine_layer = requires {
  requires B::affine;
  typename B::activation;
  { B::inputs } -> std::convertible_to<std::size_t>;
  { B::outputs } -> std::convertible_to<std::size_t>;
  { B::stride } -> std::convertible_to<std::size_t>;
  { B::bias_offset } -> std::convertible_to<std::size_t>;
};

// The values seen at a layer's inputs.
struct int8_range {
  float lo = std::numeric_limits<float>::infinity(), hi = -std::numeric_limits<float>::infinity();
};

namespace detail {

inline constexpr state_format quantized_format{{'n', 'n', 'i', 'n', 't', '8'}, 1, "quantized network"};

// An affine layer in int8. What a file holds: the input's scale and zero point, each output's weight scale,
// the weights q[o][k] output by output, the biases. The rest is made from them (finish).
struct int8_affine {
  std::uint64_t inputs = 0, outputs = 0;
  float in_scale = 1;
  std::int32_t zero = 0;
  std::vector<float> w_scale, bias;
  std::vector<std::int8_t> q;
  // For the kernels: the weights packed (nn/simd/int8.hpp); per output, padded to whole panels,
  // in_scale·w_scale, the bias, and zero·Σ_k q[o][k] (what the zero point added to the sum).
  aligned_buffer<std::int8_t> packed;
  aligned_buffer<float> scale, add;
  aligned_buffer<std::int32_t> offset;
  float inv_scale = 1;

  // The scale of a layer's sums, s_x · s_o, a normal float (else the outputs would be 0, ∞ or NaN).
  static bool scales_fit(float in, float w) noexcept {
    const double p = double(in) * double(w);
    return p >= std::numeric_limits<float>::min() && p <= std::numeric_limits<float>::max();
  }

  void finish() {
    namespace k8 = simd::int8;
    const std::size_t n = inputs, m = outputs, Q = k8::quads(n), P = k8::panels(m);
    packed = aligned_buffer<std::int8_t>(P * Q * 64);
    scale = aligned_buffer<float>(P * k8::panel);
    add = aligned_buffer<float>(P * k8::panel);
    offset = aligned_buffer<std::int32_t>(P * k8::panel);
    for (std::size_t o = 0; o < m; ++o) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const std::int8_t v = q[o * n + k];
        packed.data()[((o / k8::panel) * Q + k / 4) * 64 + (o % k8::panel) * 4 + k % 4] = v;
        sum += v;
      }
      scale.data()[o] = in_scale * w_scale[o];
      add.data()[o] = bias[o];
      offset.data()[o] = zero * sum;
    }
    inv_scale = 1 / in_scale;
  }

  // Writes or reads (then checks) what a file holds, for a layer of `n` inputs and `m` outputs.
  template <class Archive>
  void archive(Archive& a, std::size_t n, std::size_t m, std::size_t layer) {
    const auto where = [&] { return "layer " + std::to_string(layer) + "'s "; };
    const std::size_t at = a.offset();
    a(inputs);
    a(outputs);
    if constexpr (Archive::loading)
      if (inputs != n || outputs != m)
        throw data_error(a.path(), at, where() + "int8 weights are " + std::to_string(inputs) + " x " + std::to_string(outputs) +
                                         ", this network's are " + std::to_string(n) + " x " + std::to_string(m));
    const std::size_t s_at = a.offset();
    a(in_scale);
    a(zero);
    if constexpr (Archive::loading) {
      if (!(std::isfinite(in_scale) && in_scale >= std::numeric_limits<float>::min()))
        throw data_error(a.path(), s_at, where() + "input scale is " + std::to_string(in_scale) + ", expected a finite normal value > 0");
      if (zero < 0 || zero > 255)
        throw data_error(a.path(), s_at + 4, where() + "input zero point is " + std::to_string(zero) + ", expected 0 to 255");
    }
    const auto values = [&](auto& v, std::size_t count, const char* what, bool positive) {
      const std::size_t v_at = a.offset();
      a(v);
      if constexpr (Archive::loading) {
        if (v.size() != count)
          throw data_error(a.path(), v_at, where() + what + ": expected " + std::to_string(count) + " values, found " + std::to_string(v.size()));
        if constexpr (std::is_floating_point_v<std::decay_t<decltype(v[0])>>)
          for (std::size_t i = 0; i < count; ++i)
            if (!std::isfinite(v[i]) || (positive && !(v[i] >= std::numeric_limits<float>::min())))
              throw data_error(a.path(), v_at + 8 + 4 * i, where() + what + " " + std::to_string(i) + " is " + std::to_string(v[i]) +
                                                               (positive ? ", expected a finite normal value > 0" : ", expected a finite value"));
      }
    };
    values(w_scale, m, "weight scale", true);
    if constexpr (Archive::loading)
      for (std::size_t o = 0; o < m; ++o)
        if (!scales_fit(in_scale, w_scale[o]))
          throw data_error(a.path(), s_at + 8 + 8 + 4 * o, where() + "weight scale " + std::to_string(o) + " times the input scale is " +
                                                       std::to_string(double(in_scale) * w_scale[o]) + ", outside float's normal range");
    values(q, n * m, "weights", false);
    values(bias, m, "bias", false);
    if constexpr (Archive::loading) finish();
  }
};

// At most `limit` characters of s for a message, others than printable ASCII as '?'.
inline std::string printable(const std::string& s, std::size_t limit) {
  std::string r;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) r += s[i] >= 32 && s[i] < 127 ? s[i] : '?';
  if (s.size() > limit) r += "... (" + std::to_string(s.size()) + " bytes)";
  return r;
}

// The i-th layer's name in messages: "layer 2 (dense)".
template <class B>
std::string layer_name(std::size_t i) {
  std::string s = "layer " + std::to_string(i);
  if constexpr (requires { std::string(B::kind); }) s += std::string(" (") + B::kind + ")";
  return s;
}

}  // namespace detail

template <class Net>
class quantized {
  static_assert(std::is_same_v<typename Net::value_type, float>, "nn::quantized: int8 inference is for networks of float");

 public:
  using model_type = Net;
  using value_type = float;
  using input_shape = typename Net::input_shape;
  using output_shape = typename Net::output_shape;
  using workspace = typename Net::workspace;  // (nn::evaluate gathers samples into it)
  static constexpr std::size_t inputs = Net::inputs, outputs = Net::outputs, layer_count = Net::layer_count;
  template <std::size_t I>
  using layer_type = typename Net::template layer_type<I>;
  // Layer I runs in int8 (an nn::affine_layer, e.g. nn::dense); the others run in float, as in Net.
  template <std::size_t I>
  static constexpr bool in_int8 = affine_layer<layer_type<I>>;

  static std::string name() { return "nn::quantized<" + Net::name() + ">"; }

  // Every int8 layer from the float network, its input's range measured (ranges[I] for layer I; nn::quantize
  // measures them). std::invalid_argument when a weight or bias is not finite.
  quantized(const Net& net, std::span<const int8_range, layer_count> ranges) : net_(net), kernels_(choose()) {
    simd::detail::static_for<layer_count>([&](auto i) {
      constexpr std::size_t I = i;
      if constexpr (in_int8<I>) make_layer<I>(net.template layer_parameters<I>(), ranges[I]);
    });
  }
  // A network of zero weights to load a file into (load_quantized).
  quantized() : quantized(Net(), std::array<int8_range, layer_count>{}) {}

  // The int8 kernels this network runs (NN_ISA's choice, else the fastest this CPU has), and a way to
  // choose others (std::invalid_argument when this CPU cannot run them): every path gives the same bits.
  simd::int8::isa path() const noexcept { return kernels_.id; }
  void use(simd::int8::isa i) { kernels_ = simd::int8::kernels_for(i); }

  // One sample's outputs.
  template <class Range>
  std::array<float, outputs> feedforward(const Range& x) const {
    const std::span<const float> in(std::data(x), std::size(x));
    if (in.size() != inputs) detail::check_inputs(in.size(), inputs, name() + "::feedforward: the sample");
    detail::scratch<float, strides[0]> row;
    std::copy(in.begin(), in.end(), row.get());
    std::fill(row.get() + inputs, row.get() + strides[0], 0.0f);
    detail::scratch<float, strides[layer_count]> out;
    run(row.get(), 1, out.get());
    std::array<float, outputs> r;
    std::copy_n(out.get(), outputs, r.begin());
    return r;
  }
  // Outputs for rows of inputs, as the float model's predict; thread-safe, and no heap for networks whose
  // chunk of rows fits nn's 256 KB of stack scratch.
  template <class U, std::size_t Rows, std::size_t Cols>
  void predict(matrix_ref<U, Rows, Cols> x, matrix_ref<float, dynamic, outputs> out) const {
    static_assert(std::is_same_v<std::remove_const_t<U>, float>, "nn::quantized: predict's inputs are float");
    detail::check_input_size<inputs, Cols>();
    if (out.rows() != x.rows())
      throw std::invalid_argument(name() + "::predict: " + std::to_string(x.rows()) + " rows of inputs but " +
                                  std::to_string(out.rows()) + " rows for the outputs");
    run(x.data(), x.rows(), out.data());
  }
  template <class U, std::size_t Rows, std::size_t Cols>
  matrix<float, dynamic, outputs> predict(const matrix<U, Rows, Cols>& x) const {
    matrix<float, dynamic, outputs> out(x.rows());
    predict(matrix_ref<const U, Rows, Cols>(x.data(), x.rows()), matrix_ref<float, dynamic, outputs>(out.data(), out.rows()));
    return out;
  }
  // Outputs for rows of bytes, each standing for b / scale (as in nn::byte_dataset: images of pixels 0..255
  // with scale 255). An int8 first layer reads them as its codes when they are (pixels, and a first layer
  // that saw [0, 1]), else through a table of the 256: a quarter of the memory traffic of float rows, and no
  // conversion. Rows are nn's padded rows of bytes (an nn::matrix<std::uint8_t, dynamic, inputs>).
  template <std::size_t Rows>
  void predict(matrix_ref<const std::uint8_t, Rows, inputs> x, float scale, matrix_ref<float, dynamic, outputs> out) const {
    if (out.rows() != x.rows())
      throw std::invalid_argument(name() + "::predict: " + std::to_string(x.rows()) + " rows of inputs but " +
                                  std::to_string(out.rows()) + " rows for the outputs");
    if (!(scale > 0) || !std::isfinite(scale))
      throw std::invalid_argument(name() + "::predict: the bytes' scale must be finite and above 0, not " + std::to_string(scale));
    const byte_rows b{x.data(), matrix_ref<const std::uint8_t, Rows, inputs>::stride, scale};
    run(nullptr, x.rows(), out.data(), &b);
  }

  // Whether predict from bytes of this scale reads them as the first layer's codes as they are (no table).
  bool reads_bytes_as_codes(float scale) const noexcept {
    if constexpr (in_int8<0>) {
      for (std::size_t b = 0; b < 256; ++b)
        if (simd::int8::detail::quantize_one(static_cast<float>(b) / scale, int8_[0].inv_scale, int8_[0].zero) != b) return false;
      return true;
    } else {
      return false;
    }
  }

  // Inference over a workspace's rows (nn::evaluate); nothing is kept for training.
  template <bool Keep = false>
  void forward(workspace& ws) const {
    static_assert(!Keep, "nn::quantized infers only");
    run(ws.template a<0>().data(), ws.rows(), ws.output().data());
  }

  // Layer I's int8 form (for files, export and tests), and the float model whose other layers it runs.
  template <std::size_t I>
    requires in_int8<I>
  const detail::int8_affine& int8_layer() const noexcept { return int8_[I]; }
  const Net& float_model() const noexcept { return net_; }

  // The file's contents (save_quantized, load_quantized): the model's name, then each layer's int8 form or
  // its float parameters in the layer's order.
  template <class Archive>
  void archive(Archive& a) {
    const std::size_t at = a.offset();
    std::string n = name();
    a(n);
    if constexpr (Archive::loading)
      if (n != name()) throw data_error(a.path(), at, "the file holds " + detail::printable(n, 300) + ", this network is " + name());
    simd::detail::static_for<layer_count>([&](auto i) {
      constexpr std::size_t I = i;
      using B = layer_type<I>;
      if constexpr (in_int8<I>) {
        int8_[I].archive(a, B::inputs, B::outputs, I);
      } else {
        std::vector<float> v;
        if constexpr (!Archive::loading) detail::visit_parameters<B>(net_.template layer_parameters<I>(), [&](float& x) { v.push_back(x); });
        const std::size_t v_at = a.offset();
        a(v);
        if constexpr (Archive::loading) {
          std::size_t k = 0, want = 0;
          detail::visit_parameters<B>(net_.template layer_parameters<I>(), [&](float&) { ++want; });
          if (v.size() != want)
            throw data_error(a.path(), v_at, detail::layer_name<B>(I) + ": expected " + std::to_string(want) + " values, found " + std::to_string(v.size()));
          for (const float x : v)
            if (!std::isfinite(x)) throw data_error(a.path(), v_at + 8 + 4 * k, detail::layer_name<B>(I) + "'s parameter " + std::to_string(k) + " is not finite");
            else ++k;
          k = 0;
          detail::visit_parameters<B>(net_.template layer_parameters<I>(), [&](float& x) { x = v[k++]; });
        }
      }
    });
  }

 private:
  template <std::size_t K>
  using slot_shape = std::conditional_t<K == 0, input_shape, typename layer_type<(K == 0 ? 0 : K - 1)>::output_shape>;
  static constexpr std::array<std::size_t, layer_count + 1> strides = []<std::size_t... K>(std::index_sequence<K...>) {
    return std::array<std::size_t, layer_count + 1>{row_layout<float, slot_shape<K>::size>::stride...};
  }(std::make_index_sequence<layer_count + 1>{});
  static constexpr std::size_t chunk = 24;  // rows through all the layers at a time
  static constexpr std::array<std::size_t, layer_count + 1> hidden_off = [] {
    std::array<std::size_t, layer_count + 1> o{};
    for (std::size_t k = 1; k < layer_count; ++k) o[k + 1] = o[k] + chunk * strides[k];
    return o;
  }();
  // The int8 layers' bytes and sums for a chunk: as much as the widest needs.
  template <std::size_t I>
  static constexpr std::size_t bytes_of = [] {
    if constexpr (in_int8<I>) return chunk * simd::int8::row_bytes(layer_type<I>::inputs);
    else return std::size_t{0};
  }();
  template <std::size_t I>
  static constexpr std::size_t sums_of = [] {
    if constexpr (in_int8<I>) return chunk * simd::int8::panels(layer_type<I>::outputs) * simd::int8::panel;
    else return std::size_t{0};
  }();
  static constexpr std::size_t byte_scratch = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::max({bytes_of<I>...});
  }(std::make_index_sequence<layer_count>{});
  static constexpr std::size_t sum_scratch = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::max({sums_of<I>...});
  }(std::make_index_sequence<layer_count>{});

  static simd::int8::kernels choose() { return simd::int8::kernels_for(simd::int8::select()); }

  template <std::size_t I>
  void make_layer(const float* p, const int8_range& r) {
    using B = layer_type<I>;
    static_assert(B::inputs <= 65536, "nn::quantized: an int8 layer of more than 65536 inputs could overflow its int32 sums");
    constexpr std::size_t n = B::inputs, m = B::outputs;
    detail::int8_affine& L = int8_[I];
    L.inputs = n;
    L.outputs = m;
    // The input's code: [lo, hi] widened to hold 0, in 255 steps; 0 is a whole step (the zero point).
    const float lo = std::min(r.lo, 0.0f), hi = std::max(r.hi, 0.0f);
    const float s = hi / 255 - lo / 255;  // (hi − lo could overflow)
    L.in_scale = s >= std::numeric_limits<float>::min() ? s : 1.0f;  // (else every input was 0)
    L.zero = static_cast<std::int32_t>(std::clamp(std::nearbyint(-lo / L.in_scale), 0.0f, 255.0f));
    L.w_scale.assign(m, 1.0f);
    L.bias.assign(m, 0.0f);
    L.q.assign(n * m, 0);
    check_finite<I>(p);
    for (std::size_t o = 0; o < m; ++o) {
      float big = 0;
      for (std::size_t k = 0; k < n; ++k) big = std::max(big, std::fabs(p[k * B::stride + o]));
      const float ws = big / 127;
      if (ws >= std::numeric_limits<float>::min()) L.w_scale[o] = ws;  // else every weight is (nearly) 0
      if (!detail::int8_affine::scales_fit(L.in_scale, L.w_scale[o]))
        throw std::invalid_argument("nn::quantize: " + detail::layer_name<B>(I) + "'s output " + std::to_string(o) +
                                    ": its inputs' range times its largest weight is outside float's range");
      for (std::size_t k = 0; k < n; ++k)
        L.q[o * n + k] = static_cast<std::int8_t>(std::clamp(std::nearbyint(p[k * B::stride + o] / L.w_scale[o]), -127.0f, 127.0f));
      L.bias[o] = p[B::bias_offset + o];
    }
    L.finish();
  }
  template <std::size_t I>
  static void check_finite(const float* p) {
    using B = layer_type<I>;
    for (std::size_t o = 0; o < B::outputs; ++o) {
      bool finite = std::isfinite(p[B::bias_offset + o]);
      for (std::size_t k = 0; k < B::inputs; ++k) finite = finite && std::isfinite(p[k * B::stride + o]);
      if (!finite)
        throw std::invalid_argument("nn::quantize: " + detail::layer_name<B>(I) + "'s weights or bias of output " + std::to_string(o) +
                                    " are not finite");
    }
  }

 public:
  // std::invalid_argument naming the first int8 layer and output with a weight or bias that is not finite.
  static void check_finite(const Net& net) {
    simd::detail::static_for<layer_count>([&](auto i) {
      if constexpr (in_int8<i>) check_finite<i>(net.template layer_parameters<i>());
    });
  }

 private:

  // Layer I in int8 over n rows of codes (u8 rows `stride` bytes apart, zero past the inputs): the int32 sums,
  // then z and the activation in float into y.
  template <std::size_t I>
  void int8_outputs(const std::uint8_t* codes, std::size_t stride, std::size_t n, float* y, std::int32_t* sums) const noexcept {
    using B = layer_type<I>;
    namespace k8 = simd::int8;
    constexpr std::size_t out = B::outputs, P = k8::panels(out), sy = strides[I + 1];
    const detail::int8_affine& L = int8_[I];
    kernels_.gemm({codes, stride, n, L.packed.data(), k8::quads(B::inputs), P, sums, P * k8::panel});
    const float* sc = L.scale.data();
    const float* ad = L.add.data();
    const std::int32_t* off = L.offset.data();
    for (std::size_t s = 0; s < n; ++s) {
      const std::int32_t* a = sums + s * P * k8::panel;
      float* z = y + s * sy;
      for (std::size_t o = 0; o < out; ++o) z[o] = static_cast<float>(a[o] - off[o]) * sc[o] + ad[o];
      for (std::size_t o = out; o < sy; ++o) z[o] = 0;
    }
    simd::activate<float, out>(matrix_ref<const float, dynamic, out>(y, n), matrix_ref<float, dynamic, out>(y, n),
                               typename B::activation{});
  }

  // The first layer's input as bytes (b stands for b / scale, as in a byte_dataset), rows `stride` bytes apart.
  struct byte_rows {
    const std::uint8_t* data;
    std::size_t stride;
    float scale;
  };

  // m rows into m padded rows at out, a chunk of rows through every layer at a time. The input is m padded
  // rows of floats at x, or of bytes.
  void run(const float* x, std::size_t m, float* out, const byte_rows* bytes_in = nullptr) const {
    namespace k8 = simd::int8;
    // One budget: on the stack when the three fit nn's 256 KB together, else all on the heap.
    constexpr bool stack = hidden_off[layer_count] * 4 + byte_scratch + sum_scratch * 4 <= 262144;
    detail::scratch<float, hidden_off[layer_count], stack> hidden;
    detail::scratch<std::uint8_t, byte_scratch, stack> bytes;
    detail::scratch<std::int32_t, sum_scratch, stack> sums;
    // Bytes into the first layer's codes: a table of the 256 (the bytes themselves when it is the identity,
    // as for pixels / 255 and a first layer that saw [0, 1]); or into floats for a float first layer.
    std::array<std::uint8_t, 256> table{};
    const bool identity = bytes_in && reads_bytes_as_codes(bytes_in->scale);
    if constexpr (in_int8<0>)
      if (bytes_in && !identity)
        for (std::size_t b = 0; b < 256; ++b)
          table[b] = k8::detail::quantize_one(static_cast<float>(b) / bytes_in->scale, int8_[0].inv_scale, int8_[0].zero);
    detail::aligned_buffer<float> floats;  // (bytes into a float first layer only)
    if (!in_int8<0> && bytes_in) floats = detail::aligned_buffer<float>(chunk * strides[0]);
    for (std::size_t s0 = 0; s0 < m; s0 += chunk) {
      const std::size_t n = std::min(chunk, m - s0);
      simd::detail::static_for<layer_count>([&](auto i) {
        constexpr std::size_t I = i;
        using B = layer_type<I>;
        const float* in = I > 0 ? hidden.get() + hidden_off[I] : x ? x + s0 * strides[0] : nullptr;
        float* to = I + 1 == layer_count ? out + s0 * strides[layer_count] : hidden.get() + hidden_off[I + 1];
        if constexpr (I == 0 && !in_int8<I>) {
          if (bytes_in) {  // a float first layer: the bytes as floats, as the trainer converts them
            for (std::size_t r = 0; r < n; ++r)
              detail::bytes_to_values(bytes_in->data + (s0 + r) * bytes_in->stride, inputs, bytes_in->scale, floats.data() + r * strides[0]);
            in = floats.data();
          }
        }
        if constexpr (in_int8<I>) {
          constexpr std::size_t rb = k8::row_bytes(B::inputs);
          const detail::int8_affine& L = int8_[I];
          if (I == 0 && bytes_in) {
            const std::uint8_t* rows = bytes_in->data + s0 * bytes_in->stride;
            if (identity) {
              int8_outputs<I>(rows, bytes_in->stride, n, to, sums.get());
              return;
            }
            for (std::size_t r = 0; r < n; ++r) {
              std::uint8_t* c = bytes.get() + r * rb;
              for (std::size_t k = 0; k < B::inputs; ++k) c[k] = table[rows[r * bytes_in->stride + k]];
              std::fill(c + B::inputs, c + rb, std::uint8_t{0});
            }
          } else {
            kernels_.quantize({in, strides[I], n, B::inputs, L.inv_scale, L.zero, bytes.get(), rb});
          }
          int8_outputs<I>(bytes.get(), rb, n, to, sums.get());
        } else {
          B::forward(net_.template layer_parameters<I>(), rows_of<const float, typename B::input_shape>(in, n),
                     rows_of<float, typename B::output_shape>(to, n));
        }
      });
    }
  }

  Net net_;
  std::array<detail::int8_affine, layer_count> int8_;
  simd::int8::kernels kernels_;
};

// Quantizes a trained float network: the range of each dense layer's inputs is measured over `samples`
// samples of `data` spread evenly over it (all of them when it has fewer; training data, not the test set).
// std::invalid_argument when there is no sample, or the network gives a value that is not finite.
template <class Net, class Data>
quantized<Net> quantize(const Net& net, const Data& data, std::size_t samples = 2000) {
  detail::check_shapes<Net>(data, "calibration");
  if (data.size() == 0 || samples == 0) throw std::invalid_argument("nn::quantize: the calibration needs at least one sample");
  using Q = quantized<Net>;
  Q::check_finite(net);  // (before the calibration, which a NaN weight would stop at the next layer)
  const std::size_t n = std::min(samples, data.size());
  std::array<int8_range, Net::layer_count> ranges{};
  constexpr std::size_t rows = 48;
  typename Net::workspace ws(rows);
  std::vector<std::size_t> idx(rows);
  for (std::size_t s0 = 0; s0 < n; s0 += rows) {
    const std::size_t m = std::min(rows, n - s0);
    for (std::size_t r = 0; r < m; ++r) idx[r] = static_cast<std::size_t>(static_cast<unsigned long long>(s0 + r) * data.size() / n);
    detail::gather<Net>(data, std::span<const std::size_t>(idx.data(), m), ws);
    net.template forward<false>(ws);
    simd::detail::static_for<Net::layer_count>([&](auto i) {
      constexpr std::size_t I = i;
      if constexpr (Q::template in_int8<I>) {
        using B = typename Net::template layer_type<I>;
        const auto x = ws.template a<I>();
        for (std::size_t r = 0; r < m; ++r)
          for (std::size_t k = 0; k < B::inputs; ++k) {
            const float v = x.row_data(r)[k];
            if (!std::isfinite(v))
              throw std::invalid_argument("nn::quantize: the inputs of " + detail::layer_name<B>(I) + " reach " + std::to_string(v) +
                                          " on sample " + std::to_string(idx[r]) + " of the calibration data");
            ranges[I].lo = std::min(ranges[I].lo, v);
            ranges[I].hi = std::max(ranges[I].hi, v);
          }
      }
    });
  }
  return Q(net, ranges);
}

// Writes a quantized network (docs/file-format.md): its name and every layer's int8 form or float
// parameters, in the checkpoint container ("nnint8", a hash of the contents), atomically.
template <class Net>
void save_quantized(const quantized<Net>& q, const std::string& path) {
  detail::state_writer w;
  const_cast<quantized<Net>&>(q).archive(w);
  detail::write_durably(path, w.file(detail::quantized_format));
}

// Loads a file written by save_quantized into q, which is changed only when the whole file is good; a
// data_error names the byte and what was wrong. Files of more than four times this network's size (plus
// 1 MiB) are not read (nn::read_limits::parameter_file_bytes raises it).
template <class Net>
void load_quantized(quantized<Net>& q, const std::string& path, const read_limits& limits = {}) {
  static const std::uint64_t own = [] {
    quantized<Net> empty;
    detail::state_writer w;
    empty.archive(w);
    return static_cast<std::uint64_t>(w.file(detail::quantized_format).size());
  }();
  std::string what;
  const std::uint64_t limit = detail::parameter_file_limit(limits, own, what);
  detail::state_reader r(path, detail::read_checkpoint_bytes(path, limit, "quantized network", what), detail::quantized_format);
  quantized<Net> loaded;
  loaded.use(q.path());
  loaded.archive(r);
  r.finish();
  q = std::move(loaded);
}

}  // namespace nn
