// The kernels of a 2-D convolution (nn::conv2d), per sample, channels × height × width.
//
// Method (docs/design.md, "Convolutions"): the input is unrolled tile by tile into a small patch matrix
// P[r][p] (r a tap: input channel, kernel row and column; p an output pixel), and the output of every
// map is a matrix product Y[m][p] = b[m] + Σ_r w[m][r]·P[r][p] with the pixels in the SIMD lanes (with
// stride 1, P's rows are read straight from a zero-padded copy of the image, conv_pitch). Each output
// map comes out as a contiguous run of pixels, already channels × height × width. The error at the input
// is the same product with the weights transposed, folded back onto the image (col2im; with stride 1 a
// tile of whole output rows at a time onto a zero-padded copy, each tap's row of the product added as
// runs of out_w values with nothing to clip: fold_tiles). The weights'
// gradient dW[m][r] = Σ_p g[m][p]·Q[p][r] uses the patches the other way round, pixel-major (Q[p] is
// pixel p's patch), with the taps in the lanes: a rank update with no horizontal sums, which stays fast
// when an image has few pixels and many taps. Padding and stride live only in the unrolling and the
// padded copy, so one product kernel serves every geometry. The weights are rows of `taps` padded to
// 64 bytes ([map][channel][row][column] within a row, PyTorch's and ONNX's order), then the
// biases. Scratch is on the stack, nothing is allocated: in the forward pass at most 288 KB (the padded
// image and a tile of outputs; more, and the layer unrolls instead), 64 KB per tile in the others and
// 128 KB more for the gradient's patches.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
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
  static constexpr std::size_t W = layout_width<T>;  // tiles of 64 bytes, whatever the instruction set
  static constexpr std::size_t taps = G.taps(), maps = G.maps, all_pixels = G.pixels();
  static constexpr std::size_t padded_pixels = (all_pixels + W - 1) / W * W;
  // Rows of scratch: P (taps), the error's rows (maps) and a product (taps or maps).
  static constexpr std::size_t rows = taps + maps + std::max(taps, maps);
  static constexpr std::size_t budget = 65536 / sizeof(T);
  static constexpr std::size_t fit = budget / rows / W * W;
  static constexpr std::size_t pixels = std::min(padded_pixels, std::max(W, fit));
  static constexpr std::size_t count = (all_pixels + pixels - 1) / pixels;
  // A row of weights: the taps padded to 64 bytes (layout_width, the same on every instruction set).
  static constexpr std::size_t row = (taps + layout_width<T> - 1) / layout_width<T> * layout_width<T>;
  // The gradient's tiles: pixel-major patches of `row` values, at most 128 KB (float).
  static constexpr std::size_t grad_pixels = std::min(all_pixels, std::max<std::size_t>(1, 2 * budget / row));
  static constexpr std::size_t grad_count = (all_pixels + grad_pixels - 1) / grad_pixels;
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

