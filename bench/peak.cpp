// The machine's measured FMA peak: independent FMA chains in registers, as
// wide as the CPU allows (AVX-512 or AVX2), on `threads` threads at once.
// The chains' loop is unrolled explicitly: at -O2 GCC kept the array of
// chains in memory and measured store forwarding (49 GFLOP/s for 107). A
// CPU that boosts its clock for other code can go past this figure (oneDNN's
// direct 3x3 convs reach 115-130% of it on an AMD EPYC, Zen 4).
#include "peak.hpp"

#include <immintrin.h>

#include <chrono>
#include <thread>
#include <vector>

namespace bench {
namespace {

constexpr long iterations = 20'000'000;

__attribute__((target("avx2,fma"))) float chains_avx2() {
    __m256 a[10];
    for (int k = 0; k < 10; ++k) a[k] = _mm256_set1_ps(0.001f * k);
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 16
        for (int k = 0; k < 10; ++k) a[k] = _mm256_fmadd_ps(a[k], m, c);
    __m256 s = a[0];
    for (int k = 1; k < 10; ++k) s = _mm256_add_ps(s, a[k]);
    return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) float chains_avx512() {
    __m512 a[12];
    for (int k = 0; k < 12; ++k) a[k] = _mm512_set1_ps(0.001f * k);
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 16
        for (int k = 0; k < 12; ++k) a[k] = _mm512_fmadd_ps(a[k], m, c);
    __m512 s = a[0];
    for (int k = 1; k < 12; ++k) s = _mm512_add_ps(s, a[k]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, s);
    return lanes[0] + lanes[15];
}

}  // namespace

peak measure_peak(int threads) {
    const bool avx512 = __builtin_cpu_supports("avx512f");
    const double flops_per_thread = 2.0 * iterations * (avx512 ? 12 * 16 : 10 * 8);
    volatile float sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] { sink = sink + (avx512 ? chains_avx512() : chains_avx2()); });
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {avx512 ? "AVX-512" : "AVX2", flops_per_thread * threads / s / 1e9};
}

}  // namespace bench
