// Training over MPI (docs/distributed.md): the nn::mpi component, `find_package(nn COMPONENTS mpi)` and
// target nn::mpi. Not part of the umbrella header: it needs an MPI library (Debian: libopenmpi-dev).
//
//   nn::mpi::environment mpi(argc, argv);    // MPI_Init_thread ... MPI_Finalize
//   nn::mpi::group world;                    // MPI_COMM_WORLD, as an nn::process_group
//   trainer.processes = &world;              // every rank: the same settings, the same data
//   trainer.fit(net, training, test);        // then run with mpirun -np 4 ./program
//
// Exchanges are MPI's blocking collectives (on this machine 1.5 times as fast as the non-blocking ones,
// docs/distributed.md), each watched by a thread of the group: a rank that has crashed, stopped or lost
// its network makes every other one stop, with a message naming itself, the exchange and the wait,
// within `timeout` seconds (plus at most a second) instead of waiting for ever: the watchdog ends its
// process, and mpirun then stops the job. (mpirun stops the job at once when a rank's process dies.)
#pragma once

#include <mpi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nn/executor.hpp"

namespace nn::mpi {

// MPI for the life of the program: MPI_Init_thread in the constructor, MPI_Finalize in the destructor.
// One per program, made before any group. MPI_THREAD_FUNNELED: only the thread that made it may call
// MPI, so call fit from that thread (the trainer's own threads never call MPI; the group checks).
class environment {
 public:
  environment(int& argc, char**& argv) {
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw std::runtime_error("nn::mpi: MPI_Init_thread failed");
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      throw std::runtime_error("nn::mpi: this MPI library cannot be used with threads (MPI_THREAD_FUNNELED)");
    }
  }
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
  ~environment() { MPI_Finalize(); }
};

// The processes of an MPI communicator as an nn::process_group (a copy of it: nn's messages never mix
// with the program's own).
class group final : public process_group {
 public:
  // Seconds an exchange may wait for the other ranks before every rank is stopped. Between two exchanges
  // a rank trains one step, or evaluates its part of the test data, or (rank 0) writes a checkpoint:
  // the timeout must be longer than the longest of those.
  std::atomic<double> timeout{120};

  explicit group(MPI_Comm comm = MPI_COMM_WORLD, double timeout_seconds = 120) : timeout(timeout_seconds) {
    if (MPI_Comm_dup(comm, &comm_) != MPI_SUCCESS) throw std::runtime_error("nn::mpi: MPI_Comm_dup failed");
    // Errors come back as codes, so that this class can say which exchange failed.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    int r = 0, s = 0;
    MPI_Comm_rank(comm_, &r);
    MPI_Comm_size(comm_, &s);
    rank_ = static_cast<std::size_t>(r);
    size_ = static_cast<std::size_t>(s);
    if (size_ > 1) watchdog_ = std::thread([this] { watch(); });
  }
  group(const group&) = delete;
  group& operator=(const group&) = delete;
  ~group() override {
    if (watchdog_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      watchdog_.join();
    }
    MPI_Comm_free(&comm_);
  }

  std::size_t size() const noexcept override { return size_; }
  std::size_t rank() const noexcept override { return rank_; }

  void sum(std::span<float> values, const char* what) override { all_reduce(values.data(), values.size(), MPI_FLOAT, sizeof(float), what); }
  void sum(std::span<double> values, const char* what) override { all_reduce(values.data(), values.size(), MPI_DOUBLE, sizeof(double), what); }

