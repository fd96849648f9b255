// The kernels of the convolutional layers (nn/simd/conv.hpp, nn::max_pool, nn::avg_pool) against plain
// scalar twins written from the definitions, at odd sizes, strides and paddings, and their shapes.
// (conv_test.cpp: gradients of whole networks, learning, files.)
#include <nn/network.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

// The scalar twins: the definitions, with double sums.
namespace twin {

double at(const nn::conv_geometry& g, const std::vector<double>& x, std::size_t c, std::size_t oy, std::size_t ky,
          std::size_t ox, std::size_t kx) {
  const long iy = static_cast<long>(oy * g.stride + ky) - static_cast<long>(g.pad_top);
  const long ix = static_cast<long>(ox * g.stride + kx) - static_cast<long>(g.pad_left);
  if (iy < 0 || ix < 0 || iy >= static_cast<long>(g.height) || ix >= static_cast<long>(g.width)) return 0;
  return x[(c * g.height + static_cast<std::size_t>(iy)) * g.width + static_cast<std::size_t>(ix)];
}

// y[m][oy][ox] = b[m] + Σ_c,ky,kx w[m][c][ky][kx] · x[c][oy·S + ky − top][ox·S + kx − left]
std::vector<double> forward(const nn::conv_geometry& g, const std::vector<double>& w, const std::vector<double>& x) {
  std::vector<double> y(g.output_size());
  for (std::size_t m = 0; m < g.maps; ++m)
    for (std::size_t oy = 0; oy < g.out_h; ++oy)
      for (std::size_t ox = 0; ox < g.out_w; ++ox) {
        double s = w[g.maps * g.taps() + m];
        for (std::size_t c = 0; c < g.channels; ++c)
          for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < g.kernel_w; ++kx)
              s += w[((m * g.channels + c) * g.kernel_h + ky) * g.kernel_w + kx] * at(g, x, c, oy, ky, ox, kx);
        y[(m * g.out_h + oy) * g.out_w + ox] = s;
      }
  return y;
}

// gi[c][iy][ix] = Σ over the outputs that read it of w · g
std::vector<double> backward_input(const nn::conv_geometry& g, const std::vector<double>& w, const std::vector<double>& e) {
  std::vector<double> gi(g.input_size());
  for (std::size_t m = 0; m < g.maps; ++m)
    for (std::size_t oy = 0; oy < g.out_h; ++oy)
      for (std::size_t ox = 0; ox < g.out_w; ++ox)
        for (std::size_t c = 0; c < g.channels; ++c)
          for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
              const long iy = static_cast<long>(oy * g.stride + ky) - static_cast<long>(g.pad_top);
              const long ix = static_cast<long>(ox * g.stride + kx) - static_cast<long>(g.pad_left);
              if (iy < 0 || ix < 0 || iy >= static_cast<long>(g.height) || ix >= static_cast<long>(g.width)) continue;
              gi[(c * g.height + static_cast<std::size_t>(iy)) * g.width + static_cast<std::size_t>(ix)] +=
                  w[((m * g.channels + c) * g.kernel_h + ky) * g.kernel_w + kx] * e[(m * g.out_h + oy) * g.out_w + ox];
            }
  return gi;
}

// dw[m][c][ky][kx] = Σ_oy,ox g[m][oy][ox] · x[...], db[m] = Σ g[m]
std::vector<double> gradient(const nn::conv_geometry& g, const std::vector<double>& x, const std::vector<double>& e) {
  std::vector<double> d(g.maps * g.taps() + g.maps);
  for (std::size_t m = 0; m < g.maps; ++m)
    for (std::size_t oy = 0; oy < g.out_h; ++oy)
      for (std::size_t ox = 0; ox < g.out_w; ++ox) {
        const double eg = e[(m * g.out_h + oy) * g.out_w + ox];
        d[g.maps * g.taps() + m] += eg;
        for (std::size_t c = 0; c < g.channels; ++c)
          for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < g.kernel_w; ++kx)
              d[((m * g.channels + c) * g.kernel_h + ky) * g.kernel_w + kx] += eg * at(g, x, c, oy, ky, ox, kx);
      }
  return d;
}

}  // namespace twin

