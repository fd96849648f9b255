// A layer for images (channels x height x width) after a dense layer, which gives a vector.
#include <nn/network.hpp>

struct needs_image {
  template <class In>
  static constexpr bool accepts = In::rank == 3;
  template <class T, class In>
  struct bind {
    using input_shape = In;
    using output_shape = In;
    using kept_shape = In;
    static constexpr std::size_t parameter_count = 0, parameter_storage = 0, kept_count = 0;
    static void forward(const T*, nn::rows_of<const T, In>, nn::rows_of<T, In>) {}
  };
};

int main() {
  nn::sequential<nn::input<784>, nn::dense<30>, needs_image> net;
  (void)net;
}
