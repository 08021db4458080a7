// What constnet installs into the Halide runtime of a program, and how it
// calls generated code:
// - an error handler, so a failing call returns an error code (turned into a
//   constnet::error) instead of printing and calling abort();
// - a caching allocator behind halide_malloc/halide_free, so the intermediate
//   buffers generated code allocates on every call are reused and a repeated
//   call (same shapes) allocates nothing from the system.
// - task hooks that run every parallel task with subnormals flushed to zero
//   (see constnet/threads.hpp; detail::call does the same for the caller),
//   and on one thread every parallel loop on the caller, without the pool.
// All are installed before main (and again, idempotently, by every model),
// so no block from another allocator ever reaches our free.
#include <constnet/memory.hpp>
#include <constnet/threads.hpp>
#include <constnet/model.hpp>

#include <HalideRuntime.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <thread>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace constnet {
namespace {

// The last Halide error message of this thread. A plain array: a thread_local
// with a destructor would allocate on a thread's first call.
constexpr std::size_t message_capacity = 4096;
thread_local char halide_message[message_capacity];

extern "C" void constnet_halide_error(void*, const char* msg) {
    std::size_t n = msg ? std::min(std::strlen(msg), message_capacity - 1) : 0;
    if (n) std::memcpy(halide_message, msg, n);
    while (n && (halide_message[n - 1] == '\n' || halide_message[n - 1] == ' ')) --n;
    halide_message[n] = '\0';
}

// ---- the caching allocator
//
// Blocks come in size classes of four per power of two (at most 25% slack),
// so the buffers of nearby batch sizes share classes. Each thread keeps the
// blocks it frees in its own free lists (no lock, and a thread's calls reuse
// exactly what its previous calls freed: after one call of a shape, the same
// call in the same thread allocates nothing, whatever other threads do). A
// freed block goes to the system instead when its list is full or the thread
// already caches `cache_limit` bytes; a thread's cache is released when the
// thread ends.
// Layout: [header (class index) | padding to `alignment`][user bytes][tail pad]
// Halide wants vector alignment and 8 readable bytes on either side.
constexpr std::size_t alignment = 128;  // beyond AVX-512's 64, and a cache line pair
constexpr std::size_t tail_pad = 64;
constexpr std::size_t cache_limit = std::size_t{1} << 30;
constexpr std::size_t max_request = std::size_t{1} << 60;
constexpr int class_count = 4 * 55;  // classes up to 2^61 bytes: every request up to max_request

std::size_t class_size(int c) {  // c = 4*k + s: (4 + s) * 2^k / 4, k >= 6 (at least 64 bytes)
    const int k = c / 4 + 6, s = c % 4;
    return (std::size_t{4} + s) << (k - 2);
}
int class_of(std::size_t n) {
    n = std::max<std::size_t>(n, 64);
    const int k = std::bit_width(n - 1) - 1;  // 2^k < n <= 2^(k+1)  (n > 64)
    if (k < 6) return 0;
    int c = 4 * (k - 6);
    while (class_size(c) < n) ++c;
    return c;
}
// aligned_alloc wants a multiple of the alignment (C11; ASan checks it).
std::size_t block_bytes(int c) { return (class_size(c) + alignment + tail_pad + alignment - 1) & ~(alignment - 1); }

std::atomic<long> halide_allocations{0}, system_allocations{0};
std::atomic<std::size_t> total_cached{0};

struct thread_cache {
    struct free_list {
        static constexpr int capacity = 8;
        void* blocks[capacity];  // raw pointers (start of the header)
        int size = 0;
    };
    free_list lists[class_count];
    std::size_t cached = 0;
    ~thread_cache() {
        for (int c = 0; c < class_count; ++c)
            for (int k = 0; k < lists[c].size; ++k) std::free(lists[c].blocks[k]);
        total_cached -= cached;
    }
};
// Constant-initialized; its destructor is registered on a thread's first use.
thread_local thread_cache cache;

extern "C" void* constnet_halide_malloc(void*, std::size_t n) {
    if (n > max_request) return nullptr;  // Halide reports the failure
    halide_allocations.fetch_add(1, std::memory_order_relaxed);
    const int c = class_of(n);
    if (auto& list = cache.lists[c]; list.size > 0) {
        cache.cached -= block_bytes(c);
        total_cached -= block_bytes(c);
        return static_cast<char*>(list.blocks[--list.size]) + alignment;
    }
    system_allocations.fetch_add(1, std::memory_order_relaxed);
    void* raw = std::aligned_alloc(alignment, block_bytes(c));
    if (!raw) return nullptr;
    std::memcpy(raw, &c, sizeof c);
    return static_cast<char*>(raw) + alignment;
}

extern "C" void constnet_halide_free(void*, void* p) {
    if (!p) return;
    void* raw = static_cast<char*>(p) - alignment;
    int c = 0;
    std::memcpy(&c, raw, sizeof c);
    auto& list = cache.lists[c];
    if (list.size < thread_cache::free_list::capacity && cache.cached + block_bytes(c) <= cache_limit) {
        list.blocks[list.size++] = raw;
        cache.cached += block_bytes(c);
        total_cached += block_bytes(c);
        return;
    }
    std::free(raw);
}

// ---- subnormals flushed to zero while generated code runs

std::atomic<bool> flush_denormals{true};

// Sets the flush mode constnet's setting asks for (FTZ and DAZ both on, or
// both off) for its lifetime, then restores the thread's mode: whatever mode
// a thread had (a worker inherits its creator's), generated code runs with
// the setting's.
class denormal_scope {
public:
#if defined(__SSE__)
    denormal_scope() : saved_(_mm_getcsr()) {
        constexpr unsigned ftz_daz = 0x8040;  // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero
        const unsigned wanted = flush_denormals.load(std::memory_order_relaxed) ? saved_ | ftz_daz : saved_ & ~ftz_daz;
        active_ = wanted != saved_;
        if (active_) _mm_setcsr(wanted);
    }
    ~denormal_scope() {
        if (active_) _mm_setcsr(saved_);
    }

private:
    unsigned saved_;
    bool active_;
#endif
};

extern "C" int constnet_do_task(void* user_context, halide_task_t f, int idx, uint8_t* closure) {
    const denormal_scope scope;
    return halide_default_do_task(user_context, f, idx, closure);
}

extern "C" int constnet_do_loop_task(void* user_context, halide_loop_task_t f, int min, int extent, uint8_t* closure,
                                     void* task_parent) {
    const denormal_scope scope;
    return halide_default_do_loop_task(user_context, f, min, extent, closure, task_parent);
}

// A parallel loop on one thread runs on the caller, in order, without the
// pool (its lock and task queue took about 2% of LeNet's train step on one
// thread, perf; the step, interleaved, 6.85 / 6.67 / 6.76 -> 6.58 / 6.48 /
// 6.45 ms min); otherwise Halide's pool runs it.
extern "C" int constnet_do_par_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
    if (num_threads() != 1) return halide_default_do_par_for(user_context, f, min, size, closure);
    const denormal_scope scope;
    for (int i = min; i < min + size; ++i)
        if (const int result = f(user_context, i, closure)) return result;
    return 0;
}

