// The course's digit classifier trained over MPI (docs/distributed.md): every rank runs this program;
// each reads only its part of every epoch's images (nn::idx_source) and trains on its part of every
// mini-batch, and the gradients are added up over the ranks, so all of them hold the same network.
//   mpirun -np 2 build/release/examples/mnist_mpi --batch 64
//   mpirun -np 2 build/release/examples/mnist_mpi --checkpoint run.ckpt --every 1    (then, after a crash:)
//   mpirun -np 2 build/release/examples/mnist_mpi --checkpoint run.ckpt --resume
// Options as the mnist example's, plus --checkpoint FILE, --every N (epochs), --minutes M, --resume,
// --timeout S. It trains on all 60,000 training images and tests on the 10,000 test images.
#include <nn/data/idx.hpp>
#include <nn/io.hpp>
#include <nn/mpi.hpp>
#include <nn/network.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "command_line.hpp"
#include "training_output.hpp"

namespace {

struct options {
  std::string data = "data/mnist";
  std::size_t epochs = 30, batch = 10, hidden = 30, threads = 1, every = 1;
  double eta = 3.0, minutes = 0, timeout = 120;
  std::uint64_t seed = 0;
  std::string checkpoint, save;
  bool resume = false, progress = true;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: mpirun -np N mnist_mpi [options]\n"
               "Trains the course's network on MNIST over N MPI ranks; rank 0 prints \"Epoch j: correct / n\".\n\n"
               "  --data DIR        folder with the four IDX files (default data/mnist)\n"
               "  --fashion         Fashion-MNIST (data/fashion-mnist)\n"
               "  --epochs N        epochs (default 30)\n"
               "  --batch N         mini-batch size over all ranks (default 10)\n"
               "  --eta X           learning rate (default 3.0)\n"
               "  --seed N          seeds the initial weights and the shuffles (default 0)\n"
               "  --hidden N        hidden neurons: 30 or 100 (default 30)\n"
               "  --threads N       threads per rank (default 1)\n"
               "  --checkpoint FILE write the run's state to FILE (rank 0), atomically\n"
               "  --every N         ... every N epochs (default 1)\n"
               "  --minutes M       ... and after the first step M minutes after the last checkpoint\n"
               "  --resume          go on from --checkpoint FILE: the same network as a run never stopped\n"
               "  --timeout S       seconds a rank waits for the others before stopping all (default 120)\n"
               "  --save FILE       write the trained parameters (rank 0)\n"
               "  --no-progress     no progress bar\n"
               "  --help            this text\n");
}

options parse(int argc, char** argv) {
  options o;
  example::command_line args("mnist_mpi", usage, argc, argv);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--data") o.data = args.value();
    else if (a == "--fashion") o.data = "data/fashion-mnist";
    else if (a == "--epochs") o.epochs = args.whole_number();
    else if (a == "--batch") o.batch = args.whole_number();
    else if (a == "--eta") o.eta = args.positive_number();
    else if (a == "--seed") o.seed = args.whole_number();
    else if (a == "--hidden") o.hidden = args.whole_number();
    else if (a == "--threads") o.threads = args.whole_number();
    else if (a == "--checkpoint") o.checkpoint = args.value();
    else if (a == "--every") o.every = args.whole_number();
    else if (a == "--minutes") o.minutes = args.positive_number();
    else if (a == "--resume") o.resume = true;
    else if (a == "--timeout") o.timeout = args.positive_number();
    else if (a == "--save") o.save = args.value();
    else if (a == "--no-progress") o.progress = false;
    else args.fail("unknown option '" + a + "'");
  }
  if (o.batch == 0 || o.threads == 0) args.fail("--batch and --threads must be at least 1");
  if (o.hidden != 30 && o.hidden != 100) args.fail("--hidden must be 30 or 100 (each shape is compiled in)");
  if (o.resume && o.checkpoint.empty()) args.fail("--resume needs --checkpoint FILE");
  return o;
}

template <std::size_t Hidden>
void train(const options& o, nn::mpi::group& world) {
  // Headers only, here: each rank's trainer asks for its samples epoch by epoch.
  const nn::idx_source<float> training(o.data + "/train-images-idx3-ubyte.gz", o.data + "/train-labels-idx1-ubyte.gz", 10, 784);
  const nn::idx_source<float> test(o.data + "/t10k-images-idx3-ubyte.gz", o.data + "/t10k-labels-idx1-ubyte.gz", 10, 784);
  nn::network<784, Hidden, 10> net(o.seed);
  nn::trainer<> trainer{nn::sgd{o.eta}};
  trainer.epochs = o.epochs;
  trainer.batch_size = o.batch;
  trainer.seed = o.seed;
  trainer.threads = o.threads;
  trainer.processes = &world;
  trainer.checkpoint = o.checkpoint;
  trainer.checkpoint_epochs = o.every;
  trainer.checkpoint_minutes = o.minutes;
  trainer.resume = o.resume;
  example::show_progress(trainer, o.progress && world.rank() == 0);
  if (world.rank() == 0)
    std::printf("Training 784-%zu-10 on %zu images over %zu ranks (%zu thread%s each), testing on %zu: eta %g, "
                "mini-batch %zu, %zu epochs, seed %llu%s\n",
                Hidden, training.size(), world.size(), o.threads, o.threads == 1 ? "" : "s", test.size(), o.eta, o.batch,
                o.epochs, static_cast<unsigned long long>(o.seed), o.resume ? ", resuming" : "");
  const auto history = trainer.fit(net, training, test);
  double seconds = 0;
  for (const auto& r : history) seconds += r.seconds;
  if (world.rank() != 0) return;
  std::printf("Rank 0 held %zu training images in memory (of %zu); exchanges: %llu, %.1f MB sent by rank 0\n",
              training.loaded(), training.size(), static_cast<unsigned long long>(world.exchanges()),
              static_cast<double>(world.bytes_sent()) / 1e6);
  std::printf("Training time: %.2f s\n", seconds);
  if (!history.empty())
    std::printf("Test accuracy: %zu / %zu = %.4f\n", history.back().correct, history.back().tested,
                double(history.back().correct) / double(history.back().tested));
  if (!o.save.empty()) nn::save_parameters(net, o.save);
}

}  // namespace

int main(int argc, char** argv) {
  nn::mpi::environment mpi(argc, argv);
  const options o = parse(argc, argv);
  nn::mpi::group world(MPI_COMM_WORLD, o.timeout);
  try {
    if (o.hidden == 30) train<30>(o, world);
    else train<100>(o, world);
    return 0;
  } catch (const std::exception& e) {
    // Every rank says what stopped it: one rank's bad file or setting, and the others' "1 of the 2
    // processes failed ...", or the same divergence everywhere.
    std::fprintf(stderr, "mnist_mpi: rank %zu: %s\n", world.rank(), e.what());
    return 1;
  }
}
