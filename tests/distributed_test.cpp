// The trainer's training over processes (trainer::processes, docs/distributed.md) without MPI: p threads
// play p processes, each with its own network and trainer, joined by a process_group that sums in rank
// order through shared memory. This runs the distributed code path under the sanitizers too (the MPI
// tests, tests/mpi_train.cpp, run it over real processes): every "process" ends with the same network,
// close to one process's; a group of one is plain training, bit for bit; and a distributed run resumed
// from its checkpoint equals the run never stopped.
#include <nn/network.hpp>

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "blobs.hpp"
#include "catch.hpp"

namespace {

// The processes of one training, as threads. Each thread's group object is its view (rank) of the shared
// state.
class thread_processes {
 public:
  explicit thread_processes(std::size_t p) : p_(p), sync_(static_cast<std::ptrdiff_t>(p)), slots_(p) {}

  class member final : public nn::process_group {
   public:
    member(thread_processes& all, std::size_t rank) : all_(&all), rank_(rank) {}
    std::size_t size() const noexcept override { return all_->p_; }
    std::size_t rank() const noexcept override { return rank_; }
    void sum(std::span<float> v, const char*) override { all_->sum(rank_, v); }
    void sum(std::span<double> v, const char*) override { all_->sum(rank_, v); }
    void broadcast(std::vector<std::uint8_t>& bytes, const char*) override {
      if (rank_ == 0) all_->bytes_ = bytes;
      all_->sync_.arrive_and_wait();
      if (rank_ != 0) bytes = all_->bytes_;
      all_->sync_.arrive_and_wait();
    }
    [[noreturn]] void abort(const std::string& why) noexcept override {
      std::fprintf(stderr, "thread_processes: rank %zu aborts: %s\n", rank_, why.c_str());
      std::abort();
    }
    std::size_t exchanges = 0;

   private:
    thread_processes* all_;
    std::size_t rank_;
  };

