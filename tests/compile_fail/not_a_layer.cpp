// A layer whose bound type lacks what the contract asks (here: kept_shape and forward).
#include <nn/network.hpp>

struct half_done {
  template <class T, class In>
  struct bind {
    using input_shape = In;
    using output_shape = In;
    static constexpr std::size_t parameter_count = 0, parameter_storage = 0, kept_count = 0;
  };
};

int main() {
  nn::sequential<nn::input<4>, half_done> net;
  (void)net;
}
