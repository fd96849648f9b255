// Expanded image data (the book's chapter 6): every image of a data source, then copies of it moved by up to
// k pixels and optionally turned by a small angle, made when the trainer asks for them, so that five times
// the data costs no copy of it.
//
//   const auto train = nn::load_idx_bytes(...);                       // 60,000 images of 1 x 28 x 28
//   const nn::expanded_images more(train, {1, 28, 28}, {.copies = 5, .max_shift = 1, .seed = 7});
//   trainer.fit(net, more, test);                                     // 300,000 samples an epoch
//
// Sample i is copy i / n of image i % n (n = the source's size): copy 0 is the image itself, bit for bit;
// copy c > 0 is mirrored left to right with probability 1/2 if `mirror` is set, shifted by (dx, dy) with
// |dx|, |dy| <= max_shift, never (0, 0) unless it is also turned, and turned about the image's centre by an angle
// in [-max_degrees, max_degrees] (bilinear interpolation; what comes from outside the image is 0). The shift and angle of each sample depend only on the seed and i, so
// every epoch sees the same expanded set, and a run is reproduced by its seed. The source is kept by
// pointer: it must outlive this.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "nn/data/dataset.hpp"
#include "nn/random.hpp"

namespace nn {

// Channels x height x width of the images in a data source (row after row, channel after channel).
struct image_dims {
  std::size_t channels = 1, height = 0, width = 0;
};

struct expand_options {
  std::size_t copies = 5;      // each image and copies - 1 moved copies of it: size() is copies x the source's
  std::size_t max_shift = 1;   // |dx| and |dy| at most this many pixels
  double max_degrees = 0;      // turned by at most this angle either way (0: shifts only)
  bool mirror = false;         // and each copy mirrored left to right with probability 1/2 (clothes, not digits)
  std::uint64_t seed = 0;      // chooses every copy's shift and angle
};

// How copy `copy` of an image is made from it: shifted right by dx and down by dy, turned by `degrees`.
struct image_transform {
  int dx = 0, dy = 0;
  double degrees = 0;
  bool mirrored = false;  // mirrored left to right first
};

template <class Source>
class expanded_images {
 public:
  static constexpr std::size_t static_inputs = detail::static_inputs<Source>();
  static constexpr std::size_t static_outputs = detail::static_outputs<Source>();

  expanded_images(const Source& source, image_dims dims, expand_options options = {})
      : source_(&source), dims_(dims), o_(options), n_(source.size()) {
    const std::size_t values = dims.channels * dims.height * dims.width;
    if (values == 0 || values != source.input_size())
      throw std::invalid_argument("nn::expanded_images: images of " + std::to_string(dims.channels) + " x " +
                                  std::to_string(dims.height) + " x " + std::to_string(dims.width) +
                                  " values, but the data's inputs have " + std::to_string(source.input_size()));
    if (o_.copies == 0) throw std::invalid_argument("nn::expanded_images: copies must be at least 1 (the images themselves)");
    if (o_.copies > 1 && o_.max_shift == 0 && !(o_.max_degrees > 0) && !o_.mirror)
      throw std::invalid_argument("nn::expanded_images: with max_shift 0, no angle and no mirror every copy would be the image itself");
    if (o_.max_shift >= dims.height && o_.max_shift >= dims.width)
      throw std::invalid_argument("nn::expanded_images: a shift of " + std::to_string(o_.max_shift) +
                                  " pixels moves the whole image out of its frame");
    if (!(o_.max_degrees >= 0 && o_.max_degrees <= 180))
      throw std::invalid_argument("nn::expanded_images: max_degrees must be in [0, 180]");
    if (n_ != 0 && o_.copies > static_cast<std::size_t>(-1) / n_)
      throw std::invalid_argument("nn::expanded_images: copies x images does not fit a std::size_t");
  }
  expanded_images(const Source&&, image_dims, expand_options = {}) = delete;  // it keeps a pointer to the source

  std::size_t size() const noexcept { return n_ * o_.copies; }
  std::size_t input_size() const noexcept { return source_->input_size(); }
  std::size_t output_size() const noexcept { return source_->output_size(); }
  decltype(auto) target(std::size_t i) const { return source_->target(check(i) % n_); }
  std::size_t label(std::size_t i) const
    requires requires(const Source& s) { s.label(std::size_t{}); }
  {
    return source_->label(check(i) % n_);
  }
  // A source that scores its own samples (nn::is_correct) scores its copies too.
  template <class T>
    requires requires(const Source& s, std::span<const T> v) { { s.is_correct(v, v) } -> std::convertible_to<bool>; }
  bool is_correct(std::span<const T> output, std::span<const T> target) const {
    return source_->is_correct(output, target);
  }
  const Source& source() const noexcept { return *source_; }
  const image_dims& dims() const noexcept { return dims_; }
  const expand_options& options() const noexcept { return o_; }

