// The kernels of a 2-D convolution (nn::conv2d), per sample, channels × height × width.
//
// Method (docs/design.md, "Convolutions"): the input is unrolled tile by tile into a small patch matrix
// P[r][p] (r a tap: input channel, kernel row and column; p an output pixel), and the output of every
// map is a matrix product Y[m][p] = b[m] + Σ_r w[m][r]·P[r][p] with the pixels in the SIMD lanes. The
// weights stay in the order files and ONNX use ([map][channel][row][column]); each output map comes out
// as a contiguous run of pixels, already channels × height × width. The error at the input is the same
// product with the weights transposed, folded back onto the image (col2im), and the weights' gradient
// is dot products of the error's rows with P's. Padding and stride live only in the unrolling, so one
// product kernel serves every geometry. A tile holds `conv_tiles::pixels` pixels, chosen so that its
// scratch fits in 64 KB (float) on the stack: nothing is allocated.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "nn/simd/kernels.hpp"

namespace nn {

// 'valid': only positions where the kernel fits (output (H − K)/S + 1); 'same': zeros around the input so
// that the output is ceil(H / S), the extra row or column of an odd total at the bottom and right (ONNX's
// SAME_UPPER, TensorFlow's 'same'; PyTorch's padding='same' for stride 1).
enum class padding { valid, same };

// Everything a convolution's kernels need to know, at compile time.
struct conv_geometry {
  std::size_t channels, height, width;  // the input
  std::size_t maps, kernel_h, kernel_w, stride;
  std::size_t pad_top, pad_left;        // zeros before the first row and column
  std::size_t out_h, out_w;

  constexpr std::size_t taps() const noexcept { return channels * kernel_h * kernel_w; }
  constexpr std::size_t pixels() const noexcept { return out_h * out_w; }
  constexpr std::size_t input_size() const noexcept { return channels * height * width; }
  constexpr std::size_t output_size() const noexcept { return maps * out_h * out_w; }
};

constexpr conv_geometry make_conv_geometry(std::size_t c, std::size_t h, std::size_t w, std::size_t maps, std::size_t kh,
                                           std::size_t kw, std::size_t stride, padding pad) {
  conv_geometry g{c, h, w, maps, kh, kw, stride, 0, 0, 0, 0};
  if (pad == padding::valid) {
    g.out_h = h >= kh ? (h - kh) / stride + 1 : 0;
    g.out_w = w >= kw ? (w - kw) / stride + 1 : 0;
  } else {
    g.out_h = (h + stride - 1) / stride;
    g.out_w = (w + stride - 1) / stride;
    const std::size_t th = (g.out_h - 1) * stride + kh, tw = (g.out_w - 1) * stride + kw;
    g.pad_top = th > h ? (th - h) / 2 : 0;
    g.pad_left = tw > w ? (tw - w) / 2 : 0;
  }
  return g;
}

namespace simd {

// The tile: how many output pixels at a time (a multiple of the SIMD width), and the scratch it needs.
template <class T, conv_geometry G>
struct conv_tiles {
  static constexpr std::size_t W = width<T>;
  static constexpr std::size_t taps = G.taps(), maps = G.maps, all_pixels = G.pixels();
  static constexpr std::size_t padded_pixels = (all_pixels + W - 1) / W * W;
  // Rows of scratch: P (taps), the error's rows (maps) and a product (taps or maps).
  static constexpr std::size_t rows = taps + maps + std::max(taps, maps);
  static constexpr std::size_t budget = 65536 / sizeof(T);
  static constexpr std::size_t fit = budget / rows / W * W;
  static constexpr std::size_t pixels = std::min(padded_pixels, std::max(W, fit));
  static constexpr std::size_t count = (all_pixels + pixels - 1) / pixels;
  // Pixels [first, first + size) of tile t.
  static constexpr std::size_t first(std::size_t t) noexcept { return t * pixels; }
  static constexpr std::size_t size(std::size_t t) noexcept { return std::min(pixels, all_pixels - t * pixels); }
};

namespace detail {

// For tap row (ky, kx) and output row oy, the output columns [lo, hi) that read inside the image, and
// where the input row is (-1: the whole output row reads padding).
template <conv_geometry G>
struct tap_span {
  std::ptrdiff_t iy;
  std::size_t lo, hi;
};
template <conv_geometry G>
constexpr tap_span<G> span_of(std::size_t ky, std::size_t kx, std::size_t oy) noexcept {
  const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * G.stride + ky) - static_cast<std::ptrdiff_t>(G.pad_top);
  if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(G.height)) return {-1, 0, 0};
  // ix = ox·S + kx − pad_left in [0, width)
  const std::size_t lo = kx >= G.pad_left ? 0 : (G.pad_left - kx + G.stride - 1) / G.stride;
  const std::size_t end = G.width + G.pad_left;  // ix < width  <=>  ox·S + kx < width + pad_left
  const std::size_t hi = end > kx ? std::min(G.out_w, (end - kx + G.stride - 1) / G.stride) : 0;
  return {iy, lo, std::max(lo, hi)};
}

// Calls f(out_offset, oy, ox_begin, count) for each output row's piece of pixels [p0, p0 + n).
template <conv_geometry G, class F>
inline void for_row_runs(std::size_t p0, std::size_t n, F&& f) {
  std::size_t p = p0;
  const std::size_t end = p0 + n;
  while (p < end) {
    const std::size_t oy = p / G.out_w, ox = p % G.out_w;
    const std::size_t run = std::min(G.out_w - ox, end - p);
    f(p - p0, oy, ox, run);
    p += run;
  }
}

}  // namespace detail