std::vector<double> random_values(std::size_t n, nn::rng& r) {
  std::vector<double> v(n);
  for (auto& x : v) x = 2 * r.uniform() - 1;
  return v;
}

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

// The largest difference from the twin, relative to the largest magnitude of the twin's values.
template <class T>
double relative_error(const T* got, const std::vector<double>& want) {
  double diff = 0, scale = 1e-30;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return diff / scale;
}

// The forward pass through the unrolled patch matrix, as strided layers compute it: with stride 1,
// conv_forward reads the padded image instead, and must give exactly these bits (the same sums in the
// same order).
template <class T, nn::conv_geometry G>
std::vector<T> unrolled_forward(const T* w, const T* x) {
  using tiles = nn::simd::conv_tiles<T, G>;
  constexpr std::size_t TP = tiles::pixels;
  nn::aligned_vector<T> P(G.taps() * TP), out(G.maps * TP);
  std::vector<T> y(G.output_size());
  for (std::size_t t = 0; t < tiles::count; ++t) {
    const std::size_t p0 = tiles::first(t), n = tiles::size(t);
    nn::simd::conv_unroll<T, G, TP>(x, 0, G.taps(), p0, n, P.data());
    nn::simd::conv_product<T, false>(G.maps, G.taps(), w, tiles::row, 1, P.data(), TP, w + G.maps * tiles::row,
                                     out.data(), 0, TP / nn::simd::width<T>);
    for (std::size_t m = 0; m < G.maps; ++m)
      std::copy(out.data() + m * TP, out.data() + m * TP + n, y.data() + m * G.pixels() + p0);
  }
  return y;
}

// Every kernel of one geometry against the twins, for float and double; the gradient split into 1, 2 and
// 3 parts of the taps gives the same bits.
template <class T, nn::conv_geometry G>
void check_kernels() {
  CAPTURE(G.channels, G.height, G.width, G.maps, G.kernel_h, G.kernel_w, G.stride, G.pad_top, G.pad_left, sizeof(T));
  const double tolerance = sizeof(T) == 4 ? 2e-5 : 1e-12;
  nn::rng r(G.taps() + G.pixels());
  const auto w = random_values(G.maps * G.taps() + G.maps, r), x = random_values(G.input_size(), r),
             e = random_values(G.output_size(), r);
  // The kernels' layout: a row of `row` values per map (the taps, then zeros), then the biases.
  constexpr std::size_t row = nn::simd::conv_tiles<T, G>::row;
  std::vector<T> wt(G.maps * row + G.maps, T(0));
  for (std::size_t m = 0; m < G.maps; ++m) {
    for (std::size_t i = 0; i < G.taps(); ++i) wt[m * row + i] = static_cast<T>(w[m * G.taps() + i]);
    wt[G.maps * row + m] = static_cast<T>(w[G.maps * G.taps() + m]);
  }
  const auto xt = as<T>(x), et = as<T>(e);
  std::vector<T> y(G.output_size() + 64, T(7));  // past the output: must stay as it was
  nn::simd::conv_forward<T, G>(wt.data(), xt.data(), y.data());
  REQUIRE(relative_error(y.data(), twin::forward(G, w, x)) < tolerance);
  REQUIRE(y[G.output_size()] == T(7));
  const auto unrolled = unrolled_forward<T, G>(wt.data(), xt.data());
  REQUIRE(std::equal(unrolled.begin(), unrolled.end(), y.begin()));

  std::vector<T> gi(G.input_size() + 64, T(7));
  nn::simd::conv_backward_input<T, G>(wt.data(), et.data(), gi.data());
  REQUIRE(relative_error(gi.data(), twin::backward_input(G, w, e)) < tolerance);
  REQUIRE(gi[G.input_size()] == T(7));

  const auto want = twin::gradient(G, x, e);
  nn::aligned_vector<T> first;
  constexpr std::size_t units = row / nn::simd::layout_width<T>;  // conv_gradient splits rows in 64-byte units
  for (const std::size_t parts : {1, 2, 3}) {
    nn::aligned_vector<T> d(wt.size(), T(0));
    for (std::size_t part = 0; part < parts; ++part)
      nn::simd::conv_gradient<T, G>(xt.data(), et.data(), T(1), units * part / parts, units * (part + 1) / parts,
                                    part == 0, d.data());
    std::vector<double> got(want.size());
    for (std::size_t m = 0; m < G.maps; ++m) {
      for (std::size_t i = 0; i < G.taps(); ++i) got[m * G.taps() + i] = static_cast<double>(d[m * row + i]);
      for (std::size_t i = G.taps(); i < row; ++i) REQUIRE(d[m * row + i] == T(0));  // the padding
      got[G.maps * G.taps() + m] = static_cast<double>(d[G.maps * row + m]);
    }
    REQUIRE(relative_error(got.data(), want) < tolerance);
    if (first.empty()) first = d;
    REQUIRE(d == first);
  }
}

