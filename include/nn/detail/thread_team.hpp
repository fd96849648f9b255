// A fixed team of threads that run one function together (the caller is member 0), with a barrier for
// the phases of a training step. Used by trainer::fit and nn::evaluate when threads > 1.
//
// Between runs the workers sleep on a condition variable (a run is an epoch, so waking them is rare);
// inside a run the barrier spins briefly, then yields, since a mini-batch phase takes microseconds.
// POSIX threads, not <thread>, <mutex> and <condition_variable>: those headers cost every program that
// includes nn/network.hpp about 0.1 s of build (docs/benchmarks.md, "Compile time").
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nn::detail {

class thread_team {
  struct lock {  // (std::lock_guard's part that is needed)
    explicit lock(pthread_mutex_t& m) noexcept : m_(m) { pthread_mutex_lock(&m_); }
    ~lock() { pthread_mutex_unlock(&m_); }
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;
    pthread_mutex_t& m_;
  };
  struct start {
    thread_team* team;
    std::size_t member;
  };

 public:
  explicit thread_team(std::size_t size) : size_(size ? size : 1) {
    workers_ = std::make_unique<pthread_t[]>(size_);
    starts_ = std::make_unique<start[]>(size_);
    for (std::size_t t = 1; t < size_; ++t) {
      starts_[t] = {this, t};
      const int e = pthread_create(&workers_[t], nullptr, &thread_team::entry, &starts_[t]);
      if (e != 0) {
        stop(t);  // (the ones already started)
        throw std::runtime_error("nn: could not start thread " + std::to_string(t) + " of " + std::to_string(size_) +
                                 " for training: " + std::strerror(e));
      }
    }
  }
  thread_team(const thread_team&) = delete;
  thread_team& operator=(const thread_team&) = delete;
  ~thread_team() {
    stop(size_);
    pthread_cond_destroy(&wake_);
    pthread_cond_destroy(&done_);
    pthread_mutex_destroy(&mutex_);
  }

  std::size_t size() const noexcept { return size_; }

  // Runs f(member) on every member, the caller being member 0, and returns when all have returned (f: a
  // callable object, such as a lambda; what it returns is dropped).
  // f must not throw out of a phase that others wait for at a barrier: members catch their own
  // exceptions, agree at a barrier, and return together (see trainer::fit); an exception that does
  // escape f is rethrown here after all members have finished.
  template <class F>
  void run(F&& f) {
    if (size_ == 1) {
      failing_.store(false, std::memory_order_relaxed);
      f(std::size_t{0});
      return;
    }
    {
      lock l(mutex_);
      job_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
      call_ = [](void* job, std::size_t member) { (*static_cast<std::remove_reference_t<F>*>(job))(member); };
      pending_ = size_ - 1;
      failing_.store(false, std::memory_order_relaxed);
      error_ = nullptr;
      ++run_id_;
    }
    pthread_cond_broadcast(&wake_);
    std::exception_ptr mine;
    try {
      f(std::size_t{0});
    } catch (...) {
      mine = std::current_exception();
    }
    lock l(mutex_);
    while (pending_ != 0) pthread_cond_wait(&done_, &mutex_);
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
        else sched_yield();  // an oversubscribed machine: let the others run
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

  static void* entry(void* arg) {
    const start* s = static_cast<const start*>(arg);
    s->team->work(s->member);
    return nullptr;
  }

  // Stops and joins workers [1, started).
  void stop(std::size_t started) noexcept {
    {
      lock l(mutex_);
      stop_ = true;
      ++run_id_;
    }
    pthread_cond_broadcast(&wake_);
    for (std::size_t t = 1; t < started; ++t) pthread_join(workers_[t], nullptr);
  }

  void work(std::size_t member) noexcept {
    std::size_t seen = 0;
    for (;;) {
      void* job;
      void (*call)(void*, std::size_t);
      {
        lock l(mutex_);
        while (run_id_ == seen) pthread_cond_wait(&wake_, &mutex_);
        seen = run_id_;
        if (stop_) return;
        job = job_;
        call = call_;
      }
      std::exception_ptr error;
      try {
        call(job, member);
      } catch (...) {
        error = std::current_exception();
      }
      lock l(mutex_);
      if (error && !error_) error_ = error;
      if (--pending_ == 0) pthread_cond_signal(&done_);
    }
  }

  std::size_t size_;
  std::unique_ptr<pthread_t[]> workers_;
  std::unique_ptr<start[]> starts_;
  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake_ = PTHREAD_COND_INITIALIZER, done_ = PTHREAD_COND_INITIALIZER;
  void* job_ = nullptr;
  void (*call_)(void*, std::size_t) = nullptr;
  std::size_t run_id_ = 0, pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> failing_{false}, failed_at_barrier_{false};
};

}  // namespace nn::detail