// P[r - r0][q] = the input value tap r reads for pixel p0 + q (0 in the padding), for taps [r0, r1) and
// q < n; columns n to TP are 0.
template <class T, conv_geometry G, std::size_t TP>
void conv_unroll(const T* x, std::size_t r0, std::size_t r1, std::size_t p0, std::size_t n, T* P) noexcept {
  constexpr std::size_t K2 = G.kernel_h * G.kernel_w;
  for (std::size_t r = r0; r < r1; ++r) {
    const std::size_t c = r / K2, ky = r % K2 / G.kernel_w, kx = r % G.kernel_w;
    const T* xc = x + c * G.height * G.width;
    T* out = P + (r - r0) * TP;
    detail::for_row_runs<G>(p0, n, [&](std::size_t at, std::size_t oy, std::size_t ox, std::size_t run) {
      T* o = out + at;
      const auto s = detail::span_of<G>(ky, kx, oy);
      const std::size_t lo = std::clamp(s.lo, ox, ox + run), hi = std::clamp(s.hi, lo, ox + run);
      if (s.iy < 0 || lo == hi) {
        std::fill(o, o + run, T(0));
        return;
      }
      std::fill(o, o + (lo - ox), T(0));
      const T* src = xc + static_cast<std::size_t>(s.iy) * G.width + lo * G.stride + kx - G.pad_left;
      if constexpr (G.stride == 1) {
        std::copy(src, src + (hi - lo), o + (lo - ox));
      } else {
        for (std::size_t i = 0; i < hi - lo; ++i) o[lo - ox + i] = src[i * G.stride];
      }
      std::fill(o + (hi - ox), o + run, T(0));
    });
    std::fill(out + n, out + TP, T(0));
  }
}

// The reverse of conv_unroll for all taps, adding: gi[the input value tap r reads for pixel p0 + q] +=
// D[r][q] (q < n).
template <class T, conv_geometry G, std::size_t TP>
void conv_fold(const T* D, std::size_t p0, std::size_t n, T* gi) noexcept {
  constexpr std::size_t K2 = G.kernel_h * G.kernel_w;
  for (std::size_t r = 0; r < G.taps(); ++r) {
    const std::size_t c = r / K2, ky = r % K2 / G.kernel_w, kx = r % G.kernel_w;
    T* gc = gi + c * G.height * G.width;
    const T* d = D + r * TP;
    detail::for_row_runs<G>(p0, n, [&](std::size_t at, std::size_t oy, std::size_t ox, std::size_t run) {
      const auto s = detail::span_of<G>(ky, kx, oy);
      const std::size_t lo = std::clamp(s.lo, ox, ox + run), hi = std::clamp(s.hi, lo, ox + run);
      if (s.iy < 0) return;
      T* dst = gc + static_cast<std::size_t>(s.iy) * G.width + lo * G.stride + kx - G.pad_left;
      const T* src = d + at + (lo - ox);
      for (std::size_t i = 0; i < hi - lo; ++i) dst[i * G.stride] += src[i];
    });
  }
}