  void broadcast(std::vector<std::uint8_t>& bytes, const char* what) override {
    std::uint64_t n = bytes.size();
    watched(what, [&] { return MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm_); });
    if (rank_ != 0) bytes.assign(static_cast<std::size_t>(n), 0);
    for (std::uint64_t at = 0; at < n;) {  // in pieces: MPI counts are int
      const int chunk = static_cast<int>(std::min<std::uint64_t>(n - at, std::uint64_t{1} << 30));
      watched(what, [&] { return MPI_Bcast(bytes.data() + at, chunk, MPI_BYTE, 0, comm_); });
      at += static_cast<std::uint64_t>(chunk);
    }
    sent_ += rank_ == 0 ? n * (size_ - 1) : 0;
  }

  [[noreturn]] void abort(const std::string& why) noexcept override {
    std::fprintf(stderr, "nn::mpi: rank %zu of %zu: %s; stopping every rank\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
    std::abort();  // MPI_Abort does not return
  }

  // Exchanges so far, and the bytes this rank has put into them (an all-reduce of B bytes counts 2·B·(p−1)/p,
  // what a ring all-reduce sends: the cost model of docs/distributed.md).
  std::uint64_t exchanges() const noexcept { return exchanges_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_sent() const noexcept { return sent_; }

 private:
  void all_reduce(void* data, std::size_t n, MPI_Datatype type, std::size_t bytes, const char* what) {
    if (size_ == 1) return;
    for (std::size_t at = 0; at < n;) {
      const int chunk = static_cast<int>(std::min<std::size_t>(n - at, std::size_t{1} << 28));
      watched(what, [&] { return MPI_Allreduce(MPI_IN_PLACE, static_cast<char*>(data) + at * bytes, chunk, type, MPI_SUM, comm_); });
      at += static_cast<std::size_t>(chunk);
    }
    sent_ += 2 * n * bytes * (size_ - 1) / size_;
  }

  void check(int code, const char* what) noexcept {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    abort(std::string("MPI failed in ") + what + ": " + std::string(text, static_cast<std::size_t>(len)));
  }

  // Runs one collective under the watchdog's eye.
  template <class F>
  void watched(const char* what, F&& collective) noexcept {
    if (exchanges_.fetch_add(1, std::memory_order_relaxed) == 0) {
      int main_thread = 0;
      MPI_Is_thread_main(&main_thread);
      if (!main_thread)
        abort("MPI is called from a thread that did not make nn::mpi::environment (MPI_THREAD_FUNNELED): call fit "
              "from the thread that made it");
    }
    // What the watchdog would print: copied, so it outlives the caller's string.
    std::size_t k = 0;
    for (; what[k] && k + 1 < what_.size(); ++k) what_[k].store(what[k], std::memory_order_relaxed);
    what_[k].store('\0', std::memory_order_relaxed);
    started_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_release);
    const int code = collective();
    started_.store(0, std::memory_order_release);
    check(code, what);
  }

  // The watchdog: every second, whether the exchange under way (if any) has gone on for longer than
  // `timeout`. Then it says so and ends this process (no MPI call: the thread that called MPI is stuck in
  // it), and mpirun stops the others.
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
      const auto since = started_.load(std::memory_order_acquire);
      if (since == 0) continue;
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch() -
                                                          std::chrono::steady_clock::duration(since)).count();
      if (waited > timeout.load()) {
        std::string what;
        for (const auto& c : what_) {
          const char ch = c.load(std::memory_order_relaxed);
          if (!ch) break;
          what += ch;
        }
        if (started_.load(std::memory_order_acquire) != since) continue;  // it ended meanwhile
        std::fprintf(stderr,
                     "nn::mpi: rank %zu of %zu: waited %d s (nn::mpi::group::timeout) for the other ranks in %s (exchange "
                     "%llu): one has stopped, hangs or cannot be reached; stopping every rank\n",
                     rank_, size_, static_cast<int>(waited), what.c_str(),
                     static_cast<unsigned long long>(exchanges_.load(std::memory_order_relaxed)));
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::size_t rank_ = 0, size_ = 1;
  std::atomic<std::uint64_t> exchanges_{0};
  std::uint64_t sent_ = 0;
  // The exchange under way: when it started (steady_clock ticks; 0: none) and what it is.
  std::atomic<std::chrono::steady_clock::rep> started_{0};
  std::array<std::atomic<char>, 160> what_{};
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
};

}  // namespace nn::mpi
