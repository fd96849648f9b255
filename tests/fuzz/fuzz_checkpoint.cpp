// libFuzzer target: any bytes as a checkpoint (trainer.checkpoint, nn/checkpoint.hpp), resumed by a trainer
// of a small network with every part of a state in use (Adam's moments, dropout, early stopping's best
// parameters, reports). With the first byte's bit 0 set, the target writes a correct header length and
// hash over the rest first, so the fuzzer explores the state behind them. A file must either resume and
// train on (its parameters are finite; forged values may still make the training diverge, which stops
// with nn::divergence_error), or be a data_error that leaves the network and the optimizer as they were;
// never a crash, a hang or a huge allocation.
#include <nn/network.hpp>

#include <cstring>
#include <vector>

#include "checkpoint_run.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data_in, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data_in), size);
  const std::uint8_t mode = fuzz::take(in);
  std::string bytes(in);
  if (mode & 1) fuzz::seal(bytes);
  const std::string path = fuzz::file("run.ckpt", bytes);
  fuzz::checkpoint_net net(7);
  const fuzz::checkpoint_net before = net;
  auto t = fuzz::checkpoint_trainer(path, 3);
  t.resume = true;
  const auto resumed = fuzz::run([&]() -> std::size_t {
    try {
      return t.fit(net, fuzz::checkpoint_data(), fuzz::checkpoint_data()).size();
    } catch (const nn::divergence_error&) {
      return 0;  // forged but finite values can do that
    }
  });
  if (!resumed.ok()) {
    fuzz::check(net == before, "a checkpoint that failed to load changed the network", resumed.error);
    fuzz::check(t.optimizer.steps() == 0, "a checkpoint that failed to load changed the optimizer", resumed.error);
  }
  return 0;
}