// out[i][c·W ...] (+)= Σ_k a[i·ars + k·acs]·b[k][c·W ...] for rows i < rows, k < inner and registers
// c in [c0, c1) of rows of `cols` values (whole registers, aligned). Row k of b is b + k·cols, or with
// Gather b + b_rows[k], unaligned (the taps' rows of a padded image, conv_forward). Not Add: out =
// init[i] (0 when null) + the sum; Add: out += alpha · the sum. The convolution's one product kernel: a
// block of rows × registers in accumulators, each b register loaded once per block and each a value
// broadcast once. Every size is a run-time one (the blocks' are compile-time): three instantiations
// serve every convolution.
template <class T, bool Add, bool Gather = false>
void conv_product(std::size_t rows, std::size_t inner, const T* a, std::size_t ars, std::size_t acs, const T* b,
                  std::size_t cols, const T* init, T* out, std::size_t c0, std::size_t c1, T alpha = T(1),
                  const std::uint32_t* b_rows = nullptr) noexcept {
  constexpr std::size_t W = width<T>;
  if constexpr (runtime_paths<T>) {  // (c0 · W is a multiple of 64 bytes: the callers split rows so)
    const f32::product_args args{rows, inner, (c1 - c0) * W, a, ars, acs, b + c0 * W, cols, nullptr, out + c0 * W, cols,
                                 Add ? f32::product_finish::add : f32::product_finish::store, alpha, Add ? nullptr : init,
                                 Gather ? b_rows : nullptr};
    if constexpr (Gather) f32::gathered()(args);
    else f32::active().product(args);
    return;
  }
  constexpr std::size_t CB = 4;
  constexpr std::size_t rows_max = (detail::register_count<T> - CB - 1) / CB;
  constexpr std::size_t SB = rows_max < 8 ? rows_max : 8;
  const batch<T> av(alpha);
  detail::dynamic_blocks<SB>(rows, [&](std::size_t i0, auto sb_c) NN_INLINE {
    constexpr std::size_t sb_n = decltype(sb_c)::value;
    detail::dynamic_blocks<CB>(c1 - c0, [&](std::size_t cs, auto cb_c) NN_INLINE {
      constexpr std::size_t cb_n = decltype(cb_c)::value;
      const std::size_t cr = c0 + cs;
      batch<T> acc[sb_n][cb_n];
      NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
        const batch<T> start(!Add && init ? init[i0 + sb] : T(0));
        NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { acc[sb][cb] = start; }
      }
      const T* ar = a + i0 * ars;
      const T* br = b + cr * W;
      for (std::size_t k = 0; k < inner; ++k, ar += acs, br += cols) {
        batch<T> bv[cb_n];
        if constexpr (Gather) {
          const T* row = b + b_rows[k] + cr * W;
          NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { bv[cb] = batch<T>::load_unaligned(row + cb * W); }
        } else {
          NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { bv[cb] = detail::load(br + cb * W); }
        }
        NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
          const batch<T> x(ar[sb * ars]);
          NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) { acc[sb][cb] = simd::fma(x, bv[cb], acc[sb][cb]); }
        }
      }
      NN_UNROLL for (std::size_t sb = 0; sb < sb_n; ++sb) {
        NN_UNROLL for (std::size_t cb = 0; cb < cb_n; ++cb) {
          T* o = out + (i0 + sb) * cols + (cr + cb) * W;
          if constexpr (Add) detail::store(o, simd::fma(av, acc[sb][cb], detail::load(o)));
          else detail::store(o, acc[sb][cb]);
        }
      }
    });
  });
}

// Q[p - p0][r] = the input value tap r reads for pixel p (0 in the padding), for pixels [p0, p0 + n):
// each pixel's patch in a row of Row values (0 after the taps).
template <class T, conv_geometry G, std::size_t Row>
void conv_patches(const T* x, std::size_t p0, std::size_t n, T* Q) noexcept {
  for (std::size_t q = 0; q < n; ++q) {
    const std::size_t oy = (p0 + q) / G.out_w, ox = (p0 + q) % G.out_w;
    T* out = Q + q * Row;
    const std::ptrdiff_t y0 = static_cast<std::ptrdiff_t>(oy * G.stride) - static_cast<std::ptrdiff_t>(G.pad_top);
    const std::ptrdiff_t x0 = static_cast<std::ptrdiff_t>(ox * G.stride) - static_cast<std::ptrdiff_t>(G.pad_left);
    // The kernel columns that land inside the image.
    const std::size_t lo = x0 < 0 ? static_cast<std::size_t>(-x0) : 0;
    const std::ptrdiff_t right = static_cast<std::ptrdiff_t>(G.width) - x0;
    const std::size_t hi = right <= 0 ? 0 : std::min<std::size_t>(G.kernel_w, static_cast<std::size_t>(right));
    if (y0 >= 0 && static_cast<std::size_t>(y0) + G.kernel_h <= G.height && lo == 0 && hi == G.kernel_w) {
      // Inside the image (most pixels): rows of kernel_w values, copied value by value at a compile-time
      // length (std::copy_n of 3 or 5 floats became a call to memcpy: 10 % of the kernels' time).
      const T* src = x + static_cast<std::size_t>(y0) * G.width + static_cast<std::size_t>(x0);
      for (std::size_t c = 0; c < G.channels; ++c)
        for (std::size_t ky = 0; ky < G.kernel_h; ++ky, out += G.kernel_w) {
          const T* row = src + (c * G.height + ky) * G.width;
          NN_UNROLL for (std::size_t kx = 0; kx < G.kernel_w; ++kx) out[kx] = row[kx];
        }
      std::fill(Q + q * Row + G.taps(), Q + (q + 1) * Row, T(0));
      continue;
    }
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t ky = 0; ky < G.kernel_h; ++ky, out += G.kernel_w) {
        const std::ptrdiff_t iy = y0 + static_cast<std::ptrdiff_t>(ky);
        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(G.height) || lo >= hi) {
          std::fill(out, out + G.kernel_w, T(0));
          continue;
        }
        const T* src = x + (c * G.height + static_cast<std::size_t>(iy)) * G.width;
        for (std::size_t kx = 0; kx < lo; ++kx) out[kx] = T(0);
        for (std::size_t kx = lo; kx < hi; ++kx) out[kx] = src[static_cast<std::size_t>(x0 + static_cast<std::ptrdiff_t>(kx))];
        for (std::size_t kx = hi; kx < G.kernel_w; ++kx) out[kx] = T(0);
      }
    std::fill(Q + q * Row + G.taps(), Q + (q + 1) * Row, T(0));
  }
}