template <nn::conv_geometry G>
void check_both() {
  check_kernels<float, G>();
  check_kernels<double, G>();
}
template <nn::conv_geometry G>
void check_float() {
  check_kernels<float, G>();
}

}  // namespace

TEST_CASE("conv2d kernels equal their scalar twins at odd sizes, strides and paddings", "[conv]") {
  using nn::make_conv_geometry;
  using P = nn::padding;
  // float everywhere; double (twice the tile's pixels per byte, half the lanes) where it differs most.
  check_both<make_conv_geometry(1, 28, 28, 20, 5, 5, 1, P::valid)>();    // the book's first network
  check_both<make_conv_geometry(20, 12, 12, 40, 5, 5, 1, P::valid)>();   // its second layer: many taps, small tiles
  check_both<make_conv_geometry(3, 27, 27, 7, 3, 3, 2, P::same)>();
  check_float<make_conv_geometry(3, 28, 28, 4, 5, 5, 2, P::same)>();
  check_float<make_conv_geometry(3, 27, 27, 5, 1, 1, 1, P::valid)>();
  check_both<make_conv_geometry(20, 28, 28, 3, 3, 3, 1, P::same)>();     // several tiles
  check_float<make_conv_geometry(20, 27, 27, 2, 1, 1, 2, P::same)>();
  check_float<make_conv_geometry(2, 9, 11, 3, 4, 2, 2, P::valid)>();     // a kernel of even, unequal sides
  check_float<make_conv_geometry(2, 9, 11, 3, 4, 2, 1, P::same)>();
  check_float<make_conv_geometry(1, 5, 5, 2, 5, 5, 1, P::same)>();       // mostly padding
  check_float<make_conv_geometry(1, 5, 5, 2, 5, 5, 3, P::valid)>();      // one output pixel
  // 100 maps: tiles of 80 (AVX-512) or 80-odd pixels, some starting in a row's dropped pixels.
  check_float<make_conv_geometry(1, 28, 28, 100, 5, 5, 1, P::valid)>();
  // The default recipe's second convolution: stride 1, read from the padded image in two tiles.
  check_float<make_conv_geometry(32, 14, 14, 64, 3, 3, 1, P::same)>();
  // The error at the input over tiles of whole output rows: two tiles (22 rows of 45, then 15), and
  // (the book's second layer) the taps in several chunks.
  constexpr auto rows = make_conv_geometry(2, 37, 45, 3, 4, 3, 1, P::same);
  STATIC_REQUIRE(nn::simd::fold_tiles<float, rows>::count == 2);
  STATIC_REQUIRE(nn::simd::fold_tiles<double, rows>::count == 2);
  check_both<rows>();
  constexpr auto ch6b = make_conv_geometry(20, 12, 12, 40, 5, 5, 1, P::valid);
  STATIC_REQUIRE(nn::simd::fold_tiles<float, ch6b>::chunk < ch6b.taps());
  STATIC_REQUIRE(nn::simd::fold_tiles<double, ch6b>::chunk < ch6b.taps());
  // Stride 1 on an image whose padded copy would not fit the stack: the unrolling path, and the error at
  // the input the strided layers' way (folded tile by tile).
  constexpr auto big = make_conv_geometry(3, 160, 160, 2, 3, 3, 1, P::same);
  STATIC_REQUIRE(nn::simd::conv_pitch<float, big>::scratch_bytes > nn::simd::conv_pitch<float, big>::stack_limit);
  STATIC_REQUIRE(!nn::simd::fold_tiles<float, big>::fits);
  STATIC_REQUIRE(nn::simd::conv_pitch<float, make_conv_geometry(32, 14, 14, 64, 3, 3, 1, P::same)>::count == 2);
  check_float<big>();
}