// out[i][0..TP) = init[i] (0 when null) + Σ_k a[i·ars + k·acs]·b[k][0..TP), for rows i < rows and
// k < inner; b and out are rows of TP values, aligned. The convolution's one product kernel: a block of
// rows × registers of pixels in accumulators, each b register loaded once per block and each a value
// broadcast once.
template <class T, std::size_t TP>
void conv_product(std::size_t rows, std::size_t inner, const T* a, std::size_t ars, std::size_t acs, const T* b,
                  const T* init, T* out) noexcept {
  constexpr std::size_t W = width<T>, C = TP / W;
  static_assert(TP % W == 0);
  constexpr std::size_t CB = C < 4 ? C : 4;
  constexpr std::size_t rows_max = (detail::register_count<T> - CB - 1) / CB;
  constexpr std::size_t SB = rows_max < 8 ? rows_max : 8;
  detail::dynamic_blocks<SB>(rows, [&](std::size_t i0, auto sb_c) NN_INLINE {
    constexpr std::size_t sb_n = decltype(sb_c)::value;
    detail::static_blocks<C, CB>([&](std::size_t c0, auto cb_c) NN_INLINE {
      constexpr std::size_t cb_n = decltype(cb_c)::value;
      batch<T> acc[sb_n][cb_n];
      detail::static_for<sb_n>([&](std::size_t sb) NN_INLINE {
        const batch<T> start(init ? init[i0 + sb] : T(0));
        detail::static_for<cb_n>([&](std::size_t cb) NN_INLINE { acc[sb][cb] = start; });
      });
      const T* ar = a + i0 * ars;
      const T* br = b + c0 * W;
      for (std::size_t k = 0; k < inner; ++k, ar += acs, br += TP) {
        batch<T> bv[cb_n];
        detail::static_for<cb_n>([&](std::size_t cb) NN_INLINE { bv[cb] = detail::load(br + cb * W); });
        detail::static_for<sb_n>([&](std::size_t sb) NN_INLINE {
          const batch<T> av(ar[sb * ars]);
          detail::static_for<cb_n>([&](std::size_t cb) NN_INLINE { acc[sb][cb] = xsimd::fma(av, bv[cb], acc[sb][cb]); });
        });
      }
      detail::static_for<sb_n>([&](std::size_t sb) NN_INLINE {
        detail::static_for<cb_n>([&](std::size_t cb) NN_INLINE { detail::store(out + (i0 + sb) * TP + (c0 + cb) * W, acc[sb][cb]); });
      });
    });
  });
}

// g[i·grs + k] += alpha · Σ_q x[i][q]·y[k][q] for i < ni, k < nk, over rows of TP values (aligned): the
// weights' gradient, a block of 4 × 4 dot products at a time.
template <class T, std::size_t TP>
void conv_dots(std::size_t ni, std::size_t nk, const T* x, const T* y, T alpha, T* g, std::size_t grs) noexcept {
  constexpr std::size_t W = width<T>, C = TP / W;
  detail::dynamic_blocks<4>(ni, [&](std::size_t i0, auto ib_c) NN_INLINE {
    constexpr std::size_t ib_n = decltype(ib_c)::value;
    detail::dynamic_blocks<4>(nk, [&](std::size_t k0, auto kb_c) NN_INLINE {
      constexpr std::size_t kb_n = decltype(kb_c)::value;
      batch<T> acc[ib_n][kb_n];
      detail::static_for<ib_n>([&](std::size_t ib) NN_INLINE {
        detail::static_for<kb_n>([&](std::size_t kb) NN_INLINE { acc[ib][kb] = batch<T>(T(0)); });
      });
      for (std::size_t c = 0; c < C; ++c) {
        batch<T> yv[kb_n];
        detail::static_for<kb_n>([&](std::size_t kb) NN_INLINE { yv[kb] = detail::load(y + (k0 + kb) * TP + c * W); });
        detail::static_for<ib_n>([&](std::size_t ib) NN_INLINE {
          const batch<T> xv = detail::load(x + (i0 + ib) * TP + c * W);
          detail::static_for<kb_n>([&](std::size_t kb) NN_INLINE { acc[ib][kb] = xsimd::fma(xv, yv[kb], acc[ib][kb]); });
        });
      }
      detail::static_for<ib_n>([&](std::size_t ib) NN_INLINE {
        detail::static_for<kb_n>([&](std::size_t kb) NN_INLINE { g[(i0 + ib) * grs + k0 + kb] += alpha * reduce_add(acc[ib][kb]); });
      });
    });
  });
}

