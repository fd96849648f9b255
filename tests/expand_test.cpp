// nn::expanded_images, the book's expanded training data made on demand: the images themselves bit for bit,
// shifted copies held against the definition pixel by pixel, turned copies that move a point along its circle,
// reproducible from the seed, nothing copied or allocated, and training through it equal to training on the
// source when there is one copy.
#include <nn/data/expand.hpp>
#include <nn/network.hpp>

#include <cmath>
#include <cstdint>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"

namespace {

nn::byte_dataset<float> random_images(std::size_t n, std::size_t values, std::uint64_t seed) {
  nn::rng r(seed);
  std::vector<std::uint8_t> x(n * values), labels(n);
  for (auto& b : x) b = static_cast<std::uint8_t>(r.below(256));
  for (auto& l : labels) l = static_cast<std::uint8_t>(r.below(3));
  return nn::byte_dataset<float>(values, 3, std::move(x), std::move(labels));
}

template <class Source>
std::vector<float> input_of(const nn::expanded_images<Source>& e, std::size_t i) {
  std::vector<float> v(e.input_size());
  e.write_input(i, std::span<float>(v));
  return v;
}

}  // namespace

TEST_CASE("expanded_images: the images themselves bit for bit, then copies shifted (and mirrored) as defined") {
  for (const bool mirror : {false, true}) {
    const nn::image_dims dims = mirror ? nn::image_dims{2, 5, 6} : nn::image_dims{1, 7, 9};
    const std::size_t n = 60, values = dims.channels * dims.height * dims.width;
    const auto images = random_images(n, values, 11);
    const nn::expanded_images e(images, dims, {.copies = 4, .max_shift = 2, .mirror = mirror, .seed = 5});
    std::size_t mirrored = 0;
    REQUIRE(e.size() == 4 * n);
    REQUIRE(e.input_size() == values);
    std::set<std::pair<int, int>> seen;
    for (std::size_t i = 0; i < e.size(); ++i) {
      const std::size_t j = i % n;
      const auto t = e.transform(i);
      const auto x = input_of(e, i);
      CHECK(e.label(i) == images.label(j));
      CHECK(std::vector<float>(e.target(i).begin(), e.target(i).end()) ==
            std::vector<float>(images.target(j).begin(), images.target(j).end()));
      CHECK(t.degrees == 0);
      mirrored += t.mirrored;
      if (i < n) {
        CHECK((t.dx == 0 && t.dy == 0 && !t.mirrored));
      } else {
        CHECK(std::abs(t.dx) <= 2);
        CHECK(std::abs(t.dy) <= 2);
        CHECK(!(t.dx == 0 && t.dy == 0));
        seen.insert({t.dx, t.dy});
      }
      // out(c, y, x) = in(c, y - dy, x - dx) as the trainer converts bytes, 0 from outside the frame; mirrored:
      // in(c, y - dy, W - 1 - (x - dx)).
      const int H = static_cast<int>(dims.height), W = static_cast<int>(dims.width);
      std::size_t wrong = 0;
      for (std::size_t c = 0; c < dims.channels; ++c)
        for (int y = 0; y < H; ++y)
          for (int xx = 0; xx < W; ++xx) {
            const int sy = y - t.dy, sx = t.mirrored ? W - 1 - (xx - t.dx) : xx - t.dx;
            const float want = sy < 0 || sx < 0 || sy >= H || sx >= W
                                   ? 0.0f
                                   : static_cast<float>(images.input(j)[c * dims.height * dims.width + static_cast<std::size_t>(sy * W + sx)]) / 255.0f;
            wrong += x[c * dims.height * dims.width + static_cast<std::size_t>(y * W + xx)] != want;
          }
      CHECK(wrong == 0);
    }
    CHECK(seen.size() == 24);  // all 5 x 5 - 1 shifts in 180 copies
    if (mirror) {
      CHECK(mirrored > 60);  // about half of the 180 copies
      CHECK(mirrored < 120);
    } else {
      CHECK(mirrored == 0);
    }
  }
}

TEST_CASE("expanded_images: the same seed gives the same copies, another seed others") {
  const auto images = random_images(50, 28 * 28, 3);
  const nn::expanded_images a(images, {1, 28, 28}, {.copies = 5, .max_shift = 1, .max_degrees = 10, .seed = 1});
  const nn::expanded_images b(images, {1, 28, 28}, {.copies = 5, .max_shift = 1, .max_degrees = 10, .seed = 1});
  const nn::expanded_images c(images, {1, 28, 28}, {.copies = 5, .max_shift = 1, .max_degrees = 10, .seed = 2});
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(input_of(a, i) == input_of(b, i));
    differ += input_of(a, i) != input_of(c, i);
  }
  CHECK(differ > 150);  // of the 200 moved copies
}

