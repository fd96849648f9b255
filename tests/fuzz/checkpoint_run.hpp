// The training run whose checkpoints fuzz_checkpoint reads and fuzz_seeds writes: a 4-3-2 network and a
// trainer that uses every part of a checkpoint's state (Adam's moments, dropout, early stopping's best
// parameters, reports).
#pragma once

#include <nn/network.hpp>

#include <string>

namespace fuzz {

using checkpoint_net = nn::network<4, 3, 2>;

inline nn::trainer<nn::adam> checkpoint_trainer(const std::string& path, std::size_t epochs) {
  nn::trainer<nn::adam> t{nn::adam{0.01}};
  t.epochs = epochs;
  t.batch_size = 4;
  t.seed = 5;
  t.dropout = 0.25;
  t.patience = 2;
  t.on_epoch = nullptr;
  t.checkpoint = path;
  return t;
}

inline const nn::dataset<float, 4, 2>& checkpoint_data() {
  static const auto d = [] {
    nn::dataset<float, 4, 2> d;
    for (int i = 0; i < 12; ++i) d.add({float(i % 2), float(i % 3), 0.5f, float(i) / 12}, {float(i % 2), float(1 - i % 2)});
    return d;
  }();
  return d;
}

}  // namespace fuzz
