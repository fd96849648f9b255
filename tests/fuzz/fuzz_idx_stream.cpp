// libFuzzer target: nn::idx_stream over an image file and a label file, against the reference reader
// (idx_reference.hpp). The first byte chooses which files are gzipped (bit 0 images, bit 1 labels); the
// next two, little-endian, how many bytes of the rest are the image file's content (the rest is the
// labels'). The stream must give the reference's examples, in order, and end cleanly exactly when the
// reference finds both files good and every label below 10; otherwise it must throw a data_error (at
// the latest at the end), never deliver a wrong example, and never another exception.
#include <nn/data/idx.hpp>

#include <array>
#include <cstring>

#include "fuzz.hpp"
#include "idx_reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::uint8_t mode = fuzz::take(in);
  const std::size_t low = fuzz::take(in), high = fuzz::take(in);
  const std::size_t split = std::min(in.size(), low | high << 8);
  const std::string_view image_content = in.substr(0, split), label_content = in.substr(split);
  const std::string image_file = (mode & 1) ? fuzz::gzip(image_content) : std::string(image_content);
  const std::string label_file = (mode & 2) ? fuzz::gzip(label_content) : std::string(label_content);
  const std::string images = fuzz::file("images", image_file), labels = fuzz::file("labels", label_file);

  const auto ri = fuzz::parse_idx(image_content, 2051), rl = fuzz::parse_idx(label_content, 2049);
  const auto hi = fuzz::parse_idx_header(image_content, 2051), hl = fuzz::parse_idx_header(label_content, 2049);
  bool good = ri && rl && ri->dims.size() == 3 && rl->dims.size() == 1 && rl->dims[0] == ri->dims[0] &&
              std::uint64_t{ri->dims[1]} * ri->dims[2] > 0;
  if (good)
    for (char c : rl->values) good &= static_cast<unsigned char>(c) < 10;

  try {
    nn::idx_stream<float> s(images, labels);
    const std::size_t pixels = s.input_size();
    // A gzipped file's header may promise images of billions of pixels, which only reading can disprove;
    // a caller passes its network's inputs as expected_inputs, which the stream checks when it opens.
    // Here the buffer for one image is the target's, so a larger promise is only opened.
    if (pixels > (1u << 16)) return 0;
    std::vector<float> x(pixels);
    std::array<float, 10> y{};
    std::size_t i = 0;
    while (s.next(x, y)) {
      // Every example delivered is in the files, even when they go bad later.
      fuzz::check(hi && hl && i < hi->dims[0], "idx_stream gave an example the headers do not promise");
      fuzz::check(hi->values.size() / pixels > i && i < hl->values.size(),
                  "idx_stream gave an example past the files' data");
      for (std::size_t k = 0; k < pixels; ++k)
        fuzz::check(x[k] == static_cast<float>(static_cast<unsigned char>(hi->values[i * pixels + k])) / 255.0f,
                    "idx_stream: wrong pixel");
      const auto label = static_cast<unsigned char>(hl->values[i]);
      for (std::size_t c = 0; c < 10; ++c) fuzz::check(y[c] == (c == label ? 1.0f : 0.0f), "idx_stream: wrong target");
      ++i;
    }
    fuzz::check(good, "idx_stream ended cleanly on files the reference finds bad");
    fuzz::check(i == ri->dims[0], "idx_stream ended early");
  } catch (const nn::data_error& e) {
    fuzz::check(!good, "idx_stream threw on files the reference finds good", e.what());
  }
  return 0;
}