// Rows [0, maps) of TP values from a sample's maps (each `pixels` long), pixels [p0, p0 + n); 0 after n.
template <class T, conv_geometry G, std::size_t TP>
void conv_gather_maps(const T* g, std::size_t p0, std::size_t n, T* out) noexcept {
  for (std::size_t m = 0; m < G.maps; ++m) {
    std::copy(g + m * G.pixels() + p0, g + m * G.pixels() + p0 + n, out + m * TP);
    std::fill(out + m * TP + n, out + (m + 1) * TP, T(0));
  }
}

// Stride 1 (the book's convolutions and nn's recipes), when the scratch fits the stack: the output is
// computed on rows as long as the padded input's (the pitch wp = out_w + kernel_w − 1), so that tap r of
// pixel q reads xp[offset(r) + q] of the zero-padded image xp: the product reads each tap's row straight
// from xp, with nothing unrolled. The kernel_w − 1 extra pixels of each row are computed and dropped.
template <class T, conv_geometry G>
struct conv_pitch {
  static constexpr std::size_t W = layout_width<T>;  // tiles of 64 bytes, whatever the instruction set
  static constexpr std::size_t hp = G.out_h + G.kernel_h - 1, wp = G.out_w + G.kernel_w - 1;
  static constexpr std::size_t pixels = (G.out_h - 1) * wp + G.out_w;  // up to the last real pixel
  // A tile of whole registers: the whole image, or as many as keep its maps × tile outputs within 32 KB.
  static constexpr std::size_t tile =
      std::min((pixels + W - 1) / W * W, std::max(W, 32768 / sizeof(T) / G.maps / W * W));
  static constexpr std::size_t count = (pixels + tile - 1) / tile;
  // The padded image, then zeros for what the last tile reads past it.
  static constexpr std::size_t size =
      (G.channels - 1) * hp * wp + (G.kernel_h - 1) * wp + G.kernel_w - 1 + count * tile;
  // The padded copy and the tile's outputs live on the stack: larger images (more than 288 KB of both,
  // e.g. 64 channels of 64 × 64) take the unrolling path.
  static constexpr std::size_t scratch_bytes = (size + G.maps * tile) * sizeof(T);
  static constexpr std::size_t stack_limit = 288 * 1024;
  static constexpr std::array<std::uint32_t, G.taps()> offsets = [] {
    std::array<std::uint32_t, G.taps()> o{};
    for (std::size_t r = 0; r < G.taps(); ++r) {
      const std::size_t c = r / (G.kernel_h * G.kernel_w), ky = r / G.kernel_w % G.kernel_h, kx = r % G.kernel_w;
      o[r] = static_cast<std::uint32_t>((c * hp + ky) * wp + kx);
    }
    return o;
  }();
};