TEST_CASE("conv2d: output sizes and padding follow PyTorch and ONNX", "[conv]") {
  using nn::make_conv_geometry;
  using P = nn::padding;
  constexpr auto a = make_conv_geometry(1, 28, 28, 20, 5, 5, 1, P::valid);
  STATIC_REQUIRE(a.out_h == 24 && a.out_w == 24 && a.pad_top == 0);
  constexpr auto b = make_conv_geometry(3, 27, 27, 7, 3, 3, 2, P::same);  // ceil(27 / 2) = 14, pads 1 and 1
  STATIC_REQUIRE(b.out_h == 14 && b.pad_top == 1 && b.pad_left == 1);
  constexpr auto c = make_conv_geometry(3, 28, 28, 4, 5, 5, 2, P::same);  // 14; total 3: 1 before, 2 after
  STATIC_REQUIRE(c.out_h == 14 && c.pad_top == 1);
  constexpr auto d = make_conv_geometry(2, 9, 11, 3, 4, 2, 1, P::same);   // total 3 and 1: 1 and 0 before
  STATIC_REQUIRE(d.out_h == 9 && d.out_w == 11 && d.pad_top == 1 && d.pad_left == 0);
  constexpr auto e = make_conv_geometry(2, 9, 11, 3, 4, 2, 2, P::valid);
  STATIC_REQUIRE(e.out_h == 3 && e.out_w == 5);
  using net = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                             nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;
  STATIC_REQUIRE(std::is_same_v<net::layer_type<0>::output_shape, nn::shape<20, 24, 24>>);
  STATIC_REQUIRE(std::is_same_v<net::layer_type<1>::output_shape, nn::shape<20, 12, 12>>);
  STATIC_REQUIRE(std::is_same_v<net::layer_type<2>::output_shape, nn::shape<2880>>);
  STATIC_REQUIRE(net::parameter_count == 20 * 26 + 2880 * 100 + 100 + 1010);
  REQUIRE(net::name() == "nn::sequential<input<1x28x28>, conv2d<20, 5x5, sigmoid>, max_pool<2>, flatten, "
                         "dense<100, sigmoid>, dense<10, softmax>>");
  using odd = nn::sequential<nn::input<3, 27, 27>, nn::avg_pool<2>, nn::conv2d<4, 3, 3, nn::relu, 2, P::same>>;
  STATIC_REQUIRE(std::is_same_v<odd::layer_type<0>::output_shape, nn::shape<3, 13, 13>>);
  STATIC_REQUIRE(std::is_same_v<odd::layer_type<1>::output_shape, nn::shape<4, 7, 7>>);
  REQUIRE(odd::name() == "nn::sequential<input<3x27x27>, avg_pool<2>, conv2d<4, 3x3, relu, stride 2, same>>");
}

