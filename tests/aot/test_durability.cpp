// No lost work: a checkpoint writer killed mid-write, or failing mid-write,
// leaves the previous checkpoint intact and loadable.
#include "lenet_net.constnet.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <span>
#include <thread>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Model = constnet::model<lenet>;

namespace {
fs::path fresh_dir(const char* name) {
    const auto dir = fs::temp_directory_path() / fmt::format("constnet_test_durability_{}_{}", name, ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}
// Every parameter of version v holds v; a torn file could not hold one v throughout.
void fill(Model& m, float v) {
    for (int k = 0; k < Model::parameter_tensors; ++k) m.parameter(k).fill(v);
}
float version_of(const Model& m) {
    const float v = m.parameter(0).data()[0];
    for (int k = 0; k < Model::parameter_tensors; ++k) {
        const auto& p = m.parameter(k);
        for (const float x : std::span(p.data(), p.number_of_elements()))
            if (x != v) return -1.0f;
    }
    return v;
}
// A fresh directory holding one checkpoint, "lenet.ckpt", of version v.
fs::path first_checkpoint(const char* name, float v) {
    const auto path = fresh_dir(name) / "lenet.ckpt";
    Model m;
    fill(m, v);
    m.save_checkpoint(path);
    return path;
}
}  // namespace

TEST_CASE("a checkpoint writer killed mid-write leaves a complete checkpoint", "[aot][durability]") {
    const auto path = first_checkpoint("kill", 1.0f);
    const auto dir = path.parent_path();
    std::mt19937 rng(42);
    // What the killed writers leave behind are their temporary files, never the
    // checkpoint. Kills land at random points of the writer's loop; writing and
    // fsync take nearly all of its time, so most land mid-write. The rounds go on
    // (up to 64) until one has, else the test would have shown nothing.
    int torn = 0;
    int rounds = 0;
    for (; rounds < 64 && (rounds < 8 || torn == 0); ++rounds) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // the writer: new versions as fast as it can, until killed
            ::close(ready[0]);
            Model w;
            for (int v = 2;; ++v) {
                fill(w, static_cast<float>(v));
                w.save_checkpoint(path);
                if (v == 2) {  // tells the parent it is in its loop (a loaded machine may start it late)
                    const char one = 1;
                    [[maybe_unused]] const auto n = ::write(ready[1], &one, 1);
                    ::close(ready[1]);
                }
            }
        }
        ::close(ready[1]);
        char one = 0;
        const auto got = ::read(ready[0], &one, 1);
        ::close(ready[0]);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        REQUIRE(got == 1);  // the writer saved once before it was killed
        REQUIRE(WIFSIGNALED(status));

        Model r;
        REQUIRE_NOTHROW(r.load_checkpoint(path));  // complete, whichever version it is
        INFO("round " << rounds);
        CHECK(version_of(r) >= 2.0f);
        torn = 0;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path() != path) {
                CHECK_THAT(e.path().filename().string(), Contains("lenet.ckpt.tmp."));
                ++torn;
            }
    }
    INFO(rounds << " rounds");
    CHECK(torn >= 1);
    fs::remove_all(dir);
}

TEST_CASE("a checkpoint write that fails midway keeps the previous checkpoint", "[aot][durability]") {
    const auto path = first_checkpoint("short", 3.0f);
    const auto dir = path.parent_path();
    const auto size = fs::file_size(path);

    // A file size limit makes write(2) stop short with EFBIG, as a full disk would with ENOSPC.
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = size / 2;
    ::setrlimit(RLIMIT_FSIZE, &small);
    Model m;
    fill(m, 4.0f);
    std::string message;
    try {
        m.save_checkpoint(path);
    } catch (const constnet::error& e) {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);

    CHECK_THAT(message, Contains(path.string()) && Contains("File too large"));
    Model r;
    r.load_checkpoint(path);
    CHECK(version_of(r) == 3.0f);
    CHECK(fs::file_size(path) == size);
    int files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
    CHECK(files == 1);  // the failed temporary file was removed
    fs::remove_all(dir);
}
