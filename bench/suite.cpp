// constnet's benchmark suite: every case runs constnet's generated code (and,
// for issue 3's cases, the same algorithm scheduled by Halide's Mullapudi2016
// and Li2018 autoschedulers) and oneDNN (plain NCHW, and oneDNN's preferred
// blocked layouts with reorders outside the timed call) side by side, same
// shapes, same weights, same thread count, after checking that they compute
// the same thing. PyTorch's
// figures for the same cases come from bench/run_suite.py, which runs this
// program and merges them into one table.
//
//   constnet_bench [--threads 1,2] [--filter TEXT] [--min-time SECONDS] [--json FILE]
#include "lenet_net.constnet.hpp"
#include "bench_avg_pool_2s2_auto.constnet.hpp"
#include "bench_conv1x1_256_64_auto.constnet.hpp"
#include "bench_conv3x3_128_auto.constnet.hpp"
#include "bench_conv3x3_256_auto.constnet.hpp"
#include "bench_conv3x3_512_auto.constnet.hpp"
#include "bench_conv3x3_64_auto.constnet.hpp"
#include "bench_lenet_auto.constnet.hpp"
#include "bench_lenet_conv1_auto.constnet.hpp"
#include "bench_lenet_conv2_auto.constnet.hpp"
#include "bench_max_pool_3s2p1_auto.constnet.hpp"
#include "bench_avg_pool_2s2_li2018.constnet.hpp"
#include "bench_conv1x1_256_64_li2018.constnet.hpp"
#include "bench_conv3x3_128_li2018.constnet.hpp"
#include "bench_conv3x3_256_li2018.constnet.hpp"
#include "bench_conv3x3_512_li2018.constnet.hpp"
#include "bench_conv3x3_64_li2018.constnet.hpp"
#include "bench_lenet_li2018.constnet.hpp"
#include "bench_lenet_conv1_li2018.constnet.hpp"
#include "bench_lenet_conv2_li2018.constnet.hpp"
#include "bench_max_pool_3s2p1_li2018.constnet.hpp"
#include "bench_avg_pool_2s2.constnet.hpp"
#include "bench_conv1x1_256_64.constnet.hpp"
#include "bench_conv3x3_128.constnet.hpp"
#include "bench_conv3x3_256.constnet.hpp"
#include "bench_conv3x3_512.constnet.hpp"
#include "bench_conv3x3_64.constnet.hpp"
#include "bench_lenet_conv1.constnet.hpp"
#include "bench_lenet_conv2.constnet.hpp"
#include "bench_max_pool_3s2p1.constnet.hpp"
#include "bench_conv3x3_s2_64_128.constnet.hpp"
#include "bench_conv1x1_64_256.constnet.hpp"
#include "bench_conv1x1_s2_256_512.constnet.hpp"
#include "bench_conv5x5_32_64.constnet.hpp"
#include "bench_conv3x3_3_32.constnet.hpp"
#include "bench_conv3x3_96.constnet.hpp"
#include "bench_conv7x7_s2_3_64.constnet.hpp"
#include "onednn.hpp"
#include "peak.hpp"

#include <constnet/threads.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>

namespace {

struct timing {
    double min_s = 0, median_s = 0;
    int reps = 0;
};

// Warm-up, then repetitions until `min_time` has passed (at least 5, at most 10000).
timing measure(const std::function<void()>& f, double min_time) {
    for (int k = 0; k < 3; ++k) f();
    std::vector<double> t;
    double total = 0;
    while ((total < min_time || t.size() < 5) && t.size() < 10000) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        t.push_back(s);
        total += s;
    }
    std::sort(t.begin(), t.end());
    return {t.front(), t[t.size() / 2], static_cast<int>(t.size())};
}

struct result {
    std::string name, impl, kernels;
    int batch = 0, threads = 0;
    double flops = 0;  // per call
    timing time;
};

void randomize(constnet::buffer& b, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::generate_n(b.data(), b.number_of_elements(), [&] { return u(rng); });
}

// Largest |a - b| relative to the largest |b|.
double relative_difference(const constnet::buffer& a, const std::vector<float>& b) {
    double diff = 0, scale = 1e-30;
    for (std::size_t k = 0; k < b.size(); ++k) {
        diff = std::max(diff, double(std::abs(a.data()[k] - b[k])));
        scale = std::max(scale, double(std::abs(b[k])));
    }
    return diff / scale;
}

struct options {
    std::vector<int> threads{1, 2};
    std::string filter;
    double min_time = 0.3;
    std::string json;
};

// A case's network compiled with one of Halide's autoschedulers instead of
// constnet's schedules (bench/CMakeLists.txt), for comparison.
template <const auto& Net, const char* Name>
struct autoscheduled {
    static constexpr const auto& net = Net;
    static constexpr const char* name = Name;
};
inline constexpr char mullapudi2016[] = "Mullapudi2016";
inline constexpr char li2018[] = "Li2018";

