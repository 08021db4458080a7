// Memory of generated code. Halide's generated functions allocate their
// intermediate buffers (halide_malloc) on every call; constnet's runtime
// replaces that allocator, before main, with per-thread caches of freed
// blocks (size classes of at most 25% slack, up to 1 GiB per thread).
// After a thread has called a function once with a given batch size, that
// thread's further calls with that batch allocate nothing:
// model::forward(input, output) is allocation-free after warm-up, in every
// thread that warmed up (forward(input) allocates only its result). Buffers
// a schedule allocates inside its parallel loops (a chain's per-image
// intermediates) come from the caches of the worker threads, one block per
// thread once each has computed an image (tests/memory).
#pragma once

#include <cstddef>

namespace constnet {

struct memory_stats {
    long halide_allocations = 0;  // halide_malloc calls so far, all threads
    long system_allocations = 0;  // of those, how many the caches could not serve
    std::size_t cached_bytes = 0; // held in free lists now, all threads
};
memory_stats halide_memory_stats();

}  // namespace constnet
