// Training over MPI against one process (docs/distributed.md): run it under mpirun with 1 rank, then 2,
// in one session (scripts/mpi-scaling.sh does, and prints the ratios). Rank 0 prints one line per net and
// mini-batch: the median epoch's seconds, the time per step, the bytes each rank sent per step and the
// exchanges per step.
//   mpirun -np 2 build/bench/benchmarks/mpi_scaling [--data DIR] [--samples N] [--epochs E] [--batch 64,128]
//                                                     [--net mlp,ch6a]
#include <nn/data/idx.hpp>
#include <nn/mpi.hpp>
#include <nn/network.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "peak.hpp"

namespace {

using mlp = nn::network<784, 100, 10>;
using ch6a = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                            nn::dense<100, nn::sigmoid>, nn::dense<10, nn::softmax>>;

template <class Net, class Cost>
void run(const char* name, nn::mpi::group& world, const nn::byte_dataset<float>& data, std::size_t batch, std::size_t epochs) {
  Net net(1);
  nn::trainer<nn::sgd, Cost> t{nn::sgd{0.1}};
  t.epochs = epochs;
  t.batch_size = batch;
  t.on_epoch = nullptr;
  t.processes = &world;
  const auto sent = world.bytes_sent(), exchanges = world.exchanges();
  const auto history = t.fit(net, data);
  std::vector<double> seconds;
  for (const auto& r : history) seconds.push_back(r.seconds);
  const double median = bench::median(seconds);
  const double steps = double(epochs) * double((data.size() + batch - 1) / batch);
  if (world.rank() == 0)
    std::printf("mpi_scaling: %-4s batch %4zu ranks %zu: epoch %.4f s (median of %zu), %.1f us per step, %.0f bytes and %.1f "
                "exchanges per step and rank\n",
                name, batch, world.size(), median, epochs, 1e6 * median / (steps / double(epochs)),
                double(world.bytes_sent() - sent) / steps, double(world.exchanges() - exchanges) / steps);
}

}  // namespace

int main(int argc, char** argv) {
  nn::mpi::environment mpi(argc, argv);
  nn::mpi::group world;
  std::string data = "/usr/share/datasets/fashion-mnist", nets = "mlp,ch6a", batches = "64,128";
  std::size_t samples = 20000, epochs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--data") data = v;
    else if (a == "--samples") samples = std::stoul(v);
    else if (a == "--epochs") epochs = std::stoul(v);
    else if (a == "--batch") batches = v;
    else if (a == "--net") nets = v;
  }
  auto train = nn::load_idx_bytes<float>(data + "/train-images-idx3-ubyte.gz", data + "/train-labels-idx1-ubyte.gz", 10, 784);
  if (samples < train.size()) train = nn::split_at(std::move(train), samples).first;
  for (const std::size_t b : bench::numbers(batches)) {
    if (nets.find("mlp") != std::string::npos) run<mlp, nn::quadratic_cost>("mlp", world, train, b, epochs);
    if (nets.find("ch6a") != std::string::npos) run<ch6a, nn::log_likelihood>("ch6a", world, train, b, epochs);
  }
}