// Times an autoscheduled twin of constnet's model `m` on its weights, after
// checking it computes what constnet computed (y).
template <class Auto, class Model>
void time_autoscheduled(const std::string& name, int batch, int threads, double flops, const Model& m,
                        const constnet::buffer& x, const constnet::buffer& y, const options& o,
                        std::vector<result>& out) {
    constnet::model<Auto::net> a;
    for (int k = 0; k < m.parameter_tensors; ++k) a.parameter(k).copy_from(m.parameter(k));
    auto ya = a.make_output(batch);
    try {
        a.forward(x, ya);
    } catch (const constnet::error& e) {
        // The autoschedulers plan for their estimates (a batch of 256) and
        // may tile or vectorize over the batch (Li2018 shifts its tiles of
        // images inwards): at batch 1 the schedule can access outside the
        // buffers, which the generated code refuses. Reported, not timed.
        fmt::print(stderr, "\n{} (batch {}, {} thread(s)): {}'s schedule fails: {}\n", name, batch, threads,
                   Auto::name, e.what());
        return;
    }
    const double diff = relative_difference(ya, std::vector<float>(y.data(), y.data() + y.number_of_elements()));
    if (diff > 1e-4)
        throw std::runtime_error(fmt::format("{} (batch {}): constnet's and {}'s schedules differ by {:.2g} of the "
                                             "output's scale",
                                             name, batch, Auto::name, diff));
    out.push_back({name, Auto::name, "", batch, threads, flops, measure([&] { a.forward(x, ya); }, o.min_time)});
}

// One case: constnet's forward (its own schedules, and the autoscheduled
// twins given) against oneDNN in both layouts.
template <const auto& Net, class... Auto>
void run_case(const std::string& name, int batch, const options& o, std::vector<result>& out) {
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) return;
    constnet::model<Net> m;
    m.init(7, constnet::init_kind::pytorch_default);
    auto x = m.make_input(batch);
    randomize(x, 11);
    auto y = m.make_output(batch);
    std::vector<constnet::buffer> params;
    for (int k = 0; k < m.parameter_tensors; ++k) params.push_back(m.parameter(k));
    double flops = 0;
    for (const auto& d : Net.describe()) flops += double(d.flops()) * batch;

    for (int threads : o.threads) {
        constnet::set_num_threads(threads);
        bench::onednn_set_threads(threads);
        m.forward(x, y);
        out.push_back({name, "constnet", "", batch, threads, flops, measure([&] { m.forward(x, y); }, o.min_time)});
        (time_autoscheduled<Auto>(name, batch, threads, flops, m, x, y, o, out), ...);
        for (bool plain : {false, true}) {
            bench::onednn_net net(Net.describe(), params, batch, plain);
            net.set_input(x);
            net.run();
            const double diff = relative_difference(y, net.output());
            if (diff > 1e-4)
                throw std::runtime_error(fmt::format("{} (batch {}): constnet and oneDNN ({}) differ by {:.2g} of "
                                                     "the output's scale",
                                                     name, batch, plain ? "NCHW" : "blocked", diff));
            out.push_back({name, plain ? "oneDNN NCHW" : "oneDNN best", net.implementation(), batch, threads, flops,
                           measure([&] { net.run(); }, o.min_time)});
        }
        fmt::print(stderr, ".");
    }
}

// A case of the issue's: also with both autoschedulers' twins (the same
// network compiled by Mullapudi2016 and by Li2018).
template <const auto& Net, const auto& Mullapudi, const auto& Li>
void run_issue_case(const std::string& name, int batch, const options& o, std::vector<result>& out) {
    run_case<Net, autoscheduled<Mullapudi, mullapudi2016>, autoscheduled<Li, li2018>>(name, batch, o, out);
}

// The fused LeNet train step (forward, loss, backward, SGD update) at batch
// 256; no oneDNN counterpart (PyTorch's comes from run_suite.py). FLOPs
// counted as three forward passes, the usual estimate.
void run_train_case(const options& o, std::vector<result>& out) {
    const std::string name = "lenet train step";
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) return;
    constexpr int batch = 256;
    constnet::model<lenet> m;
    m.init(3);
    auto x = m.make_input(batch);
    randomize(x, 5);
    constnet::labels y(batch);
    for (int k = 0; k < batch; ++k) y(k) = (k * 7) % 10;
    double flops = 0;
    for (const auto& d : lenet.describe()) flops += 3.0 * d.flops() * batch;
    for (int threads : o.threads) {
        constnet::set_num_threads(threads);
        out.push_back({name, "constnet", "", batch, threads, flops,
                       measure([&] { m.train_step(x, y, constnet::sgd(0.01f)); }, o.min_time)});
    }
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"constnet benchmark suite: constnet vs oneDNN, side by side"};
    options o;
    app.add_option("--threads", o.threads, "Thread counts to run (default 1,2)")->delimiter(',');
    app.add_option("--filter", o.filter, "Only cases whose name contains this");
    app.add_option("--min-time", o.min_time, "Seconds of timed repetitions per measurement (default 0.3)");
    app.add_option("--json", o.json, "Also write the figures to this file");
    CLI11_PARSE(app, argc, argv);

    std::vector<result> results;
    // The issue's cases, each also with its autoscheduled twins.
