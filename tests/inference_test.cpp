// Inference allocates nothing: feedforward of one sample and predict into the caller's storage make no
// heap allocation once the network exists (counted by replacing the global operator new), are const, and
// give the same results when several threads call them on one network at once.
#include <nn/network.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "catch.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// Every allocation of the program goes through these (sized, aligned and array forms forward here).
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

template <class Net>
void check_no_allocation() {
  const Net net(3, nn::scaled_normal_init{});
  nn::rng r(4);
  std::array<typename Net::value_type, Net::inputs> x;
  for (auto& v : x) v = static_cast<typename Net::value_type>(r.uniform());
  nn::matrix<typename Net::value_type, nn::dynamic, Net::inputs> batch(100);
  for (std::size_t s = 0; s < batch.rows(); ++s)
    for (std::size_t i = 0; i < Net::inputs; ++i) batch(s, i) = s == 0 ? x[i] : static_cast<typename Net::value_type>(r.uniform());
  nn::matrix<typename Net::value_type, nn::dynamic, Net::outputs> out(batch.rows());
  std::array<typename Net::value_type, Net::outputs> one{};

  // The counter works: a vector allocates.
  std::size_t before = allocations.load();
  { std::vector<int> v(10); (void)v; }
  REQUIRE(allocations.load() == before + 1);

  before = allocations.load();
  const auto y = net.feedforward(x);
  net.feedforward(x, std::span<typename Net::value_type, Net::outputs>(one));
  net.predict(batch, out);
  const std::size_t made = allocations.load() - before;
  REQUIRE(made == 0);
  REQUIRE(y == one);
  for (std::size_t o = 0; o < Net::outputs; ++o) REQUIRE(out(0, o) == y[o]);  // row 0 is x

  // Four threads at once on the one const network: the same results as one.
  std::vector<std::array<typename Net::value_type, Net::outputs>> got(4);
  std::vector<nn::matrix<typename Net::value_type, nn::dynamic, Net::outputs>> outs;
  for (int t = 0; t < 4; ++t) outs.emplace_back(batch.rows());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) {
        got[t] = net.feedforward(x);
        net.predict(batch, outs[t]);
      }
    });
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < 4; ++t) {
    REQUIRE(got[t] == y);
    for (std::size_t s = 0; s < batch.rows(); ++s)
      for (std::size_t o = 0; o < Net::outputs; ++o) REQUIRE(outs[t](s, o) == out(s, o));
  }
}

}  // namespace

TEST_CASE("inference makes no heap allocation, and threads may share a network", "[inference]") {
  check_no_allocation<nn::network<784, 30, 10>>();
  check_no_allocation<nn::basic_network<nn::policies<float, nn::relu, nn::softmax>, 784, 512, 256, 10>>();
  check_no_allocation<nn::basic_network<nn::policies<double, nn::tanh>, 5, 7, 3, 2>>();
  check_no_allocation<nn::sequential<nn::input<20>, nn::dense<16, nn::relu>, nn::dense<12, nn::tanh>, nn::dense<3>>>();
}