// Rows [0, maps) of TP values from a sample's maps (each `pixels` long), pixels [p0, p0 + n); 0 after n.
template <class T, conv_geometry G, std::size_t TP>
void conv_gather_maps(const T* g, std::size_t p0, std::size_t n, T* out) noexcept {
  for (std::size_t m = 0; m < G.maps; ++m) {
    std::copy(g + m * G.pixels() + p0, g + m * G.pixels() + p0 + n, out + m * TP);
    std::fill(out + m * TP + n, out + (m + 1) * TP, T(0));
  }
}

// One sample's output before the activation: y = b + w ∗ x (w: maps × taps, then b: maps).
template <class T, conv_geometry G>
void conv_forward(const T* p, const T* x, T* y) noexcept {
  using tiles = conv_tiles<T, G>;
  constexpr std::size_t TP = tiles::pixels;
  alignas(alignment) T P[G.taps() * TP];
  alignas(alignment) T out[G.maps * TP];
  for (std::size_t t = 0; t < tiles::count; ++t) {
    const std::size_t p0 = tiles::first(t), n = tiles::size(t);
    conv_unroll<T, G, TP>(x, 0, G.taps(), p0, n, P);
    conv_product<T, TP>(G.maps, G.taps(), p, G.taps(), 1, P, p + G.maps * G.taps(), out);
    for (std::size_t m = 0; m < G.maps; ++m) std::copy(out + m * TP, out + m * TP + n, y + m * G.pixels() + p0);
  }
}

// One sample's error at the input, from the error at the output before the activation (g): gi = wᵀ ∗ g,
// folded onto the image. gi is overwritten (its padding past the image is left as it is).
template <class T, conv_geometry G>
void conv_backward_input(const T* p, const T* g, T* gi) noexcept {
  using tiles = conv_tiles<T, G>;
  constexpr std::size_t TP = tiles::pixels;
  alignas(alignment) T Gm[G.maps * TP];
  alignas(alignment) T D[G.taps() * TP];
  std::fill(gi, gi + G.input_size(), T(0));
  for (std::size_t t = 0; t < tiles::count; ++t) {
    const std::size_t p0 = tiles::first(t), n = tiles::size(t);
    conv_gather_maps<T, G, TP>(g, p0, n, Gm);
    conv_product<T, TP>(G.taps(), G.maps, p, 1, G.taps(), Gm, nullptr, D);
    conv_fold<T, G, TP>(D, p0, n, gi);
  }
}

// One sample's share of the parameters' gradient, for taps [r0, r1): grad_w[m][r] += alpha · Σ_p g[m][p]·
// P[r][p], and with `bias`, grad_b[m] += alpha · Σ_p g[m][p]. (The sums run tile by tile in order, so
// any split of the taps gives the same bits.)
template <class T, conv_geometry G>
void conv_gradient(const T* x, const T* g, T alpha, std::size_t r0, std::size_t r1, bool bias, T* target) noexcept {
  using tiles = conv_tiles<T, G>;
  constexpr std::size_t TP = tiles::pixels, W = width<T>;
  alignas(alignment) T Gm[G.maps * TP];
  alignas(alignment) T P[G.taps() * TP];
  for (std::size_t t = 0; t < tiles::count; ++t) {
    const std::size_t p0 = tiles::first(t), n = tiles::size(t);
    conv_gather_maps<T, G, TP>(g, p0, n, Gm);
    if (r1 > r0) {
      conv_unroll<T, G, TP>(x, r0, r1, p0, n, P);
      conv_dots<T, TP>(G.maps, r1 - r0, Gm, P, alpha, target + r0, G.taps());
    }
    if (bias)
      for (std::size_t m = 0; m < G.maps; ++m) {
        batch<T> acc(T(0));
        for (std::size_t c = 0; c < TP; c += W) acc += detail::load(Gm + m * TP + c);
        target[G.maps * G.taps() + m] += alpha * reduce_add(acc);
      }
  }
}

}  // namespace simd
}  // namespace nn