#define CONSTNET_ISSUE_CASE(layer, net, name, batch) \
    run_issue_case<net, bench::layer##_auto, bench::layer##_li2018>(name, batch, o, results)
    CONSTNET_ISSUE_CASE(lenet, lenet, "lenet forward", 1);
    CONSTNET_ISSUE_CASE(lenet, lenet, "lenet forward", 256);
    run_train_case(o, results);
    for (int n : {1, 32}) {
        CONSTNET_ISSUE_CASE(lenet_conv1, bench::lenet_conv1, "conv 1->6 k5 p2 @28", n);
        CONSTNET_ISSUE_CASE(lenet_conv2, bench::lenet_conv2, "conv 6->16 k5 @14", n);
        CONSTNET_ISSUE_CASE(conv3x3_64, bench::conv3x3_64, "conv3x3 64->64 @56", n);
        CONSTNET_ISSUE_CASE(conv3x3_128, bench::conv3x3_128, "conv3x3 128->128 @28", n);
        CONSTNET_ISSUE_CASE(conv3x3_256, bench::conv3x3_256, "conv3x3 256->256 @14", n);
        CONSTNET_ISSUE_CASE(conv3x3_512, bench::conv3x3_512, "conv3x3 512->512 @7", n);
        CONSTNET_ISSUE_CASE(conv1x1_256_64, bench::conv1x1_256_64, "conv1x1 256->64 @56", n);
        CONSTNET_ISSUE_CASE(max_pool_3s2p1, bench::max_pool_3s2p1, "maxpool 3x3 s2 p1 64@112", n);
        CONSTNET_ISSUE_CASE(avg_pool_2s2, bench::avg_pool_2s2, "avgpool 2x2 s2 64@112", n);
    }
#undef CONSTNET_ISSUE_CASE
    // Further shapes (no targets in the issue; strides, wide kernels, few
    // channels, expanding 1x1): how the schedules generalize.
    for (int n : {1, 32}) {
        run_case<bench::conv3x3_s2_64_128>("conv3x3 s2 64->128 @56", n, o, results);
        run_case<bench::conv1x1_64_256>("conv1x1 64->256 @56", n, o, results);
        run_case<bench::conv1x1_s2_256_512>("conv1x1 s2 256->512 @56", n, o, results);
        run_case<bench::conv5x5_32_64>("conv5x5 32->64 p2 @28", n, o, results);
        run_case<bench::conv3x3_3_32>("conv3x3 3->32 @32", n, o, results);
        run_case<bench::conv3x3_96>("conv3x3 96->96 @27", n, o, results);
    }
    run_case<bench::conv7x7_s2_3_64>("conv7x7 s2 3->64 @224", 1, o, results);
    fmt::print(stderr, "\n");

    std::map<int, bench::peak> peaks;
    for (int t : o.threads) peaks.emplace(t, bench::measure_peak(t));

    fmt::print("{:<26} {:>5} {:>3} {:<13} {:>10} {:>10} {:>8} {:>6} {:>9}\n", "case", "N", "thr", "impl", "min ms",
               "median ms", "GFLOP/s", "%peak", "constnet");
    nlohmann::json j = nlohmann::json::array();
    const result* base = nullptr;
    for (const auto& r : results) {
        if (r.impl == "constnet") base = &r;
        const double gf = r.flops / r.time.min_s / 1e9;
        const double pct = 100.0 * gf / peaks.at(r.threads).gflops;
        // How many times faster constnet is than this implementation (min times).
        const double speedup = r.time.min_s / base->time.min_s;
        fmt::print("{:<26} {:>5} {:>3} {:<13} {:>10.4f} {:>10.4f} {:>8.1f} {:>5.0f}% {:>8.2f}x\n", r.name, r.batch,
                   r.threads, r.impl, r.time.min_s * 1e3, r.time.median_s * 1e3, gf, pct, speedup);
        j.push_back({{"case", r.name}, {"batch", r.batch}, {"threads", r.threads}, {"impl", r.impl},
                     {"kernels", r.kernels}, {"min_ms", r.time.min_s * 1e3}, {"median_ms", r.time.median_s * 1e3},
                     {"reps", r.time.reps}, {"gflops", gf}, {"percent_of_peak", pct},
                     {"constnet_speedup", speedup}});
    }
    for (const auto& [t, p] : peaks) fmt::print("FMA peak ({}, {} thread{}): {:.1f} GFLOP/s\n", p.isa, t, t > 1 ? "s" : "", p.gflops);
    if (!o.json.empty()) {
        nlohmann::json doc{{"results", j}, {"peak", nlohmann::json::object()}};
        for (const auto& [t, p] : peaks) doc["peak"][std::to_string(t)] = {{"isa", p.isa}, {"gflops", p.gflops}};
        std::ofstream(o.json) << doc.dump(1) << "\n";
    }
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