TEST_CASE("pooling: forward and backward against the definition, odd sizes left out as PyTorch does", "[conv]") {
  using In = nn::shape<3, 7, 9>;
  using maxb = nn::max_pool<2>::bind<float, In>;
  using avgb = nn::avg_pool<3>::bind<float, In>;
  STATIC_REQUIRE(std::is_same_v<maxb::output_shape, nn::shape<3, 3, 4>>);
  STATIC_REQUIRE(std::is_same_v<avgb::output_shape, nn::shape<3, 2, 3>>);
  nn::rng r(5);
  const std::size_t rows = 3;
  nn::matrix<float, nn::dynamic, In::size> x(rows), gi(rows), gi2(rows);
  for (std::size_t s = 0; s < rows; ++s)
    for (std::size_t i = 0; i < In::size; ++i) x(s, i) = static_cast<float>(r.uniform());
  nn::matrix<float, nn::dynamic, maxb::output_shape::size> y(rows), k(rows), g(rows);
  nn::matrix<float, nn::dynamic, avgb::output_shape::size> ya(rows), ga(rows);
  for (std::size_t s = 0; s < rows; ++s) {
    for (std::size_t o = 0; o < maxb::output_shape::size; ++o) g(s, o) = static_cast<float>(o + 1);
    for (std::size_t o = 0; o < avgb::output_shape::size; ++o) ga(s, o) = static_cast<float>(o + 1);
  }
  maxb::forward_train(nullptr, x, y, nn::kept_rows<float, maxb::kept_shape>(k.data(), rows, 0, rows), {});
  maxb::backward(nullptr, y, nn::kept_rows<float, maxb::kept_shape>(k.data(), rows, 0, rows), {}, g, nn::error_at::output,
                 nn::rows_of<float, In>(gi));
  avgb::forward(nullptr, x, ya);
  avgb::backward(nullptr, ya, nn::kept_rows<float, avgb::kept_shape>(nullptr, rows, 0, rows), {}, ga, nn::error_at::output,
                 nn::rows_of<float, In>(gi2));
  for (std::size_t s = 0; s < rows; ++s)
    for (std::size_t c = 0; c < 3; ++c) {
      const auto px = [&](std::size_t yy, std::size_t xx) { return x(s, (c * 7 + yy) * 9 + xx); };
      for (std::size_t oy = 0; oy < 3; ++oy)
        for (std::size_t ox = 0; ox < 4; ++ox) {
          float best = -1;
          std::size_t by = 0, bx = 0;
          for (std::size_t dy = 0; dy < 2; ++dy)
            for (std::size_t dx = 0; dx < 2; ++dx)
              if (px(2 * oy + dy, 2 * ox + dx) > best) {
                best = px(2 * oy + dy, 2 * ox + dx);
                by = 2 * oy + dy;
                bx = 2 * ox + dx;
              }
          const std::size_t o = (c * 3 + oy) * 4 + ox;
          REQUIRE(y(s, o) == best);
          REQUIRE(gi(s, (c * 7 + by) * 9 + bx) == g(s, o));
        }
      for (std::size_t oy = 0; oy < 2; ++oy)
        for (std::size_t ox = 0; ox < 3; ++ox) {
          double sum = 0;
          for (std::size_t dy = 0; dy < 3; ++dy)
            for (std::size_t dx = 0; dx < 3; ++dx) {
              sum += px(3 * oy + dy, 3 * ox + dx);
              REQUIRE(gi2(s, (c * 7 + 3 * oy + dy) * 9 + 3 * ox + dx) == Approx(ga(s, (c * 2 + oy) * 3 + ox) / 9.0));
            }
          REQUIRE(ya(s, (c * 2 + oy) * 3 + ox) == Approx(sum / 9).epsilon(1e-6));
        }
      // The row and column no window covers get no error.
      for (std::size_t xx = 0; xx < 9; ++xx) REQUIRE(gi(s, (c * 7 + 6) * 9 + xx) == 0.0f);
      for (std::size_t yy = 0; yy < 7; ++yy) REQUIRE(gi(s, (c * 7 + yy) * 9 + 8) == 0.0f);
    }
}

