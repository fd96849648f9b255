// A fixed team of threads that run one function together (the caller is member 0), with a barrier for
// the phases of a training step. Used by trainer::fit and nn::evaluate when threads > 1.
//
// Between runs the workers sleep on a condition variable (a run is an epoch, so waking them is rare);
// inside a run the barrier spins briefly, then yields, since a mini-batch phase takes microseconds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nn::detail {

class thread_team {
 public:
  explicit thread_team(std::size_t size) : size_(size ? size : 1) {
    workers_.reserve(size_ - 1);
    for (std::size_t t = 1; t < size_; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  thread_team(const thread_team&) = delete;
  thread_team& operator=(const thread_team&) = delete;
  ~thread_team() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++run_id_;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  std::size_t size() const noexcept { return size_; }

  // Runs f(member) on every member, the caller being member 0, and returns when all have returned.
  // f must not throw out of a phase that others wait for at a barrier: members catch their own
  // exceptions, agree at a barrier, and return together (see trainer::fit); an exception that does
  // escape f is rethrown here after all members have finished.
  void run(const std::function<void(std::size_t)>& f) {
    if (size_ == 1) {
      failing_.store(false, std::memory_order_relaxed);
      return f(0);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &f;
      pending_ = size_ - 1;
      failing_.store(false, std::memory_order_relaxed);
      error_ = nullptr;
      ++run_id_;
    }
    wake_.notify_all();
    std::exception_ptr mine;
    try {
      f(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

  // Marks the run as failed (a member caught an exception); the next barrier tells every member.
  void flag_failure() noexcept { failing_.store(true, std::memory_order_relaxed); }

  // Waits until every member has arrived, and returns whether any member flagged a failure before
  // arriving: all members get the same answer, so they can all leave together (a flag read directly
  // after the barrier could already show a failure of the next phase, raised by a faster member).
  // Release/acquire ordering makes every member's writes before the barrier visible to all after it.
  bool barrier() noexcept {
    if (size_ == 1) return failing_.load(std::memory_order_relaxed);
    const unsigned gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
      arrived_.store(0, std::memory_order_relaxed);
      failed_at_barrier_.store(failing_.load(std::memory_order_relaxed), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    } else {
      for (unsigned spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
        if (spins < 4000) pause();
        else std::this_thread::yield();  // an oversubscribed machine: let the others run
      }
    }
    // Overwritten only when every member has arrived at the next barrier, so stable until then.
    return failed_at_barrier_.load(std::memory_order_relaxed);
  }

 private:
  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  void work(std::size_t member) {
    std::size_t seen = 0;
    for (;;) {
      const std::function<void(std::size_t)>* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return run_id_ != seen; });
        seen = run_id_;
        if (stop_) return;
        job = job_;
      }
      std::exception_ptr error;
      try {
        (*job)(member);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::size_t size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t run_id_ = 0, pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> failing_{false}, failed_at_barrier_{false};
};

}  // namespace nn::detail
