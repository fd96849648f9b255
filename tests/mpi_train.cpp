// Run under mpirun by the tests "mpi: ..." (tests/CMakeLists.txt, docs/distributed.md).
//   mpi_train equal          trains small networks over the ranks and, on every rank, the same networks in
//                            plain single-process training; fails unless every rank holds the same
//                            parameters, 1 rank equals plain training bit for bit and more ranks equal it
//                            within the tolerance docs/distributed.md states
//   mpi_train stop RANK      rank RANK stops itself (SIGSTOP) at the start of epoch 2: the others must stop
//                            every rank within group.timeout (3 s here) with a message saying why
//   mpi_train kill RANK      rank RANK kills itself (SIGKILL) at the start of epoch 2: mpirun must stop the job
#include <nn/mpi.hpp>
#include <nn/network.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "blobs.hpp"

namespace {

// Relative tolerance for ranks > 1 against one process: rounding differences of the summed gradients
// (docs/distributed.md, "Same result on any number of ranks").
constexpr double tolerance = 2e-5;

std::uint64_t hash(std::span<const float> p) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const float v : p) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    h = (h ^ b) * 0x100000001b3ULL;
  }
  return h;
}

template <class Net, class Cost, class Optimizer>
bool compare(const char* name, nn::mpi::group& world, Optimizer opt, double dropout, std::size_t threads, double decay = 0) {
  const auto train = test_data::blobs(1200, 1), test = test_data::blobs(400, 2);
  const auto make = [&] {
    nn::trainer<Optimizer, Cost> t{opt};
    t.epochs = 3;
    t.batch_size = 64;
    t.seed = 7;
    t.dropout = dropout;
    t.weight_decay = decay;
    t.threads = threads;
    t.on_epoch = nullptr;
    return t;
  };
  Net plain(3), spread(3);
  auto a = make();
  const auto plain_reports = a.fit(plain, train, test);
  auto b = make();
  b.processes = &world;
  const auto reports = b.fit(spread, train, test);

  // Every rank holds the same network.
  const auto h = hash(spread.parameters());
  std::uint64_t lo = h, hi = h;
  MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  bool ok = lo == hi;
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < plain.parameters().size(); ++i) {
    worst = std::max(worst, std::abs(double(plain.parameters()[i]) - double(spread.parameters()[i])));
    scale = std::max(scale, std::abs(double(plain.parameters()[i])));
  }
  const bool same = std::equal(plain.parameters().begin(), plain.parameters().end(), spread.parameters().begin());
  if (world.size() == 1) ok = ok && same;
  else ok = ok && worst <= tolerance * scale;
  // Same accuracy (the count of the whole test set, summed over the ranks' parts), within 1 %.
  const double diff = std::abs(double(reports.back().correct) - double(plain_reports.back().correct));
  ok = ok && reports.back().tested == test.size() && diff <= 0.01 * double(test.size());
  if (world.rank() == 0)
    std::printf("nn-mpi-test: %s on %zu ranks: every rank the same: %s; largest difference from one process %.3g "
                "(largest parameter %.3g)%s; test accuracy %zu vs %zu of %zu: %s\n",
                name, world.size(), lo == hi ? "yes" : "NO", worst, scale, same ? ", bit for bit" : "",
                reports.back().correct, plain_reports.back().correct, test.size(), ok ? "ok" : "FAILED");
  return ok;
}

int equal(nn::mpi::group& world) {
  bool ok = true;
  // Plain SGD (fused in one process) with dropout and weight decay; momentum on two threads per rank;
  // batch norm and Adam.
  ok &= compare<nn::sequential<nn::input<20>, nn::dense<32, nn::sigmoid>, nn::dense<5, nn::sigmoid>>, nn::cross_entropy>("sgd + dropout + L2", world, nn::sgd{1.0}, 0.2, 1, 2.0);
  ok &= compare<nn::sequential<nn::input<20>, nn::dense<32, nn::relu>, nn::dense<5, nn::softmax>>, nn::log_likelihood>("momentum, 2 threads", world, nn::momentum{0.05}, 0, 2);
  ok &= compare<nn::sequential<nn::input<20>, nn::dense<16>, nn::batch_norm<nn::relu>, nn::dense<5, nn::softmax>>, nn::log_likelihood>("batch norm + adam", world, nn::adam{0.01}, 0, 1);
  return ok ? 0 : 1;
}

int fault(nn::mpi::group& world, int signal, std::size_t victim) {
  world.timeout = 3;
  const auto train = test_data::blobs(20000, 1);
  nn::trainer<nn::sgd, nn::cross_entropy> t{nn::sgd{0.5}};
  t.epochs = 1000;
  t.batch_size = 16;
  t.on_epoch = nullptr;
  t.processes = &world;
  t.schedule = [&](std::size_t e) {
    if (e == 2 && world.rank() == victim) {
      std::fprintf(stderr, "nn-mpi-test: rank %zu sends itself signal %d\n", victim, signal);
      std::raise(signal);
    }
    return 1.0;
  };
  nn::sequential<nn::input<20>, nn::dense<32, nn::sigmoid>, nn::dense<5, nn::sigmoid>> net(1);
  t.fit(net, train);
  std::printf("nn-mpi-test: rank %zu finished 1000 epochs: the fault went unnoticed\n", world.rank());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  nn::mpi::environment mpi(argc, argv);
  nn::mpi::group world;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "equal") return equal(world);
  if ((mode == "stop" || mode == "kill") && argc > 2)
    return fault(world, mode == "stop" ? SIGSTOP : SIGKILL, std::stoul(argv[2]));
  std::fprintf(stderr, "usage: mpi_train equal | stop RANK | kill RANK\n");
  return 2;
}
