// Replaces the global operator new for one test program, counting what it asks for: every allocation goes
// through the two functions below (sized, aligned, array and nothrow forms forward there). Include it in
// exactly one file of a test executable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace counting_new {

inline std::atomic<std::size_t> allocations{0};  // calls of operator new, of any form
inline std::atomic<std::size_t> largest{0};      // the largest single request since the last reset_largest()

inline void reset_largest() noexcept { largest.store(0); }

inline void count(std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  std::size_t seen = largest.load(std::memory_order_relaxed);
  while (n > seen && !largest.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
  }
}

inline void* allocate(std::size_t n) noexcept {
  count(n);
  return std::malloc(n ? n : 1);
}

inline void* allocate(std::size_t n, std::align_val_t a) noexcept {
  count(n);
  const std::size_t al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}

// Out of line, so that g++ does not take the operator delete below, inlined into a caller of operator
// new, for a mismatched free (-Wmismatched-new-delete).
[[gnu::noinline]] inline void release(void* p) noexcept { std::free(p); }

}  // namespace counting_new

void* operator new(std::size_t n) {
  if (void* p = counting_new::allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counting_new::allocate(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counting_new::allocate(n); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counting_new::allocate(n, a);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p) noexcept { counting_new::release(p); }
void operator delete(void* p, std::size_t) noexcept { counting_new::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { counting_new::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counting_new::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counting_new::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counting_new::release(p); }
void operator delete[](void* p) noexcept { counting_new::release(p); }
void operator delete[](void* p, std::size_t) noexcept { counting_new::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counting_new::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counting_new::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counting_new::release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counting_new::release(p); }