TEST_CASE("expanded_images: a turned copy moves a point along its circle about the centre, and keeps its mass") {
  // One bright pixel 6 to the right of the centre of a 21 x 21 image: copy i must have its centre of mass
  // at the centre + (6 cos a, 6 sin a) + (dx, dy), a = the copy's angle (x to the right, y down).
  nn::dataset<float> images(21 * 21, 1);
  images.resize(1);
  images.input(0)[10 * 21 + 16] = 1.0f;  // row 10, column 16
  images.target(0)[0] = 1.0f;
  const nn::expanded_images e(images, {1, 21, 21}, {.copies = 200, .max_shift = 1, .max_degrees = 30, .seed = 9});
  double largest = 0;
  std::set<std::pair<int, int>> shifts;
  for (std::size_t i = 1; i < e.size(); ++i) {
    const auto t = e.transform(i);
    const auto x = input_of(e, i);
    double mass = 0, mx = 0, my = 0;
    for (std::size_t y = 0; y < 21; ++y)
      for (std::size_t xx = 0; xx < 21; ++xx) {
        mass += x[y * 21 + xx];
        mx += x[y * 21 + xx] * static_cast<double>(xx);
        my += x[y * 21 + xx] * static_cast<double>(y);
      }
    const double a = t.degrees * 3.14159265358979323846 / 180;
    INFO("copy " << i << ": " << t.degrees << " degrees, shift " << t.dx << ", " << t.dy);
    CHECK(std::abs(t.degrees) <= 30);
    CHECK(mass == Approx(1).margin(0.25));
    CHECK(mx / mass == Approx(10 + 6 * std::cos(a) + t.dx).margin(0.15));
    CHECK(my / mass == Approx(10 + 6 * std::sin(a) + t.dy).margin(0.15));
    largest = std::max(largest, std::abs(t.degrees));
    shifts.insert({t.dx, t.dy});
  }
  CHECK(largest > 25);
  CHECK(shifts.size() == 9);  // with an angle, (0, 0) is a shift too
}

TEST_CASE("expanded_images keeps a pointer to its source and allocates nothing, making or reading samples") {
  const auto images = random_images(100, 28 * 28, 4);
  std::vector<float> x(28 * 28);
  const std::size_t before = counting_new::allocations.load();
  const nn::expanded_images e(images, {1, 28, 28}, {.copies = 5, .max_shift = 2, .max_degrees = 15, .seed = 3});
  for (std::size_t i = 0; i < e.size(); ++i) e.write_input(i, std::span<float>(x));
  CHECK(counting_new::allocations.load() == before);
  CHECK(&e.source() == &images);
  CHECK(sizeof(e) <= 96);
}

TEST_CASE("expanded_images refuses sizes that do not fit, copies that change nothing, and samples past its end") {
  const auto images = random_images(10, 28 * 28, 4);
  CHECK_THROWS_WITH(nn::expanded_images(images, {1, 28, 27}),
                    "nn::expanded_images: images of 1 x 28 x 27 values, but the data's inputs have 784");
  CHECK_THROWS_WITH(nn::expanded_images(images, {1, 28, 28}, {.copies = 0}), Catch::Contains("copies must be at least 1"));
  CHECK_THROWS_WITH(nn::expanded_images(images, {1, 28, 28}, {.copies = 3, .max_shift = 0}),
                    Catch::Contains("every copy would be the image itself"));
  CHECK_NOTHROW(nn::expanded_images(images, {1, 28, 28}, {.copies = 3, .max_shift = 0, .mirror = true}));
  CHECK_THROWS_WITH(nn::expanded_images(images, {1, 28, 28}, {.max_shift = 28}), Catch::Contains("out of its frame"));
  CHECK_THROWS_WITH(nn::expanded_images(images, {1, 28, 28}, {.max_degrees = 200}), Catch::Contains("[0, 180]"));
  const nn::expanded_images e(images, {1, 28, 28});
  std::vector<float> x(28 * 28);
  CHECK_THROWS_WITH(e.write_input(50, std::span<float>(x)), "nn::expanded_images: sample 50 of 50");
  CHECK_THROWS_AS(e.label(50), std::out_of_range);
}

TEST_CASE("training on expanded images with one copy is training on the images, on 1 and 2 threads") {
  const auto images = random_images(240, 7 * 9, 8);
  const nn::expanded_images same(images, {1, 7, 9}, {.copies = 1});
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    nn::network<63, 12, 3> a(4), b(4);
    nn::trainer<> t;
    t.epochs = 2;
    t.batch_size = 10;
    t.threads = threads;
    t.seed = 6;
    t.on_epoch = nullptr;
    t.fit(a, images, images);
    t.fit(b, same, same);
    CHECK(a == b);
    CHECK(nn::evaluate(a, images) == nn::evaluate(b, same));
  }
  // With four moved copies the network sees other inputs, and ends elsewhere.
  const nn::expanded_images more(images, {1, 7, 9}, {.copies = 5, .max_shift = 1, .seed = 2});
  nn::network<63, 12, 3> a(4), b(4);
  nn::trainer<> t;
  t.epochs = 1;
  t.on_epoch = nullptr;
  t.fit(a, images);
  t.fit(b, more);
  CHECK(!(a == b));
}
