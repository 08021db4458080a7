// Several threads calling forward() on one model at once get what serial
// calls get, bit for bit (run under ThreadSanitizer by the sanitizer build,
// see tests/CMakeLists.txt and .ci/run); errors in one thread do not disturb
// the others.
#include "d2l_avg_pool_2.constnet.hpp"
#include "lenet_net.constnet.hpp"

#include <constnet/threads.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <xmmintrin.h>
#include <random>
#include <span>
#include <thread>
#include <vector>

namespace {
using Model = constnet::model<lenet>;

constnet::buffer random_input(int batch, unsigned seed) {
    auto x = Model::make_input(batch);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (float& v : std::span(x.data(), x.number_of_elements())) v = u(rng);
    return x;
}
bool same(const constnet::buffer& a, const constnet::buffer& b) {
    return a.number_of_elements() == b.number_of_elements() &&
           std::equal(a.data(), a.data() + a.number_of_elements(), b.data());
}
}  // namespace

TEST_CASE("concurrent forward calls on one model equal serial calls", "[aot][concurrency]") {
    Model model;
    model.init(3);
    const int batches[] = {1, 3, 17, 64, 2, 256};
    std::vector<constnet::buffer> inputs, expected;
    for (int k = 0; k < 6; ++k) {
        inputs.push_back(random_input(batches[k], 100 + k));
        expected.push_back(model.forward(inputs.back()));
    }
    constexpr int threads = 4, rounds = 12;
    std::atomic<int> mismatches{0}, calls{0}, errors_seen{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            auto out = Model::make_output(256);
            for (int r = 0; r < rounds; ++r) {
                const int k = (t + r) % 6;
                if (r % 2 == 0) {  // the allocating form
                    if (!same(model.forward(inputs[k]), expected[k])) ++mismatches;
                } else {  // into a buffer of the thread's own
                    auto o = out.cropped(1, 0, batches[k]);
                    model.forward(inputs[k], o);
                    if (!same(o.copy(), expected[k])) ++mismatches;
                }
                if (t == 0 && r % 3 == 0) {  // a wrong call in one thread meanwhile
                    try {
                        model.forward(constnet::make_nchw(2, 1, 27, 28));
                    } catch (const constnet::error&) {
                        ++errors_seen;
                    }
                }
                ++calls;
            }
        });
    for (auto& th : pool) th.join();
    CHECK(calls == threads * rounds);
    CHECK(mismatches == 0);
    CHECK(errors_seen == (rounds + 2) / 3);
}

TEST_CASE("separate models train concurrently as they train alone", "[aot][concurrency]") {
    // Each model is used by one thread at a time (train_step changes it);
    // different models share nothing but the read-only generated code.
    const auto x = random_input(32, 7);
    constnet::labels y(32);
    for (int k = 0; k < 32; ++k) y(k) = k % 10;
    auto run = [&](Model& m) {
        m.init(11);
        for (int s = 0; s < 5; ++s) m.train_step(x, y, constnet::sgd(0.5f));
    };
    Model alone;
    run(alone);
    Model a, b;
    std::thread ta([&] { run(a); }), tb([&] { run(b); });
    ta.join();
    tb.join();
    for (int k = 0; k < Model::parameter_tensors; ++k) {
        CHECK(same(a.parameter(k), alone.parameter(k)));
        CHECK(same(b.parameter(k), alone.parameter(k)));
    }
}

TEST_CASE("the thread count can be set and changed, results do not depend on it", "[aot][concurrency]") {
    Model model;
    model.init(5);
    const auto x = random_input(64, 9);
    const int before = constnet::set_num_threads(1);
    CHECK(before >= 0);
    const auto one = model.forward(x);
    CHECK(constnet::set_num_threads(2) == 1);
    const auto two = model.forward(x);
    CHECK(constnet::set_num_threads(1) == 2);
    CHECK(same(model.forward(x), one));
    CHECK(same(two, one));  // parallel over images only: every image is computed the same way
    REQUIRE_THROWS_WITH(constnet::set_num_threads(0), Catch::Matchers::Contains("expected at least 1 thread, got 0"));
}

// The thread count from the environment (Halide's HL_NUM_THREADS), before
// any set_num_threads: run alone by ctest (aot.threads_from_environment) with
// HL_NUM_THREADS=3, a count this 2-core machine would not choose by itself.
TEST_CASE("the thread count comes from HL_NUM_THREADS", "[.threads_env]") {
    const char* env = std::getenv("HL_NUM_THREADS");
    REQUIRE(env != nullptr);
    CHECK(constnet::num_threads() == std::atoi(env));
    Model model;
    model.init(5);
    const auto x = random_input(64, 9);
    const auto from_env = model.forward(x);
    CHECK(constnet::set_num_threads(1) == std::atoi(env));  // what the pool was running with
    CHECK(same(model.forward(x), from_env));
}

// Subnormal floats are flushed to zero inside generated code, on the calling
// thread and on the pool's workers (two threads, 4096 images in parallel),
// as set_flush_denormals says, whatever mode the threads had; the caller's
// floating-point mode is left as it was. The average of four subnormals
// 1e-39 is 1e-39 exactly computed; flushed, 0.
TEST_CASE("generated code flushes subnormals to zero, leaving the caller's mode alone", "[aot][concurrency]") {
    constnet::model<d2l::avg_pool_2> pool;
    auto x = decltype(pool)::make_input(4096);
    const float tiny = 1e-39f;
    REQUIRE(std::fpclassify(tiny) == FP_SUBNORMAL);
    std::fill(x.data(), x.data() + x.number_of_elements(), tiny);
    const int threads = constnet::set_num_threads(2);
    const auto mode = [] { return _mm_getcsr() & 0xffc0u; };  // MXCSR's control bits (the rest: status flags)
    const unsigned before = mode();
    auto all = [](const constnet::buffer& y, auto pred) { return std::all_of(y.data(), y.data() + y.number_of_elements(), pred); };
    const auto flushed = [](float v) { return v == 0.0f; };
    const auto exact = [&](float v) { return std::fpclassify(v) == FP_SUBNORMAL && std::abs(v - tiny) < 1e-45f; };
    for (int round = 0; round < 2; ++round) {  // the second round: the workers exist, started in either mode
        CHECK(all(pool.forward(x), flushed));
        CHECK(mode() == before);
        CHECK(constnet::set_flush_denormals(false));  // the default is on
        CHECK(all(pool.forward(x), exact));
        CHECK(mode() == before);
        CHECK_FALSE(constnet::set_flush_denormals(true));
        constnet::set_num_threads(2);  // a new pool for the next round
    }
    // One thread: the parallel loops run on the caller, without the pool.
    constnet::set_num_threads(1);
    CHECK(all(pool.forward(x), flushed));
    CHECK(constnet::set_flush_denormals(false));
    CHECK(all(pool.forward(x), exact));
    CHECK(mode() == before);
    CHECK_FALSE(constnet::set_flush_denormals(true));
    constnet::set_num_threads(threads > 0 ? threads : 1);
}
