// NN_INLINE and NN_UNROLL, which every kernel family uses (nn/simd/kernels.hpp, f32.hpp, int8.hpp).
#pragma once

// The kernels keep a block of accumulators (an array of registers) whose sizes are compile-time
// constants, chosen per block by a small lambda over an integral_constant (static_blocks,
// dynamic_blocks); inside a block, loops over those constant sizes are unrolled by NN_UNROLL, so the
// arrays live in registers. Plain loops, not a lambda per index: a lambda is a function the compiler
// instantiates, optimises and inlines for every block size of every kernel, and loops took about a
// quarter off convnet's build (docs/benchmarks.md, "Compile time") for the same instructions.
// GCC at -O2 stops inlining the block lambdas part way, and then keeps the accumulator arrays in memory
// (a store per FMA): forced inlining makes -O2 code as fast as -O3's.
// A build may define NN_INLINE itself: nn's sanitizer build makes it empty, which compiles the test suite
// three times faster at the cost of slower kernels (docs/testing.md).
#ifndef NN_INLINE
#if defined(__GNUC__) || defined(__clang__)
#define NN_INLINE __attribute__((always_inline))
#else
#define NN_INLINE
#endif
#endif
// Unrolls the loop that follows: completely when its trip count is a compile-time constant of at most 16
// (the kernels' blocks), else 16 times (a row of a convolution's fold).
#if defined(__clang__)
#define NN_UNROLL _Pragma("unroll 16")
#elif defined(__GNUC__)
#define NN_UNROLL _Pragma("GCC unroll 16")
#else
#define NN_UNROLL
#endif