// One sample's output before the activation: y = b + w ∗ x (w: maps rows of conv_tiles::row, then b).
template <class T, conv_geometry G>
void conv_forward(const T* p, const T* x, T* y) noexcept {
  constexpr std::size_t row = conv_tiles<T, G>::row;
  if constexpr (G.stride == 1 && conv_pitch<T, G>::scratch_bytes <= conv_pitch<T, G>::stack_limit) {
    using pt = conv_pitch<T, G>;
    alignas(alignment) T xp[pt::size];
    alignas(alignment) T out[G.maps * pt::tile];
    std::fill(xp, xp + pt::size, T(0));
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t iy = 0; iy < G.height; ++iy)
        std::copy_n(x + (c * G.height + iy) * G.width, G.width,
                    xp + (c * pt::hp + iy + G.pad_top) * pt::wp + G.pad_left);
    for (std::size_t t = 0; t < pt::count; ++t) {
      const std::size_t q0 = t * pt::tile, q1 = std::min(q0 + pt::tile, pt::pixels);
      // Only the registers that hold pixels up to q1 (the last tile is usually short).
      conv_product<T, false, true>(G.maps, G.taps(), p, row, 1, xp + q0, pt::tile, p + G.maps * row, out, 0,
                                   (q1 - q0 + width<T> - 1) / width<T>, T(1), pt::offsets.data());
      // The real pixels of the output rows in this tile.
      for (std::size_t oy = q0 / pt::wp; oy < G.out_h && oy * pt::wp < q1; ++oy) {
        const std::size_t from = std::max(q0, oy * pt::wp), to = std::min(q1, oy * pt::wp + G.out_w);
        if (from >= to) continue;
        for (std::size_t m = 0; m < G.maps; ++m)
          std::copy(out + m * pt::tile + (from - q0), out + m * pt::tile + (to - q0),
                    y + m * G.pixels() + oy * G.out_w + (from - oy * pt::wp));
      }
    }
  } else {  // strided, or an image too large for the stack: the taps unrolled tile by tile
    using tiles = conv_tiles<T, G>;
    constexpr std::size_t TP = tiles::pixels;
    alignas(alignment) T P[G.taps() * TP];
    alignas(alignment) T out[G.maps * TP];
    for (std::size_t t = 0; t < tiles::count; ++t) {
      const std::size_t p0 = tiles::first(t), n = tiles::size(t);
      conv_unroll<T, G, TP>(x, 0, G.taps(), p0, n, P);
      conv_product<T, false>(G.maps, G.taps(), p, row, 1, P, TP, p + G.maps * row, out, 0, TP / width<T>);
      for (std::size_t m = 0; m < G.maps; ++m) std::copy(out + m * TP, out + m * TP + n, y + m * G.pixels() + p0);
    }
  }
}

// The error at the input of a stride-1 convolution, the product-and-fold way: D = Wᵀ·G over tiles of whole
// output rows (at most 1,024 pixels; the taps in chunks of at most 64 KB of D), each row of D added onto a
// zero-padded copy of the image (conv_pitch's layout) at its tap's offset, a run of out_w values at a
// compile-time length with nothing to clip; the copy's interior is the error.
template <class T, conv_geometry G>
struct fold_tiles {
  static constexpr std::size_t W = layout_width<T>;
  static constexpr std::size_t rows = std::max<std::size_t>(1, std::min(G.out_h, 1024 / G.out_w));  // output rows per tile
  static constexpr std::size_t count = (G.out_h + rows - 1) / rows;
  static constexpr std::size_t lanes = (rows * G.out_w + W - 1) / W * W;
  static constexpr std::size_t chunk = std::min(G.taps(), std::max<std::size_t>(8, 65536 / sizeof(T) / lanes));
  static constexpr std::size_t scratch_bytes = (conv_pitch<T, G>::hp * conv_pitch<T, G>::wp * G.channels +
                                                (G.maps + chunk) * lanes) * sizeof(T);
  static constexpr bool fits = G.stride == 1 && scratch_bytes <= conv_pitch<T, G>::stack_limit;
};