  // Runs f(group) on p threads, one rank each.
  void run(const std::function<void(member&)>& f) {
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(p_);
    for (std::size_t r = 0; r < p_; ++r)
      threads.emplace_back([&, r] {
        member m(*this, r);
        try {
          f(m);
        } catch (...) {
          errors[r] = std::current_exception();
        }
      });
    for (auto& t : threads) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

 private:
  // Every rank's values in its slot; after a barrier each adds all slots up in rank order.
  template <class T>
  void sum(std::size_t rank, std::span<T> v) {
    slots_[rank].assign(v.begin(), v.end());
    sync_.arrive_and_wait();
    for (std::size_t i = 0; i < v.size(); ++i) {
      double s = 0;
      for (std::size_t k = 0; k < p_; ++k) s += slots_[k][i];
      v[i] = static_cast<T>(s);
    }
    sync_.arrive_and_wait();
  }

  std::size_t p_;
  std::barrier<> sync_;
  std::vector<std::vector<double>> slots_;
  std::vector<std::uint8_t> bytes_;
};

using net_t = nn::sequential<nn::input<20>, nn::dense<16>, nn::batch_norm<nn::relu>, nn::dense<5, nn::softmax>>;
using trainer_t = nn::trainer<nn::momentum, nn::log_likelihood>;

trainer_t make_trainer(std::size_t epochs) {
  trainer_t t{nn::momentum{0.05}};
  t.epochs = epochs;
  t.batch_size = 30;
  t.seed = 5;
  t.dropout = 0.1;
  t.weight_decay = 1.0;  // λ/n·w joins the summed gradient once, not once per process
  t.on_epoch = nullptr;
  return t;
}

const nn::dataset<float>& train_set() {
  static const auto d = test_data::blobs(600, 1);
  return d;
}
const nn::dataset<float>& test_set() {
  static const auto d = test_data::blobs(200, 2);
  return d;
}

// Trains on p thread-processes; returns each one's network and rank 0's reports.
std::vector<net_t> train_on(std::size_t p, std::size_t epochs, std::vector<nn::epoch_report>* reports = nullptr,
                            const std::function<void(trainer_t&, std::size_t rank)>& adjust = {}) {
  std::vector<net_t> nets(p, net_t(3));
  thread_processes group(p);
  group.run([&](thread_processes::member& me) {
    auto t = make_trainer(epochs);
    t.processes = &me;
    if (adjust) adjust(t, me.rank());
    const auto r = t.fit(nets[me.rank()], train_set(), test_set());
    if (reports && me.rank() == 0) *reports = r;
  });
  return nets;
}

}  // namespace

TEST_CASE("processes joined by a group end with one network, one process's within rounding", "[distributed]") {
  net_t plain(3);
  auto t = make_trainer(3);
  const auto plain_reports = t.fit(plain, train_set(), test_set());
  for (const std::size_t p : {2, 3, 4}) {
    std::vector<nn::epoch_report> reports;
    const auto nets = train_on(p, 3, &reports);
    for (const auto& n : nets) REQUIRE(n == nets[0]);
    double worst = 0;
    for (std::size_t i = 0; i < plain.parameters().size(); ++i)
      worst = std::max(worst, double(std::abs(plain.parameters()[i] - nets[0].parameters()[i])));
    INFO(p << " processes: largest difference " << worst);
    REQUIRE(worst < 1e-4);
    REQUIRE(worst > 0);  // the gradient really was summed in pieces
    REQUIRE(reports.size() == 3);
    REQUIRE(reports.back().tested == test_set().size());  // every part of the test set, summed
    REQUIRE(std::abs(double(reports.back().correct) - double(plain_reports.back().correct)) <= 2);
    REQUIRE(std::abs(reports.back().mean_cost - plain_reports.back().mean_cost) < 1e-4);
  }
}

TEST_CASE("a group of one process is plain training, bit for bit", "[distributed]") {
  net_t plain(3);
  auto t = make_trainer(2);
  t.fit(plain, train_set(), test_set());
  REQUIRE(train_on(1, 2)[0] == plain);
}

TEST_CASE("training over processes resumed from its checkpoint equals the run never stopped", "[distributed]") {
  const auto dir = std::filesystem::temp_directory_path() / ("nn_distributed_test." + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "run.ckpt").string();
  std::vector<nn::epoch_report> whole, resumed;
  const auto straight = train_on(2, 4, &whole);
  (void)train_on(2, 2, nullptr, [&](trainer_t& t, std::size_t) { t.checkpoint = path; });
  // Resumed into networks that start elsewhere: everything comes from the file (rank 0 reads it and
  // broadcasts its bytes).
  std::vector<net_t> nets(2, net_t(99));
  thread_processes group(2);
  group.run([&](thread_processes::member& me) {
    auto t = make_trainer(4);
    t.processes = &me;
    t.checkpoint = path;
    t.resume = true;
    const auto r = t.fit(nets[me.rank()], train_set(), test_set());
    if (me.rank() == 0) resumed = r;
  });
  REQUIRE(nets[0] == straight[0]);
  REQUIRE(nets[1] == straight[0]);
  REQUIRE(resumed.size() == whole.size());
  for (std::size_t e = 0; e < whole.size(); ++e) {
    REQUIRE(resumed[e].mean_cost == whole[e].mean_cost);
    REQUIRE(resumed[e].correct == whole[e].correct);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a last mini-batch with fewer rows than processes: the processes with none add nothing", "[distributed]") {
  const auto train = test_data::blobs(601, 4);  // mini-batches of 30: the last has 1 row, for 4 processes
  for (const bool dense_only : {true, false}) {
    const auto run = [&](auto net, std::size_t p) {
      std::vector<decltype(net)> nets(p, net);
      thread_processes group(p);
      group.run([&](thread_processes::member& me) {
        auto t = make_trainer(2);
        if (p > 1) t.processes = &me;
        t.fit(nets[me.rank()], train);
      });
      return nets[0];
    };
    const auto compare = [&](auto net) {
      const auto one = run(net, 1), four = run(net, 4);
      double worst = 0;
      for (std::size_t i = 0; i < one.parameters().size(); ++i)
        worst = std::max(worst, double(std::abs(one.parameters()[i] - four.parameters()[i])));
      INFO("largest difference " << worst);
      REQUIRE(worst < 1e-4);
    };
    if (dense_only) compare(nn::sequential<nn::input<20>, nn::dense<16, nn::relu>, nn::dense<5, nn::softmax>>(3));
    else compare(net_t(3));
  }
}

TEST_CASE("threads inside processes, with batch norm and dropout, train the network of one thread each", "[distributed]") {
  const auto with_threads = train_on(2, 2, nullptr, [](trainer_t& t, std::size_t) {
    t.batch_size = 64;  // 32 rows per process: 2 threads each
    t.threads = 2;
  });
  const auto without = train_on(2, 2, nullptr, [](trainer_t& t, std::size_t) { t.batch_size = 64; });
  REQUIRE(with_threads[0] == with_threads[1]);
  REQUIRE(with_threads[0] == without[0]);  // threads never change the bits
}

TEST_CASE("every process starts from process 0's network, and settings that differ stop them all", "[distributed]") {
  // Each process made its network from another seed: all train process 0's.
  std::vector<net_t> nets{net_t(3), net_t(4)};
  thread_processes group(2);
  group.run([&](thread_processes::member& me) {
    auto t = make_trainer(2);
    t.processes = &me;
    t.fit(nets[me.rank()], train_set(), test_set());
  });
  REQUIRE(nets[0] == nets[1]);
  REQUIRE(nets[0] == train_on(2, 2)[0]);
  // Process 1 asks for other epochs: both throw (none waits for the other).
  // Each process's message, from a run over 2 where `adjust` sets process `rank`'s trainer.
  const auto messages_of = [](const std::function<void(trainer_t&, std::size_t rank)>& adjust) {
    std::vector<std::string> messages(2);
    thread_processes group(2);
    group.run([&](thread_processes::member& me) {
      auto t = make_trainer(2);
      t.processes = &me;
      adjust(t, me.rank());
      net_t net(3);
      try {
        t.fit(net, train_set(), test_set());
      } catch (const std::exception& e) {
        messages[me.rank()] = e.what();
      }
    });
    return messages;
  };
  auto messages = messages_of([](trainer_t& t, std::size_t rank) { t.epochs = rank == 0 ? 2 : 3; });
  REQUIRE(messages[0].find("the processes disagree on epochs: this one (0) has 2") != std::string::npos);
  REQUIRE(messages[1].find("the processes disagree on epochs: this one (1) has 3") != std::string::npos);
  // Process 1's checkpoint setting differs from process 0's (another dropout): process 1 names it, and
  // process 0 says that another failed.
  messages = messages_of([](trainer_t& t, std::size_t rank) {
    if (rank == 1) t.dropout = 0.2;
  });
  REQUIRE(messages[1].find("the checkpoint's dropout is 0.10000000000000001, this run's is 0.20000000000000001") != std::string::npos);
  REQUIRE(messages[0].find("1 of the 2 processes failed to take process 0's network and settings") != std::string::npos);
}

TEST_CASE("a run over processes resumes from the middle of an epoch, also on another number of processes", "[distributed]") {
  const auto dir = std::filesystem::temp_directory_path() / ("nn_distributed_mid." + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "run.ckpt").string(), kept = (dir / "mid.ckpt").string();
  const auto straight = train_on(2, 3);
  // A checkpoint after every step; process 0 keeps a copy of the one written in epoch 1 after 300 samples.
  (void)train_on(2, 3, nullptr, [&](trainer_t& t, std::size_t rank) {
    t.checkpoint = path;
    t.checkpoint_minutes = 1e-9;
    t.checkpoint_epochs = 0;
    if (rank == 0)
      t.on_progress = [&, epoch = std::size_t{0}, last = std::size_t{0}](std::size_t done, std::size_t) mutable {
        if (done < last) ++epoch;
        last = done;
        if (epoch == 1 && done >= 300 && !std::filesystem::exists(kept)) std::filesystem::copy_file(path, kept);
      };
  });
  REQUIRE(std::filesystem::exists(kept));
  const auto resume_on = [&](std::size_t p) {
    std::vector<net_t> nets(p, net_t(99));
    thread_processes group(p);
    group.run([&](thread_processes::member& me) {
      auto t = make_trainer(3);
      t.processes = &me;
      t.checkpoint = kept;
      t.resume = true;
      t.checkpoint_epochs = 0;
      t.fit(nets[me.rank()], train_set(), test_set());
    });
    return nets[0];
  };
  REQUIRE(resume_on(2) == straight[0]);  // bit for bit
  const auto three = resume_on(3);       // within rounding
  double worst = 0;
  for (std::size_t i = 0; i < three.parameters().size(); ++i)
    worst = std::max(worst, double(std::abs(three.parameters()[i] - straight[0].parameters()[i])));
  INFO("largest difference " << worst);
  REQUIRE(worst < 1e-4);
  std::filesystem::remove_all(dir);
}
