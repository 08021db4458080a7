#pragma once

namespace bench {
struct peak {
    const char* isa;
    double gflops;
};
// FMA throughput of `threads` threads, GFLOP/s, with the widest vectors the CPU has.
peak measure_peak(int threads);
}  // namespace bench