void install() {
    halide_set_error_handler(&constnet_halide_error);
    halide_set_custom_do_par_for(&constnet_do_par_for);
    halide_set_custom_do_task(&constnet_do_task);
    halide_set_custom_do_loop_task(&constnet_do_loop_task);
    halide_set_custom_malloc(&constnet_halide_malloc);
    halide_set_custom_free(&constnet_halide_free);
}

// Before main: generated code never runs with another allocator first.
const bool installed_at_startup = (install(), true);

}  // namespace

memory_stats halide_memory_stats() {
    return {halide_allocations.load(), system_allocations.load(), total_cached.load()};
}

namespace {
std::atomic<int> threads_set{0};  // 0: not set by set_num_threads

// Halide's default_desired_num_threads: HL_NUM_THREADS (or HL_NUMTHREADS), else the cores.
int default_threads() {
    for (const char* name : {"HL_NUM_THREADS", "HL_NUMTHREADS"})
        if (const char* v = std::getenv(name); v && std::atoi(v) > 0) return std::atoi(v);
    return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

int num_threads() {
    if (const int t = threads_set.load(std::memory_order_relaxed)) return t;
    static const int by_default = default_threads();  // read once, as Halide does (called per parallel loop)
    return by_default;
}

int set_num_threads(int threads) {
    if (threads < 1) throw error(fmt::format("set_num_threads: expected at least 1 thread, got {}", threads));
    threads_set.store(threads, std::memory_order_relaxed);
    // Halide 14 keeps workers it has started even when told to use fewer
    // (measured: LeNet stayed at two threads' speed after set 2 -> set 1), so
    // the pool is stopped; the next call starts it with the new size.
    halide_shutdown_thread_pool();
    return halide_set_num_threads(threads);
}

bool set_flush_denormals(bool flush) { return flush_denormals.exchange(flush); }

namespace detail {

void install_halide_error_handler() { install(); }

void call(std::string_view network, std::string_view function, int (*fn)(void**), void** args,
          const tensor_shape& expected_input, const halide_buffer_t* input) {
    halide_message[0] = '\0';
    const int status = [&] {
        const denormal_scope scope;
        return fn(args);
    }();
    if (status == 0) return;
    std::string got = input && input->host ? format_extents(*input) : std::string("a buffer without data");
    const char* message = halide_message[0] ? halide_message : "no message";
    // Name the input's shape as the cause only when it is not the expected
    // one (a wrong output or parameter buffer fails with a right input).
    bool input_ok = input && input->host && input->dimensions == expected_input.rank + 1;
    for (int k = 0; input_ok && k < expected_input.rank; ++k)
        input_ok = input->dim[k].extent == expected_input.dims[expected_input.rank - 1 - k];
    if (input_ok)
        throw error(fmt::format("{}.{} failed on an input of {} (the expected shape). Halide: {} (error {})", network,
                                function, got, message, status));
    throw error(fmt::format("{}.{} failed: expected an input of N x {}, got {}. Halide: {} (error {})", network,
                            function, format_shape(expected_input), got, message, status));
}

}  // namespace detail
}  // namespace constnet