// One sample's error at the input, from the error at the output before the activation (g): gi = wᵀ ∗ g.
// gi is overwritten (its padding past the image is left as it is).
template <class T, conv_geometry G>
void conv_backward_input(const T* p, const T* g, T* gi) noexcept {
  using tiles = conv_tiles<T, G>;
  if constexpr (fold_tiles<T, G>::fits) {
    using ft = fold_tiles<T, G>;
    using pt = conv_pitch<T, G>;
    constexpr std::size_t K2 = G.kernel_h * G.kernel_w, ow = G.out_w;
    alignas(alignment) T gp[pt::hp * pt::wp * G.channels];
    alignas(alignment) T Gm[G.maps * ft::lanes];
    alignas(alignment) T D[ft::chunk * ft::lanes];
    std::fill(gp, gp + pt::hp * pt::wp * G.channels, T(0));
    for (std::size_t t = 0; t < ft::count; ++t) {
      const std::size_t oy0 = t * ft::rows, rows = std::min(ft::rows, G.out_h - oy0), n = rows * ow;
      conv_gather_maps<T, G, ft::lanes>(g, oy0 * ow, n, Gm);
      const std::size_t registers = (n + width<T> - 1) / width<T>;
      for (std::size_t r0 = 0; r0 < G.taps(); r0 += ft::chunk) {
        const std::size_t r1 = std::min(G.taps(), r0 + ft::chunk);
        conv_product<T, false>(r1 - r0, G.maps, p + r0, 1, tiles::row, Gm, ft::lanes, nullptr, D, 0, registers);
        for (std::size_t r = r0; r < r1; ++r) {
          const std::size_t c = r / K2, ky = r % K2 / G.kernel_w, kx = r % G.kernel_w;
          T* dst = gp + (c * pt::hp + oy0 + ky) * pt::wp + kx;
          const T* src = D + (r - r0) * ft::lanes;
          for (std::size_t y = 0; y < rows; ++y, dst += pt::wp, src += ow)
            NN_UNROLL for (std::size_t x = 0; x < ow; ++x) dst[x] += src[x];
        }
      }
    }
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t iy = 0; iy < G.height; ++iy)
        std::copy_n(gp + (c * pt::hp + iy + G.pad_top) * pt::wp + G.pad_left, G.width, gi + (c * G.height + iy) * G.width);
  } else {  // strided, or too large for the stack: the product with Wᵀ per tile, folded onto the image
    constexpr std::size_t TP = tiles::pixels;
    alignas(alignment) T Gm[G.maps * TP];
    alignas(alignment) T D[G.taps() * TP];
    std::fill(gi, gi + G.input_size(), T(0));
    for (std::size_t t = 0; t < tiles::count; ++t) {
      const std::size_t p0 = tiles::first(t), n = tiles::size(t);
      conv_gather_maps<T, G, TP>(g, p0, n, Gm);
      conv_product<T, false>(G.taps(), G.maps, p, 1, tiles::row, Gm, TP, nullptr, D, 0, TP / width<T>);
      conv_fold<T, G, TP>(D, p0, n, gi);
    }
  }
}

// One sample's share of the parameters' gradient, for the 64-byte units [u0, u1) of every map's row of
// weights (values [u0, u1) · layout_width<T>: units, not registers, so that kernels for any instruction
// set stay within a thread's part): grad_w[m][r] += alpha · Σ_p g[m][p]·Q[p][r], and with `bias`,
// grad_b[m] += alpha · Σ_p g[m][p]. (The sums run tile by tile in order, so any split gives the same bits.)
template <class T, conv_geometry G>
void conv_gradient(const T* x, const T* g, T alpha, std::size_t u0, std::size_t u1, bool bias, T* target) noexcept {
  using tiles = conv_tiles<T, G>;
  constexpr std::size_t Row = tiles::row, TQ = tiles::grad_pixels;
  const std::size_t c0 = u0 * (layout_width<T> / width<T>), c1 = u1 * (layout_width<T> / width<T>);
  alignas(alignment) T Q[TQ * Row];
  for (std::size_t t = 0; t < tiles::grad_count; ++t) {
    const std::size_t p0 = t * TQ, n = std::min(TQ, G.pixels() - p0);
    if (c1 > c0) {
      conv_patches<T, G, Row>(x, p0, n, Q);
      conv_product<T, true>(G.maps, n, g + p0, G.pixels(), 1, Q, Row, nullptr, target, c0, c1, alpha);
    }
  }
  if (bias)
    for (std::size_t m = 0; m < G.maps; ++m) {
      constexpr std::size_t W = width<T>, whole = G.pixels() / W * W;
      const T* gm = g + m * G.pixels();
      batch<T> acc(T(0));
      for (std::size_t p = 0; p < whole; p += W) acc += batch<T>::load_unaligned(gm + p);
      T sum = reduce_add(acc);
      for (std::size_t p = whole; p < G.pixels(); ++p) sum += gm[p];
      target[G.maps * Row + m] += alpha * sum;
    }
}

}  // namespace simd
}  // namespace nn