  // The shift and angle of sample i (all zero for the images themselves).
  image_transform transform(std::size_t i) const {
    if (check(i) < n_) return {};
    const std::uint64_t h = detail::mix64(o_.seed ^ detail::mix64(static_cast<std::uint64_t>(i)));
    image_transform t;
    const std::uint64_t k = o_.max_shift, side = 2 * k + 1;
    if (k > 0) {
      // One of the side² - 1 shifts other than (0, 0) when there is no angle; one of the side² otherwise.
      const bool turned = o_.max_degrees > 0;
      std::uint64_t pick = (h >> 32) % (turned ? side * side : side * side - 1);
      if (!turned && pick >= side * side / 2) ++pick;  // skip the centre
      t.dx = static_cast<int>(pick % side) - static_cast<int>(k);
      t.dy = static_cast<int>(pick / side) - static_cast<int>(k);
    }
    if (o_.max_degrees > 0) {
      const double u = static_cast<double>(detail::mix64(h) >> 11) * 0x1.0p-53;  // [0, 1)
      t.degrees = (2 * u - 1) * o_.max_degrees;
    }
    t.mirrored = o_.mirror && (h & 1);
    return t;
  }

  // Writes sample i's input, converted as the trainer converts the source's own inputs.
  template <class T>
  void write_input(std::size_t i, std::span<T> out) const {
    const std::size_t j = check(i) % n_;
    const auto in = source_->input(j);
    using E = std::remove_cvref_t<decltype(*std::data(in))>;
    static_assert(std::is_same_v<E, std::uint8_t> || std::is_same_v<E, T>,
                  "nn::expanded_images: the source's inputs must be bytes or values of the network's type");
    T scale = T(1);
    if constexpr (std::is_same_v<E, std::uint8_t>) scale = static_cast<T>(source_->input_scale());
    const auto value = [&](std::size_t k) {
      if constexpr (std::is_same_v<E, std::uint8_t>) return static_cast<T>(in[k]) / scale;
      else return in[k];
    };
    const std::size_t H = dims_.height, W = dims_.width, plane = H * W;
    if (std::size(in) != input_size() || out.size() != input_size())
      throw std::invalid_argument("nn::expanded_images: sample " + std::to_string(j) + " has " +
                                  std::to_string(std::size(in)) + " values, written into " + std::to_string(out.size()));
    const image_transform t = transform(i);
    if (t.degrees == 0) {
      // A shift: out(y, x) = in(y - dy, x - dx), 0 where that is outside (copy 0 is the same with dx = dy = 0).
      for (std::size_t c = 0; c < dims_.channels; ++c)
        for (std::size_t y = 0; y < H; ++y) {
          const std::ptrdiff_t sy = static_cast<std::ptrdiff_t>(y) - t.dy;
          for (std::size_t x = 0; x < W; ++x) {
            const std::ptrdiff_t sx = column(static_cast<std::ptrdiff_t>(x) - t.dx, t.mirrored);
            const bool inside = sy >= 0 && sy < static_cast<std::ptrdiff_t>(H) && sx >= 0 && sx < static_cast<std::ptrdiff_t>(W);
            out[c * plane + y * W + x] = inside ? value(c * plane + static_cast<std::size_t>(sy) * W + static_cast<std::size_t>(sx)) : T(0);
          }
        }
      return;
    }
    // Turned about the centre, then shifted: each output pixel looks up where it came from and interpolates
    // between the four pixels around that point.
    const double a = t.degrees * 3.14159265358979323846 / 180, ca = std::cos(a), sa = std::sin(a);
    const double cx = (static_cast<double>(W) - 1) / 2, cy = (static_cast<double>(H) - 1) / 2;
    const auto at = [&](std::size_t c, std::ptrdiff_t y, std::ptrdiff_t x) {
      if (y < 0 || x < 0 || y >= static_cast<std::ptrdiff_t>(H) || x >= static_cast<std::ptrdiff_t>(W)) return 0.0;
      x = column(x, t.mirrored);
      return static_cast<double>(value(c * plane + static_cast<std::size_t>(y) * W + static_cast<std::size_t>(x)));
    };
    for (std::size_t y = 0; y < H; ++y)
      for (std::size_t x = 0; x < W; ++x) {
        const double u = static_cast<double>(x) - t.dx - cx, v = static_cast<double>(y) - t.dy - cy;
        const double sx = ca * u + sa * v + cx, sy = -sa * u + ca * v + cy;
        const double fx = std::floor(sx), fy = std::floor(sy), wx = sx - fx, wy = sy - fy;
        const auto x0 = static_cast<std::ptrdiff_t>(fx), y0 = static_cast<std::ptrdiff_t>(fy);
        for (std::size_t c = 0; c < dims_.channels; ++c)
          out[c * plane + y * W + x] = static_cast<T>((1 - wy) * ((1 - wx) * at(c, y0, x0) + wx * at(c, y0, x0 + 1)) +
                                                      wy * ((1 - wx) * at(c, y0 + 1, x0) + wx * at(c, y0 + 1, x0 + 1)));
      }
  }

  // The trainer asks for the inputs of the next mini-batch ahead of time: these are the source's.
  void prefetch_input(std::size_t i) const {
    if (i >= size()) return;
    detail::prefetch_to_l2(source_->input(i % n_));
  }

 private:
  // Column x of the source, or of its mirror image.
  std::ptrdiff_t column(std::ptrdiff_t x, bool mirrored) const noexcept {
    return mirrored ? static_cast<std::ptrdiff_t>(dims_.width) - 1 - x : x;
  }
  std::size_t check(std::size_t i) const {
    if (i >= size())
      throw std::out_of_range("nn::expanded_images: sample " + std::to_string(i) + " of " + std::to_string(size()));
    return i;
  }

  const Source* source_;
  image_dims dims_;
  expand_options o_;
  std::size_t n_;
};

}  // namespace nn
