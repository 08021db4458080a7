// Generated pipelines against naive loops. Each test builds a network
// description at run time (an input node plus layers, shapes filled by
// constnet::infer_shapes), JIT-compiles it with codegen::lower_forward for the
// host and compares with reference.hpp on random inputs and parameters.
//
// Where expected values come from: reference.hpp only (nested loops written
// from the layer definitions, accumulating in double). Random values are
// uniform in [-1, 1] from std::mt19937 seeded with the seed printed in each
// configuration (fixed seeds, listed next to every table below), so a failure
// reproduces exactly.
//
// Tolerance: |got - expected| <= 1e-5 + 1e-5 * |expected| per element; a
// failure prints the configuration and the worst element.
//
// 76 JIT-compiled configurations in all (about 0.2 s each on the host).
#include "reference.hpp"

#include <constnet/codegen/lower.hpp>
#include <constnet/graph.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using constnet::layer_desc;
using constnet::make_shape;
using constnet::op;
using constnet::tensor_shape;
namespace cg = constnet::codegen;
namespace ref = constnet::test::ref;
using Catch::Contains;

// ------------------------------------------------------------- descriptions

using pads = std::array<int, 4>;  // top, bottom, left, right

layer_desc conv(int units, int kh, int kw, int sh = 1, int sw = 1, pads p = {0, 0, 0, 0}, bool bias = true,
                bool flip = false) {
    layer_desc d;
    d.kind = op::conv2d;
    d.units = units;
    d.kh = kh, d.kw = kw, d.sh = sh, d.sw = sw;
    d.pad_top = p[0], d.pad_bottom = p[1], d.pad_left = p[2], d.pad_right = p[3];
    d.bias = bias;
    d.flip = flip;
    return d;
}

layer_desc pool(op kind, int kh, int kw, int sh, int sw, pads p = {0, 0, 0, 0}, bool count_include_pad = true) {
    layer_desc d;
    d.kind = kind;
    d.kh = kh, d.kw = kw, d.sh = sh, d.sw = sw;
    d.pad_top = p[0], d.pad_bottom = p[1], d.pad_left = p[2], d.pad_right = p[3];
    d.count_include_pad = count_include_pad;
    return d;
}

layer_desc plain(op kind) {
    layer_desc d;
    d.kind = kind;
    return d;
}

layer_desc dense(int units, bool bias = true) {
    layer_desc d;
    d.kind = op::dense;
    d.units = units;
    d.bias = bias;
    return d;
}

// An input node and then `layers` in a chain, each fed by the one before
// (inputs {i-1, -1}), shapes filled in by constnet::infer_shapes.
std::vector<layer_desc> make_net(tensor_shape in, const std::vector<layer_desc>& layers) {
    std::vector<layer_desc> nodes;
    layer_desc input;
    input.kind = op::input;
    input.out = in;
    nodes.push_back(input);
    for (const layer_desc& l : layers) {
        layer_desc d = constnet::infer_shapes(l, nodes.back().out);
        d.inputs = {static_cast<int>(nodes.size()) - 1, -1};
        nodes.push_back(d);
    }
    return nodes;
}

std::string shape_text(const tensor_shape& s) {
    return s.rank == 3 ? fmt::format("{}x{}x{}", s.c(), s.h(), s.w()) : fmt::format("{}", s.features());
}

// "batch 3, seed 7: input 3x11x9 -> conv2d(out 4, k 3x5, s 2x3, pad t1 b0 l2 r1, bias, flip) 4x5x3 -> ..."
std::string describe(const std::vector<layer_desc>& nodes, int batch, std::uint32_t seed) {
    std::string s = fmt::format("batch {}, seed {}: input {}", batch, seed, shape_text(nodes[0].out));
    for (std::size_t k = 1; k < nodes.size(); ++k) {
        const layer_desc& d = nodes[k];
        s += fmt::format(" -> {}", constnet::op_name(d.kind));
        auto window = [&] {
            return fmt::format("k {}x{}, s {}x{}, pad t{} b{} l{} r{}", d.kh, d.kw, d.sh, d.sw, d.pad_top, d.pad_bottom,
                               d.pad_left, d.pad_right);
        };
        if (d.kind == op::conv2d)
            s += fmt::format("(out {}, {}, {}{})", d.units, window(), d.bias ? "bias" : "no bias", d.flip ? ", flip" : "");
        else if (d.kind == op::max_pool)
            s += fmt::format("({})", window());
        else if (d.kind == op::avg_pool)
            s += fmt::format("({}, count_include_pad {})", window(), d.count_include_pad);
        else if (d.kind == op::dense)
            s += fmt::format("(out {}, {})", d.units, d.bias ? "bias" : "no bias");
        s += fmt::format(" {}", shape_text(d.out));
    }
    return s;
}

// ---------------------------------------------------------------- parameters

// Per node: weight in PyTorch layout ([out, in, kh, kw] or [out, in]) and bias
// ([out], empty when the layer has none); empty for nodes without parameters.
struct net_params {
    std::vector<std::vector<float>> weight, bias;
};

struct random_values {
    std::mt19937 rng;
    explicit random_values(std::uint32_t seed) : rng(seed) {}
    std::vector<float> operator()(std::size_t count) {
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> v(count);
        for (float& e : v) e = u(rng);
        return v;
    }
};

ref::tensor random_input(const tensor_shape& s, int batch, random_values& rnd) {
    ref::tensor x = s.rank == 3 ? ref::tensor::nchw(batch, s.c(), s.h(), s.w()) : ref::tensor::nf(batch, s.features());
    x.v = rnd(x.v.size());
    return x;
}

net_params random_params(const std::vector<layer_desc>& nodes, random_values& rnd) {
    net_params p;
    p.weight.resize(nodes.size());
    p.bias.resize(nodes.size());
    for (std::size_t k = 0; k < nodes.size(); ++k) {
        if (!nodes[k].has_params()) continue;
        p.weight[k] = rnd(static_cast<std::size_t>(nodes[k].weight_size()));
        if (nodes[k].bias) p.bias[k] = rnd(static_cast<std::size_t>(nodes[k].units));
    }
    return p;
}

// ----------------------------------------------------------------- execution

ref::window window_of(const layer_desc& d) {
    ref::window w;
    w.kh = d.kh, w.kw = d.kw, w.sh = d.sh, w.sw = d.sw;
    w.pt = d.pad_top, w.pb = d.pad_bottom, w.pl = d.pad_left, w.pr = d.pad_right;
    return w;
}

ref::tensor run_reference(const std::vector<layer_desc>& nodes, const ref::tensor& x, const net_params& p) {
    std::vector<ref::tensor> values(nodes.size());
    values[0] = x;
    for (std::size_t k = 1; k < nodes.size(); ++k) {
        const layer_desc& d = nodes[k];
        const ref::tensor& in = values[d.inputs[0]];
        ref::tensor& out = values[k];
        switch (d.kind) {
        case op::conv2d: out = ref::conv2d(in, p.weight[k], p.bias[k], d.units, window_of(d), d.flip); break;
        case op::max_pool: out = ref::pool2d(in, window_of(d), ref::pool_mode::max); break;
        case op::avg_pool:
            out = ref::pool2d(in, window_of(d),
                              d.count_include_pad ? ref::pool_mode::avg_include_pad : ref::pool_mode::avg_exclude_pad);
            break;
        case op::relu: out = ref::relu(in); break;
        case op::sigmoid: out = ref::sigmoid(in); break;
        case op::tanh: out = ref::tanh(in); break;
        case op::flatten: out = ref::flatten(in); break;
        case op::dense: out = ref::dense(in, p.weight[k], p.bias[k], d.units); break;
        case op::softmax: out = ref::softmax(in); break;
        case op::input: throw std::logic_error("input node after the first");
        }
    }
    return values.back();
}

// Halide extents (innermost first) of a batch of `s`: (W, H, C, N) or (F, N).
std::vector<int> batch_extents(const tensor_shape& s, int batch) {
    return s.rank == 3 ? std::vector<int>{s.w(), s.h(), s.c(), batch} : std::vector<int>{s.features(), batch};
}

// Parameter extents in Halide order: conv [out, in, kh, kw] -> (kw, kh, in, out),
// dense [out, in] -> (in, out); the memory layout is the same.
std::vector<int> weight_extents(const layer_desc& d) {
    const auto s = d.weight_shape();
    return d.kind == op::conv2d ? std::vector<int>{s[3], s[2], s[1], s[0]} : std::vector<int>{s[1], s[0]};
}

// PyTorch's [out, rest...] -> [rest..., out], as constnet::model prepares
// the weights layer_desc::output_major_weight() names (an independent loop).
std::vector<float> output_major(const std::vector<float>& w, int out, int pad = 0) {
    const std::size_t rest = w.size() / out, row = out + pad;
    std::vector<float> om(rest * row, std::numeric_limits<float>::quiet_NaN());  // NaN pads: a read would show
    for (int o = 0; o < out; ++o)
        for (std::size_t r = 0; r < rest; ++r) om[r * row + o] = w[o * rest + r];
    return om;
}

// PyTorch's [out, in, kh, 3] -> [in, kh, points, out] with each row's taps
// g0, g1, g2 as Winograd's G g, for F(2, 3) (4 points) or F(4, 3) (6) as
// layer_desc::winograd_outputs() says (G from Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", sections 4.1 and 4.2), as
// constnet::model prepares the weights layer_desc::winograd_rows_weight()
// names (an independent loop), in blocks where
// layer_desc::winograd_blocked_weight() says so.
std::vector<float> winograd_rows(const std::vector<float>& w, const layer_desc& d) {
    const int out = d.units, in = d.in.c(), kh = d.kh;
    const int row = out + d.weight_row_pad();  // each row of outputs then unread floats (none when blocked)
    const double F23[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const double F43[6][3] = {{1 / 4.0, 0, 0},           {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
                              {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};
    const int points = d.winograd_outputs() + 2;
    REQUIRE((points == 4 || points == 6));
    const double(*G)[3] = points == 4 ? F23 : F43;
    // NaN in the pads: a read of them would show in the results
    std::vector<float> u(static_cast<std::size_t>(in) * kh * points * row, std::numeric_limits<float>::quiet_NaN());
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i)
            for (int r = 0; r < kh; ++r)
                for (int e = 0; e < points; ++e) {
                    double v = 0;
                    for (int j = 0; j < 3; ++j) v += G[e][j] * w[((std::size_t(o) * in + i) * kh + r) * 3 + j];
                    // [in, kh, points, out + pad], or [in / 16, out / 64, 4, 16, kh, 64]
                    const std::size_t at =
                        d.winograd_blocked_weight()
                            ? (((((std::size_t(i) / 16 * (out / 64) + o / 64) * 4 + e) * 16 + i % 16) * kh + r) * 64 +
                               o % 64)
                            : ((std::size_t(i) * kh + r) * points + e) * row + o;
                    u[at] = static_cast<float>(v);
                }
    return u;
}

ref::tensor run_halide(const std::vector<layer_desc>& nodes, const ref::tensor& x, net_params p,
                       const cg::lower_options& opt = {}) {
    cg::forward_pipeline pipe = cg::lower_forward(nodes, opt);
    for (std::size_t k = 0; k < nodes.size(); ++k) {
        if (!opt.weights_output_major) continue;
        if (nodes[k].winograd_rows_weight()) p.weight[k] = winograd_rows(p.weight[k], nodes[k]);
        else if (nodes[k].output_major_weight()) p.weight[k] = output_major(p.weight[k], nodes[k].units, nodes[k].weight_row_pad());
    }
    std::vector<float> input = x.v;
    pipe.input.set(Halide::Buffer<float>(input.data(), batch_extents(nodes[0].out, x.n)));
    std::size_t next = 0;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
        if (!nodes[k].has_params()) continue;
        REQUIRE(next < pipe.params.size());
        auto extents = weight_extents(nodes[k]);
        if (opt.weights_output_major && nodes[k].output_major_weight())
            std::rotate(extents.rbegin(), extents.rbegin() + 1, extents.rend());  // the output dimension innermost
        if (opt.weights_output_major && nodes[k].output_major_weight()) extents[0] += nodes[k].weight_row_pad();
        if (opt.weights_output_major && nodes[k].winograd_rows_weight())  // (out + pad, points, kh, in)
            extents[1] = nodes[k].winograd_outputs() + 2;
        if (opt.weights_output_major && nodes[k].winograd_blocked_weight())  // (64, 16 kh, 4 out / 64, in / 16)
            extents = {64, 16 * nodes[k].kh, 4 * nodes[k].units / 64, nodes[k].in.c() / 16};
        pipe.params[next++].set(Halide::Buffer<float>(p.weight[k].data(), extents));
        if (nodes[k].bias) {
            REQUIRE(next < pipe.params.size());
            pipe.params[next++].set(Halide::Buffer<float>(p.bias[k].data(), std::vector<int>{nodes[k].units}));
        }
    }
    REQUIRE(next == pipe.params.size());
    const tensor_shape& s = nodes.back().out;
    // With the passes the generated code gets (the GEMM's prefetches).
    Halide::Buffer<float> out = pipe.pipeline().realize(batch_extents(s, x.n), opt.target);
    ref::tensor y = s.rank == 3 ? ref::tensor::nchw(x.n, s.c(), s.h(), s.w()) : ref::tensor::nf(x.n, s.features());
    REQUIRE(static_cast<std::size_t>(out.number_of_elements()) == y.v.size());
    // Dense output (the pipeline constrains its strides), so memory order is NCHW.
    std::copy(out.data(), out.data() + y.v.size(), y.v.begin());
    return y;
}

// ------------------------------------------------------------------ comparing

constexpr double abs_tol = 1e-5, rel_tol = 1e-5;

struct comparison {
    bool same_shape = false;
    double worst_excess = 0.0;  // max |got - expected| / (abs_tol + rel_tol |expected|); <= 1 passes
    double worst_abs = 0.0;
    std::size_t worst_at = 0;
    float expected = 0, got = 0;
    bool ok() const { return same_shape && worst_excess <= 1.0; }
};

// `scale` widens both tolerances (long reductions through Winograd's transforms).
comparison compare(const ref::tensor& expected, const ref::tensor& got, double scale = 1.0) {
    comparison c;
    c.same_shape = expected.n == got.n && expected.c == got.c && expected.h == got.h && expected.w == got.w &&
                   expected.flat == got.flat && expected.v.size() == got.v.size();
    if (!c.same_shape) return c;
    for (std::size_t e = 0; e < got.v.size(); ++e) {
        const double d = std::fabs(double(got.v[e]) - double(expected.v[e]));
        double excess = d / (scale * (abs_tol + rel_tol * std::fabs(double(expected.v[e]))));
        if (!(excess == excess)) excess = std::numeric_limits<double>::infinity();  // NaN fails
        if (excess > c.worst_excess || (e == 0 && excess >= c.worst_excess)) {
            c.worst_excess = excess, c.worst_abs = d, c.worst_at = e;
            c.expected = expected.v[e], c.got = got.v[e];
        }
    }
    return c;
}

std::string element_name(const ref::tensor& t, std::size_t e) {
    if (t.flat) return fmt::format("[n={}, f={}]", e / t.c, e % t.c);
    const std::size_t x = e % t.w, y = e / t.w % t.h, c = e / (std::size_t(t.w) * t.h) % t.c,
                      n = e / (std::size_t(t.w) * t.h * t.c);
    return fmt::format("[n={}, c={}, y={}, x={}]", n, c, y, x);
}

std::string report(const comparison& c, const ref::tensor& expected, const ref::tensor& got) {
    if (!c.same_shape)
        return fmt::format("shape mismatch: expected {}x{}x{}x{} (flat {}), got {}x{}x{}x{} (flat {})", expected.n,
                           expected.c, expected.h, expected.w, expected.flat, got.n, got.c, got.h, got.w, got.flat);
    return fmt::format("worst error {:.3g} at {}: expected {:.9g}, got {:.9g} ({:.3g} x tolerance)", c.worst_abs,
                       element_name(expected, c.worst_at), c.expected, c.got, c.worst_excess);
}

// Random input and parameters from `seed`, reference vs generated pipeline.
void check_network(const std::vector<layer_desc>& nodes, int batch, std::uint32_t seed,
                   const cg::lower_options& opt = {}, double tolerance_scale = 1.0) {
    const std::string config = describe(nodes, batch, seed);
    INFO(config);
    random_values rnd(seed);
    const ref::tensor x = random_input(nodes[0].out, batch, rnd);
    const net_params p = random_params(nodes, rnd);
    const ref::tensor expected = run_reference(nodes, x, p);
    // infer_shapes' output-size formula against the reference's window count.
    const tensor_shape& s = nodes.back().out;
    CHECK(expected.c == s.dims[0]);
    if (s.rank == 3) CHECK((expected.h == s.h() && expected.w == s.w()));
    ref::tensor got;
    REQUIRE_NOTHROW(got = run_halide(nodes, x, p, opt));
    const comparison c = compare(expected, got, tolerance_scale);
    INFO(report(c, expected, got));
    CHECK(c.ok());
}

// How many random configurations a randomized test draws: `fallback`, or
// CONSTNET_CODEGEN_RANDOM_CONFIGS for a longer hunt (the same seeds, so the
// default run is a prefix of a longer one).
int random_configs(int fallback) {
    const char* v = std::getenv("CONSTNET_CODEGEN_RANDOM_CONFIGS");
    return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// Runs `check` with `base` retargeted to AVX2 and to SSE4.1 (narrower
// vectors, fewer registers), as a multi-target library's fallbacks run on
// any x86-64 CPU with those features; warns where this CPU lacks them.
template <class Check>
void for_narrower_targets(const cg::lower_options& base, Check check) {
    using F = Halide::Target::Feature;
    const std::vector<std::pair<const char*, std::vector<F>>> targets{
        {"x86-64-linux-avx-avx2-f16c-fma-sse41", {F::AVX, F::AVX2, F::F16C, F::FMA, F::SSE41}},
        {"x86-64-linux-sse41", {F::SSE41}}};
    for (const auto& [t, features] : targets) {
        cg::lower_options narrow = base;
        narrow.target = Halide::Target(t);
        if (!cg::host_target().features_all_of(features)) {
            WARN("not run: this CPU lacks " << t);
            continue;
        }
        INFO("target " << t);
        check(narrow);
    }
}

// Valid random pads/kernels: resample until the kernel fits the padded input.
int pick(std::mt19937& g, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }

// ========================================================================= conv2d

// Hand-picked conv2d configurations; the seed of row r is 100 + r.
struct conv_case {
    tensor_shape in;
    int batch;
    layer_desc layer;
};

TEST_CASE("conv2d matches naive cross-correlation on hand-picked shapes", "[codegen][conv2d]") {
    const std::vector<conv_case> cases{
        // 1x1 kernels (d2l's channel mixing), with and without stride and bias
        {make_shape(3, 6, 10), 2, conv(5, 1, 1)},
        {make_shape(4, 7, 9), 1, conv(3, 1, 1, 2, 2, {0, 0, 0, 0}, false)},
        // d2l 7.3: k 3x5 with padding 2x1 style asymmetry and stride 3x4 / 2x3
        {make_shape(2, 9, 13), 3, conv(3, 3, 5, 1, 1, {1, 1, 2, 2})},
        {make_shape(2, 13, 17), 2, conv(4, 3, 5, 2, 3, {1, 1, 2, 2})},
        {make_shape(1, 8, 8), 1, conv(1, 3, 5, 3, 4, {0, 0, 1, 1})},
        // asymmetric padding: top 1, bottom 0, left 2, right 1
        {make_shape(3, 11, 9), 3, conv(4, 3, 3, 1, 1, {1, 0, 2, 1})},
        {make_shape(2, 10, 12), 1, conv(6, 4, 2, 2, 1, {0, 3, 1, 0})},
        // stride with sh != sw, kh != kw
        {make_shape(3, 14, 11), 2, conv(2, 2, 4, 3, 1)},
        // flipped kernel (true convolution), with and without bias / stride
        {make_shape(2, 7, 9), 1, conv(3, 3, 2, 1, 1, {0, 0, 0, 0}, true, true)},
        {make_shape(3, 9, 12), 3, conv(4, 3, 3, 2, 2, {1, 1, 1, 1}, false, true)},
        // output width below the vector width (8 floats on AVX2, 16 on AVX-512)
        {make_shape(3, 5, 5), 1, conv(2, 3, 3)},           // out width 3
        {make_shape(1, 6, 1), 3, conv(2, 3, 1, 1, 1, {1, 1, 0, 0})},  // out width 1
        {make_shape(2, 9, 9), 2, conv(5, 3, 3, 1, 1, {1, 1, 0, 0})},  // out width 7
        // widths at and above the vector width, not multiples of it
        {make_shape(2, 6, 10), 2, conv(3, 3, 3)},                      // out width 8
        {make_shape(2, 5, 19), 3, conv(4, 3, 3, 1, 1, {1, 1, 0, 0})},  // out width 17
        {make_shape(2, 9, 39), 3, conv(3, 3, 3)},                      // out width 37
        {make_shape(1, 4, 35), 1, conv(2, 1, 3, 1, 1, {0, 0, 0, 0}, false)},  // out width 33
        // several channels: out channels divisible by 4 and prime; tall outputs
        {make_shape(8, 7, 7), 2, conv(12, 3, 3, 1, 1, {1, 1, 1, 1})},
        {make_shape(5, 15, 10), 1, conv(7, 3, 3, 1, 1, {1, 1, 1, 1})},
        // a single row
        {make_shape(2, 1, 20), 2, conv(3, 1, 3, 1, 2, {0, 0, 1, 1})},
    };
    for (std::size_t r = 0; r < cases.size(); ++r) {
        INFO("row " << r);
        check_network(make_net(cases[r].in, {cases[r].layer}), cases[r].batch, 100 + static_cast<std::uint32_t>(r));
    }
}

// Random conv2d shapes. Shapes are drawn from std::mt19937 seeded 2024; the
// values of configuration r from seed 200 + r.
TEST_CASE("conv2d matches naive cross-correlation on random shapes", "[codegen][conv2d]") {
    std::mt19937 g(2024);
    for (int r = 0, count = random_configs(8); r < count; ++r) {
        const int c = pick(g, 1, 5), h = pick(g, 1, 14), w = pick(g, 1, 24);
        layer_desc d = conv(pick(g, 1, 7), pick(g, 1, 5), pick(g, 1, 5), pick(g, 1, 3), pick(g, 1, 3),
                            {pick(g, 0, 2), pick(g, 0, 2), pick(g, 0, 3), pick(g, 0, 3)}, pick(g, 0, 1) == 1,
                            pick(g, 0, 1) == 1);
        if (h + d.pad_top + d.pad_bottom < d.kh || w + d.pad_left + d.pad_right < d.kw) {
            --r;  // kernel does not fit: draw again
            continue;
        }
        check_network(make_net(make_shape(c, h, w), {d}), pick(g, 1, 3), 200 + static_cast<std::uint32_t>(r));
    }
}

// The design's claim: flip = true with kernel K is cross-correlation with K
// turned by 180 degrees. Both pipelines are generated and compared with each
// other (values: seed 300) and with the reference.
// Row-major convs strided along the rows read their padded input split into
// phases of columns (node_funcs::phased): rows of whole vectors and a
// partial one, strides 2 and 3, padding or none (the phases' columns read
// past the row), a flipped kernel, kernels wider than the stride (a stem
// like ResNet's, 7x7 stride 2), against the naive loops. Seeds 260 + k.
TEST_CASE("strided row-major convs read phases of columns and match", "[codegen][conv2d][schedule]") {
    const std::vector<std::pair<tensor_shape, layer_desc>> cases{
        {make_shape(3, 45, 71), conv(16, 7, 7, 2, 2, {3, 3, 3, 3})},                     // 36 outputs per row
        {make_shape(2, 20, 50), conv(8, 3, 3, 1, 3, {0, 0, 0, 0}, false)},               // 16, no padding
        {make_shape(3, 17, 40), conv(5, 5, 4, 2, 2, {1, 2, 1, 0}, true, true)},          // flipped
        {make_shape(1, 9, 66), conv(4, 1, 2, 1, 2)},                                     // kernel = stride
    };
    std::uint32_t seed = 260;
    for (const auto& [shape, d] : cases) {
        // PyTorch-layout weights (the default options): row-major tiles
        check_network(make_net(shape, {d, plain(op::relu)}), 2, seed++);
    }
    // The AVX2 and SSE4.1 schedules (8 and 4 lanes)
    for_narrower_targets({}, [&](const cg::lower_options& narrow) {
        check_network(make_net(cases[0].first, {cases[0].second}), 1, 259, narrow);
    });
}

TEST_CASE("conv2d flip equals cross-correlation with the kernel turned 180 degrees", "[codegen][conv2d]") {
    const auto flipped = make_net(make_shape(2, 6, 11), {conv(3, 3, 4, 1, 2, {1, 0, 0, 2}, true, true)});
    auto plain_net = flipped;
    plain_net[1].flip = false;
    random_values rnd(300);
    const ref::tensor x = random_input(flipped[0].out, 2, rnd);
    const net_params p = random_params(flipped, rnd);
    net_params turned = p;
    const layer_desc& d = flipped[1];
    for (int o = 0; o < d.units; ++o)
        for (int ic = 0; ic < d.in.c(); ++ic)
            for (int a = 0; a < d.kh; ++a)
                for (int b = 0; b < d.kw; ++b) {
                    auto at = [&](int aa, int bb) { return ((std::size_t(o) * d.in.c() + ic) * d.kh + aa) * d.kw + bb; };
                    turned.weight[1][at(a, b)] = p.weight[1][at(d.kh - 1 - a, d.kw - 1 - b)];
                }
    INFO(describe(flipped, 2, 300));
    const ref::tensor a = run_halide(flipped, x, p), b = run_halide(plain_net, x, turned);
    const comparison same = compare(a, b);
    INFO("flip = true vs flip = false with the turned kernel: " << report(same, a, b));
    CHECK(same.ok());
    const ref::tensor expected = run_reference(flipped, x, p);
    const comparison vs_ref = compare(expected, a);
    INFO("flip = true vs the reference: " << report(vs_ref, expected, a));
    CHECK(vs_ref.ok());
}

// ========================================================================= pools

// Hand-picked pools (seed of row r: 400 + r) and random ones (shapes from
// std::mt19937 seeded 4242, values from seed 500 + r). Padding stays within
// PyTorch's rule (pad <= kernel / 2), so no window lies wholly in the padding.
TEST_CASE("pooling matches naive pool2d", "[codegen][pool]") {
    const bool incl = true, excl = false;
    const std::vector<conv_case> cases{
        {make_shape(2, 8, 8), 2, pool(op::max_pool, 2, 2, 2, 2)},                     // d2l
        {make_shape(3, 11, 9), 3, pool(op::max_pool, 3, 3, 2, 2, {1, 1, 1, 1})},
        {make_shape(2, 8, 13), 2, pool(op::max_pool, 2, 3, 2, 3, {0, 0, 1, 1})},
        {make_shape(3, 5, 21), 1, pool(op::max_pool, 3, 3, 1, 1, {1, 1, 1, 1})},       // out width 21
        {make_shape(1, 6, 7), 2, pool(op::max_pool, 2, 2, 1, 1, {0, 1, 1, 0})},        // asymmetric padding
        {make_shape(2, 9, 4), 1, pool(op::max_pool, 3, 1, 3, 1)},
        {make_shape(3, 11, 9), 3, pool(op::avg_pool, 3, 3, 2, 2, {1, 1, 1, 1}, incl)},
        {make_shape(2, 7, 12), 2, pool(op::avg_pool, 2, 3, 1, 2, {1, 1, 0, 1}, incl)},
        {make_shape(4, 8, 18), 1, pool(op::avg_pool, 2, 2, 2, 2, {0, 0, 0, 0}, incl)},
        {make_shape(3, 11, 9), 3, pool(op::avg_pool, 3, 3, 2, 2, {1, 1, 1, 1}, excl)},
        {make_shape(2, 9, 10), 2, pool(op::avg_pool, 3, 2, 2, 1, {1, 1, 1, 0}, excl)},
        {make_shape(1, 7, 30), 1, pool(op::avg_pool, 5, 5, 3, 3, {2, 2, 2, 2}, excl)},
    };
    for (std::size_t r = 0; r < cases.size(); ++r) {
        INFO("row " << r);
        check_network(make_net(cases[r].in, {cases[r].layer}), cases[r].batch, 400 + static_cast<std::uint32_t>(r));
    }
    std::mt19937 g(4242);
    for (int r = 0, count = random_configs(6); r < count; ++r) {
        const op kind = r % 3 == 0 ? op::max_pool : op::avg_pool;
        const int kh = pick(g, 1, 4), kw = pick(g, 1, 4);
        layer_desc d = pool(kind, kh, kw, pick(g, 1, 3), pick(g, 1, 3),
                            {pick(g, 0, kh / 2), pick(g, 0, kh / 2), pick(g, 0, kw / 2), pick(g, 0, kw / 2)}, r % 3 == 1);
        const int c = pick(g, 1, 4), h = pick(g, kh, 13), w = pick(g, kw, 26);
        INFO("random row " << r);
        check_network(make_net(make_shape(c, h, w), {d}), pick(g, 1, 3), 500 + static_cast<std::uint32_t>(r));
    }
}

// ========================================================================= activations

// Seeds 600 + r.
TEST_CASE("activations match on rank-3 and flat inputs", "[codegen][activation]") {
    const op kinds[] = {op::relu, op::sigmoid, op::tanh};
    std::uint32_t seed = 600;
    for (op k : kinds) {
        check_network(make_net(make_shape(3, 5, 11), {plain(k)}), 2, seed++);
        check_network(make_net(make_shape(19), {plain(k)}), 3, seed++);
    }
}

// ========================================================================= flatten, dense, softmax

// Seeds 700 + r, 710 + r and 720 + r per section.
TEST_CASE("flatten and dense match", "[codegen][dense]") {
    SECTION("flatten then dense reads the spatial source") {
        std::uint32_t seed = 700;
        check_network(make_net(make_shape(3, 4, 5), {plain(op::flatten), dense(10)}), 2, seed++);
        check_network(make_net(make_shape(2, 3, 9), {plain(op::flatten), dense(1, false)}), 1, seed++);
        check_network(make_net(make_shape(4, 5, 3), {plain(op::flatten), dense(37)}), 3, seed++);  // 37 > 2 vectors
    }
    SECTION("dense on a flat input") {
        std::uint32_t seed = 710;
        check_network(make_net(make_shape(23), {dense(5)}), 3, seed++);
        check_network(make_net(make_shape(40), {dense(24, false)}), 2, seed++);
        check_network(make_net(make_shape(7), {dense(16), dense(3)}), 1, seed++);
    }
    SECTION("flatten on its own, before an activation, and of a flat input; no layers at all") {
        std::uint32_t seed = 720;
        check_network(make_net(make_shape(3, 4, 5), {plain(op::flatten)}), 2, seed++);
        check_network(make_net(make_shape(2, 3, 7), {plain(op::flatten), plain(op::relu), dense(6)}), 2, seed++);
        check_network(make_net(make_shape(9), {plain(op::flatten)}), 2, seed++);
        check_network(make_net(make_shape(9), {plain(op::flatten), dense(4)}), 2, seed++);
        check_network(make_net(make_shape(2, 3, 4), {}), 2, seed++);  // the input node alone
    }
}

// Seeds 800 + r.
TEST_CASE("softmax matches", "[codegen][softmax]") {
    check_network(make_net(make_shape(10), {plain(op::softmax)}), 3, 800);
    check_network(make_net(make_shape(2, 3, 3), {plain(op::flatten), dense(3), plain(op::softmax)}), 2, 801);
}

// ========================================================================= chains

// Seeds 900 + r.
TEST_CASE("multi-layer chains match", "[codegen][chain]") {
    SECTION("conv -> relu -> max_pool -> flatten -> dense -> softmax") {
        check_network(make_net(make_shape(2, 12, 14), {conv(4, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu),
                                                       pool(op::max_pool, 2, 2, 2, 2), plain(op::flatten), dense(10),
                                                       plain(op::softmax)}),
                      3, 900);
    }
    SECTION("conv -> sigmoid -> avg_pool") {
        check_network(make_net(make_shape(1, 12, 12), {conv(6, 5, 5, 1, 1, {2, 2, 2, 2}), plain(op::sigmoid),
                                                       pool(op::avg_pool, 2, 2, 2, 2)}),
                      2, 901);
    }
    SECTION("LeNet-like with tanh, asymmetric padding and count_include_pad false") {
        check_network(make_net(make_shape(2, 13, 17),
                               {conv(5, 3, 3, 1, 1, {1, 0, 1, 2}), plain(op::tanh), conv(4, 3, 2, 2, 1),
                                plain(op::relu), pool(op::avg_pool, 3, 3, 2, 2, {1, 1, 1, 1}, false),
                                plain(op::flatten), dense(12), plain(op::sigmoid), dense(5)}),
                      2, 902);
    }
    SECTION("pool -> activation groups, conv -> conv, flatten as the last node") {
        check_network(make_net(make_shape(3, 11, 19), {pool(op::max_pool, 3, 3, 1, 2, {1, 1, 1, 1}), plain(op::tanh),
                                                       conv(4, 3, 3, 1, 1, {0, 0, 0, 0}, false),
                                                       conv(3, 2, 2, 2, 1, {1, 0, 0, 1}), plain(op::flatten)}),
                      3, 903);
    }
    SECTION("two activations in one group, avg_pool -> relu") {
        check_network(make_net(make_shape(2, 9, 10), {plain(op::relu), plain(op::sigmoid),
                                                      pool(op::avg_pool, 2, 3, 2, 2, {1, 0, 1, 1}, false),
                                                      plain(op::relu)}),
                      2, 904);
    }
}

// ========================================================================= schedules

// Random channel-major convs (C_out a multiple of 8, data within the 32 KiB
// rule), alone or followed by an activation, a pool and a dense layer.
// Shapes from std::mt19937 seeded 2025; values of configuration r from seed
// 1200 + r.
TEST_CASE("channel-major convs match on random shapes", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    std::mt19937 g(2025);
    for (int r = 0, count = random_configs(8); r < count; ++r) {
        const int c = pick(g, 1, 6), h = pick(g, 1, 16), w = pick(g, 1, 20);
        layer_desc d = conv(8 * pick(g, 1, 4), pick(g, 1, 5), pick(g, 1, 5), pick(g, 1, 3), pick(g, 1, 3),
                            {pick(g, 0, 2), pick(g, 0, 2), pick(g, 0, 3), pick(g, 0, 3)}, pick(g, 0, 1) == 1,
                            pick(g, 0, 1) == 1);
        if (h + d.pad_top + d.pad_bottom < d.kh || w + d.pad_left + d.pad_right < d.kw) {
            --r;  // kernel does not fit: draw again
            continue;
        }
        std::vector<layer_desc> layers{d};
        if (pick(g, 0, 1) == 1) layers.push_back(plain(op::relu));
        auto nodes = make_net(make_shape(c, h, w), layers);
        if (!nodes[1].output_major_weight()) {
            --r;  // over the 32 KiB rule: a row-major conv, drawn again
            continue;
        }
        // A dense consumer (channel-major storage) when its sum is short
        // enough for the float tolerance: over a few hundred random terms
        // the summation order alone moves the result by ~1e-4 relative.
        if (layers.size() == 2 && nodes[1].out.size() <= 96) {
            layers.insert(layers.end(), {plain(op::flatten), dense(pick(g, 1, 9))});
            nodes = make_net(make_shape(c, h, w), layers);
        }
        check_network(nodes, pick(g, 1, 8), 1200 + static_cast<std::uint32_t>(r), om);
    }
}

// Convs with many input channels (multiples of 16 from 32) reduce over them
// in blocks of 16, accumulating each block's image (or row) in memory, rows
// computed to a multiple of the tile width: random shapes (rows the tile
// does not divide, strides, padding) against the naive loops. Seeds 1250 + r.
TEST_CASE("channel-major convs over blocks of input channels match", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    std::mt19937 g(2026);
    for (int r = 0, count = random_configs(6); r < count; ++r) {
        const int c = 16 * pick(g, 2, 4), h = pick(g, 1, 12), w = pick(g, 1, 20);
        layer_desc d = conv(8 * pick(g, 1, 4), pick(g, 1, 3), pick(g, 1, 3), pick(g, 1, 2), pick(g, 1, 2),
                            {pick(g, 0, 1), pick(g, 0, 1), pick(g, 0, 1), pick(g, 0, 1)}, pick(g, 0, 1) == 1,
                            false);
        if (h + d.pad_top + d.pad_bottom < d.kh || w + d.pad_left + d.pad_right < d.kw) {
            --r;  // kernel does not fit: draw again
            continue;
        }
        const auto nodes = make_net(make_shape(c, h, w), {d, plain(op::relu)});
        if (!nodes[1].output_major_weight()) {
            --r;  // a row-major conv: drawn again
            continue;
        }
        // (3 taps of stride 1 are Winograd F(4, 3): its tolerance, see the Winograd rows' test)
        check_network(nodes, pick(g, 1, 3), 1250 + static_cast<std::uint32_t>(r), om,
                      nodes[1].winograd_outputs() == 4 ? 4.0 : 1.0);
    }
    // Rows that the tile width does not divide are computed wider, but not
    // without padding: the tiles would read past the input's row (as they
    // did: "Input buffer input is accessed at 29"). Both outputs are 29
    // columns, a prime.
    for (const auto& [w, k] : {std::pair{29, 1}, std::pair{33, 5}}) {  // direct convs (5 taps: not Winograd)
        // (two rows: 58 pixels, too few for a 1x1 conv's matrix product; 64
        // input channels: enough multiply-adds per output to be channel-major)
        const auto nodes = make_net(make_shape(64, 2, w), {conv(16, 1, k)});
        REQUIRE(nodes[1].output_major_weight());
        check_network(nodes, 1, 1249, om);
    }
}

// 3-wide convs of stride 1 along the rows with many input channels run as
// Winograd F(4, 3) along the rows (F(2, 3) for flipped kernels and small
// images): widths of every remainder by 4 (the last tile partly outside),
// every padding, vertical strides, kernel heights 1-3, flipped kernels,
// with and without bias, against the naive loops (direct multiply-adds in
// double). Seeds 1300 + r. F(4, 3)'s float32 sums err about 4x F(2, 3)'s
// (its output transform scales the products at +-2 by up to 8): simulated
// with numpy over 6 x 256 outputs of 1152 terms (inputs and weights uniform
// in [-1, 1]) against double, rms 1.3e-5 vs 4.9e-6, worst 8.6e-5 vs 2.1e-5;
// the tolerance here is 4x the direct sum's (12x for 1152 terms).
TEST_CASE("3-tap convs as Winograd rows match the direct convolution", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    std::mt19937 g(2027);
    int winograd = 0;
    for (int r = 0, count = random_configs(6); r < count; ++r) {
        const int c = 16 * pick(g, 2, 4), h = pick(g, 1, 14), w = pick(g, 1, 33);
        layer_desc d = conv(8 * pick(g, 1, 4), pick(g, 1, 3), 3, pick(g, 1, 2), 1,
                            {pick(g, 0, 1), pick(g, 0, 1), pick(g, 0, 1), pick(g, 0, 1)}, pick(g, 0, 1) == 1,
                            pick(g, 0, 1) == 1);
        if (h + d.pad_top + d.pad_bottom < d.kh || w + d.pad_left + d.pad_right < d.kw) {
            --r;  // kernel does not fit: draw again
            continue;
        }
        const auto nodes = make_net(make_shape(c, h, w), {d, plain(op::relu)});
        if (!nodes[1].winograd_rows_weight()) {
            --r;  // not a Winograd conv: drawn again
            continue;
        }
        ++winograd;
        check_network(nodes, pick(g, 1, 2), 1300 + static_cast<std::uint32_t>(r), om, 4.0);
    }
    CHECK(winograd == random_configs(6));  // every draw ran (the others were redrawn)
    // Widths 1 to 9 (every remainder by F(4, 3)'s 4 outputs, tiles past the
    // row), F(4, 3) with and without bias, F(2, 3) flipped.
    for (int w = 1; w <= 9; ++w) {
        const bool flip = w % 3 == 0;
        const auto net =
            make_net(make_shape(32, 3, w), {conv(16, 3, 3, 1, 1, {1, 1, 1, 1}, w % 2 == 1, flip), plain(op::relu)});
        REQUIRE(net[1].winograd_rows_weight());
        CHECK(net[1].winograd_outputs() == (flip || net[1].winograd_blocked_weight() ? 2 : 4));
        check_network(net, 2, 1310 + static_cast<std::uint32_t>(w), om, 4.0);
    }
    // Weights beyond the L2 budget (256 KiB: 128 x 64 x 3 x 3 floats are 288):
    // the blocks of output channels outside the rows, with the products for
    // the whole image (small images: all channels at once; 14 x 14, 28 x 28)
    // or per row (56 x 56, its products beyond 256 KiB); and the direct
    // conv's channel blocks the same way (stride 2).
    for (const auto& [h, w, sw] :
         {std::tuple{5, 7, 1}, std::tuple{14, 14, 1}, std::tuple{28, 28, 1}, std::tuple{56, 56, 1}, std::tuple{9, 11, 2}}) {
        const auto big = make_net(make_shape(128, h, w), {conv(64, 3, 3, 1, sw, {1, 1, 1, 1}), plain(op::relu)});
        REQUIRE(big[1].output_major_weight());
        CHECK(big[1].winograd_rows_weight() == (sw == 1));
        CHECK(big[1].winograd_blocked_weight() == (sw == 1 && h == 5));  // 4 x 5 pairs: weights in blocks
        // 1152 products per output: float32 sums of Winograd's transformed
        // terms (F(2, 3)'s up to twice the direct ones, the outputs their
        // differences) err up to 2e-5 (F(2, 3)) and 1e-4 (F(4, 3)) here, the
        // direct loop's within 1e-5.
        // 5 x 7: images computed 4 at a time (a whole group and one more)
        check_network(big, h == 5 ? 5 : 1, 1290 + static_cast<std::uint32_t>(h), om, h == 5 ? 4.0 : 12.0);
    }
    // Weights in blocks: 128 output channels (two blocks), a true
    // convolution without bias, kernel heights 1 and 2, a vertical stride;
    // batches of 5 and 2 (images computed 4 at a time: a whole group and a
    // partial one, a partial one alone).
    for (const auto& [kh, sh, flip, batch] :
         {std::tuple{3, 1, true, 5}, std::tuple{1, 1, false, 2}, std::tuple{2, 2, false, 5}}) {
        const auto net =
            make_net(make_shape(32, 6, 5), {conv(128, kh, 3, sh, 1, {1, 1, 1, 1}, !flip, flip), plain(op::relu)});
        REQUIRE(net[1].winograd_blocked_weight());
        check_network(net, batch, 1280 + static_cast<std::uint32_t>(kh), om);
    }
    // The AVX2 and SSE4.1 schedules (8 and 4 lanes, fewer registers).
    for_narrower_targets(om, [](const cg::lower_options& narrow) {
        const auto net = make_net(make_shape(48, 7, 13), {conv(24, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu)});
        REQUIRE(net[1].winograd_rows_weight());
        check_network(net, 2, 1298, narrow, 4.0);
        const auto blocked = make_net(make_shape(32, 7, 7), {conv(64, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu)});
        REQUIRE(blocked[1].winograd_blocked_weight());
        check_network(blocked, 2, 1297, narrow);
    });
    // Unscheduled (and autoscheduled) pipelines compute it directly, from
    // the taps recovered from the transformed weights (F(4, 3): g1 = 3 (U2 -
    // U1); F(2, 3), blocked: g1 = U1 - U2).
    cg::lower_options unscheduled = om;
    unscheduled.schedule = false;
    const auto net = make_net(make_shape(32, 5, 9), {conv(16, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu)});
    REQUIRE(net[1].winograd_outputs() == 4);
    check_network(net, 2, 1299, unscheduled);
    const auto blocked = make_net(make_shape(32, 5, 9), {conv(64, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu)});
    REQUIRE(blocked[1].winograd_blocked_weight());
    check_network(blocked, 2, 1296, unscheduled);
    // and the rule: 3 taps, stride 1 along rows, input channels in blocks of 16
    const auto lay = [](int c, int h, int w, layer_desc d) { return make_net(make_shape(c, h, w), {d})[1]; };
    CHECK(lay(64, 56, 56, conv(64, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_rows_weight());
    CHECK(lay(512, 7, 7, conv(512, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_rows_weight());
    CHECK_FALSE(lay(64, 56, 56, conv(64, 3, 3, 1, 2, {1, 1, 1, 1})).winograd_rows_weight());  // stride 2 along rows
    CHECK_FALSE(lay(24, 56, 56, conv(64, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_rows_weight());  // 24 input channels
    // in blocks: output channels in 64s, fewer than 64 pairs of output pixels
    CHECK(lay(512, 7, 7, conv(512, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_blocked_weight());  // 4 x 7 pairs
    CHECK_FALSE(lay(256, 14, 14, conv(256, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_blocked_weight());  // 7 x 14
    CHECK_FALSE(lay(512, 7, 7, conv(480, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_blocked_weight());  // 480 outputs
    CHECK(lay(512, 7, 7, conv(512, 3, 3, 1, 1, {1, 1, 1, 1})).forward_weight_extents(true) ==
          std::array{64, 48, 32, 32});
    // unblocked: each row of output channels followed by 16 unread floats
    CHECK(lay(256, 14, 14, conv(256, 3, 3, 1, 1, {1, 1, 1, 1})).forward_weight_extents(true) ==
          std::array{272, 6, 3, 256});  // F(4, 3): 6 points
    CHECK(lay(256, 14, 14, conv(256, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_outputs() == 4);
    CHECK(lay(512, 7, 7, conv(512, 3, 3, 1, 1, {1, 1, 1, 1})).winograd_outputs() == 2);  // blocked
    CHECK(lay(256, 14, 14, conv(256, 3, 3, 1, 1, {1, 1, 1, 1}, true, true)).winograd_outputs() == 2);  // flipped
    CHECK(lay(256, 14, 14, conv(256, 3, 3, 1, 1, {1, 1, 1, 1}, true, true)).forward_weight_extents(true) ==
          std::array{272, 4, 3, 256});
    // direct output-major convs: rows 512 bytes apart get the pad, 96 channels (384 bytes) not
    CHECK(lay(64, 56, 56, conv(128, 3, 3, 2, 2, {1, 1, 1, 1})).forward_weight_extents(true) ==
          std::array{144, 3, 3, 64});
    CHECK(lay(64, 56, 56, conv(96, 3, 3, 2, 2, {1, 1, 1, 1})).forward_weight_extents(true) ==
          std::array{96, 3, 3, 64});
}

// Convs of 3 to 5 taps, stride 1 along the rows (LeNet's conv2: 6 -> 16,
// 5 x 5; 5 x 5 convs of many channels), run as Winograd F(2, kw) along the
// rows with their weights transformed in the pipeline on every call
// (winograd_rows_inline): few channels and blocks of 16, odd and even
// widths, padding, vertical strides, kernel heights 1-5, flipped kernels,
// with and without bias, a consumer, against the naive loops (direct
// multiply-adds in double). Seeds 1500 + r.
TEST_CASE("convs as Winograd rows with weights transformed in the pipeline match",
          "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    std::mt19937 g(2031);
    for (int r = 0, count = random_configs(8); r < count; ++r) {
        const int c = pick(g, 0, 2) == 0 ? 16 * pick(g, 2, 3) : pick(g, 2, 24);  // blocks of 16, or not
        const int h = pick(g, 1, 16), w = pick(g, 1, 29), kw = pick(g, 3, 5);
        layer_desc d = conv(8 * pick(g, 1, 4), pick(g, 1, 5), kw, pick(g, 1, 2), 1,
                            {pick(g, 0, 2), pick(g, 0, 2), pick(g, 0, 2), pick(g, 0, 2)}, pick(g, 0, 1) == 1,
                            pick(g, 0, 1) == 1);
        if (h + d.pad_top + d.pad_bottom < d.kh || w + d.pad_left + d.pad_right < d.kw) {
            --r;  // kernel does not fit: draw again
            continue;
        }
        std::vector<layer_desc> layers{d, plain(op::sigmoid)};
        auto nodes = make_net(make_shape(c, h, w), layers);
        if (!cg::winograd_rows_inline(nodes[1])) {
            --r;  // not such a conv: drawn again
            continue;
        }
        if (nodes[1].out.h() >= 2 && nodes[1].out.w() >= 2 && pick(g, 0, 1) == 1) {
            layers.push_back(pool(op::avg_pool, 2, 2, 1, 1));  // a consumer reading the conv's result
            nodes = make_net(make_shape(c, h, w), layers);
        }
        check_network(nodes, pick(g, 1, 3), 1500 + static_cast<std::uint32_t>(r), om, 2.0);
    }
    // LeNet's conv2, and on the AVX2 and SSE4.1 targets (8 and 4 lanes, fewer registers)
    const auto lenet = make_net(make_shape(6, 14, 14), {conv(16, 5, 5), plain(op::sigmoid)});
    REQUIRE(cg::winograd_rows_inline(lenet[1]));
    check_network(lenet, 2, 1499, om);
    for_narrower_targets(om, [&](const cg::lower_options& narrow) { check_network(lenet, 2, 1498, narrow); });
    // Many channels: the products of a row for all output channels (the
    // rows one by one), and beyond L2 (64 x 64 x 5 x 5 weights: per block
    // of output channels); a consumer reading the result channel-major.
    // F(2, 5)'s transforms (coefficients up to 5 and 1/24) cost precision:
    // over 1600 terms per output the worst error is 7.8e-5 (about 2e-4 of
    // a typical output here; other points, 1/2 for -2, gave 5.3e-5), the
    // direct loop's within 1e-5; over 800 terms 2.8e-5.
    for (const auto& [c, k, h, w, pad] : {std::tuple{32, 64, 28, 28, 2}, std::tuple{64, 64, 24, 23, 0}}) {
        const auto big = make_net(make_shape(c, h, w), {conv(k, 5, 5, 1, 1, {pad, pad, pad, pad}), plain(op::relu)});
        REQUIRE(cg::winograd_rows_inline(big[1]));
        check_network(big, 2, 1490 + static_cast<std::uint32_t>(c), om, c == 64 ? 10.0 : 4.0);
    }
    // Output channels that are not whole vectors of 16 (24, 40: AVX-512
    // takes vectors of 8), the image at once and a row at a time; input
    // channels beyond 32 not in 16s (40: blocks of 10; 34: all at once).
    for (const auto& [c, k, h, w] : {std::tuple{6, 24, 14, 14}, std::tuple{32, 40, 30, 30}, std::tuple{5, 24, 9, 33},
                                     std::tuple{40, 16, 12, 12}, std::tuple{34, 16, 9, 10}}) {
        const auto odd = make_net(make_shape(c, h, w), {conv(k, 5, 5), plain(op::relu)});
        REQUIRE(cg::winograd_rows_inline(odd[1]));
        check_network(odd, 2, 1480 + static_cast<std::uint32_t>(k + c), om, 4.0);
    }
    const auto consumer = make_net(make_shape(32, 6, 6), {conv(16, 5, 5), plain(op::sigmoid), plain(op::flatten), dense(3)});
    REQUIRE(cg::winograd_rows_inline(consumer[1]));
    check_network(consumer, 3, 1489, om, 4.0);
    // and the rule
    const auto lay = [](int c, int h, int w, layer_desc d) { return make_net(make_shape(c, h, w), {d})[1]; };
    CHECK_FALSE(cg::winograd_rows_inline(lay(6, 14, 14, conv(16, 5, 5, 1, 2))));  // stride 2 along the rows
    CHECK_FALSE(cg::winograd_rows_inline(lay(6, 14, 14, conv(16, 5, 7))));        // 7 taps
    CHECK(cg::winograd_rows_inline(lay(32, 28, 28, conv(64, 5, 5))));             // channels in blocks of 16
    CHECK_FALSE(cg::winograd_rows_inline(lay(3, 14, 14, conv(16, 3, 3))));        // 9 taps x channels: a row-major conv
    CHECK_FALSE(cg::winograd_rows_inline(lay(64, 14, 14, conv(64, 3, 3))));       // transformed by the model instead
}

// 1x1 convs without padding (at least 64 output pixels) run as matrix
// products over chunks of rows copied into one run: any channel counts,
// widths the vectors do not divide, chunks past the last row, strides,
// with and without bias, an activation and a consumer (a pool, or a second
// such conv reading the first's result), against the naive loops. Seeds
// 1400 + r.
TEST_CASE("1x1 convs as matrix products match the direct convolution", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    std::mt19937 g(2028);
    int gemm = 0;
    for (int r = 0, count = random_configs(8); r < count; ++r) {
        const int c = pick(g, 1, 40), h = pick(g, 4, 24), w = pick(g, 4, 40);
        const layer_desc d = conv(pick(g, 1, 40), 1, 1, pick(g, 1, 3), pick(g, 1, 3), {0, 0, 0, 0}, pick(g, 0, 1) == 1);
        std::vector<layer_desc> layers{d, plain(op::relu)};
        const int consumer = pick(g, 0, 2);
        if (consumer == 1) layers.push_back(pool(op::max_pool, 2, 2, 2, 2, {0, 0, 0, 0}));
        if (consumer == 2) layers.push_back(conv(pick(g, 1, 24), 1, 1, 1, 1, {0, 0, 0, 0}, true));
        const auto nodes = make_net(make_shape(c, h, w), layers);
        if (!nodes[1].pointwise_gemm()) {
            --r;  // fewer than 64 output pixels: drawn again
            continue;
        }
        ++gemm;
        CHECK_FALSE(nodes[1].output_major_weight());  // PyTorch's layout, broadcast weight by weight
        check_network(nodes, pick(g, 1, 3), 1400 + static_cast<std::uint32_t>(r), om);
    }
    CHECK(gemm == random_configs(8));  // every draw ran (the others were redrawn)
    // The benchmark's shapes (chunks of several rows, 256-term sums; 56 x 56
    // reads its input directly), and one of 4 rows of 16: a single chunk,
    // every tile full.
    for (const auto& [ci, co, hw] : {std::tuple{256, 64, 56}, std::tuple{64, 256, 28}, std::tuple{24, 8, 4}}) {
        const auto net = make_net(make_shape(ci, hw, hw == 4 ? 16 : hw), {conv(co, 1, 1)});
        REQUIRE(net[1].pointwise_gemm());
        check_network(net, 1, 1390 + static_cast<std::uint32_t>(co), om);
    }
    // Rows of 16, whole tiles per chunk: the tiles read their input planes
    // directly, the second conv an intermediate result (batches of 3).
    const auto chain = make_net(make_shape(16, 16, 16), {conv(32, 1, 1), plain(op::relu), conv(8, 1, 1)});
    check_network(chain, 3, 1389, om);
    // The AVX2 and SSE4.1 schedules (8 and 4 lanes, 12 accumulators), also
    // with output channels the tile does not divide (AVX2: 6 channels x 2
    // vectors, 64 = 10 x 6 + 4; the last block shifted inwards, its reduction
    // a second copy of the loop outside the blocks, without the prefetches).
    for_narrower_targets(om, [](const cg::lower_options& narrow) {
        const auto net = make_net(make_shape(20, 11, 13), {conv(12, 1, 1, 1, 1, {0, 0, 0, 0}, true), plain(op::relu)});
        REQUIRE(net[1].pointwise_gemm());
        check_network(net, 2, 1398, narrow);
        const auto tail = make_net(make_shape(40, 16, 16), {conv(64, 1, 1), plain(op::relu)});
        check_network(tail, 2, 1397, narrow);
    });
    // and the rule: 1x1, no padding, at least 64 output pixels
    const auto lay = [](int c, int h, int w, layer_desc d) { return make_net(make_shape(c, h, w), {d})[1]; };
    CHECK(lay(256, 56, 56, conv(64, 1, 1)).pointwise_gemm());
    CHECK(lay(256, 56, 56, conv(512, 1, 1, 2, 2, {0, 0, 0, 0})).pointwise_gemm());
    CHECK(lay(3, 8, 8, conv(2, 1, 1)).pointwise_gemm());
    CHECK_FALSE(lay(3, 7, 9, conv(2, 1, 1)).pointwise_gemm());                     // 63 pixels
    CHECK_FALSE(lay(16, 16, 16, conv(8, 1, 1, 1, 1, {1, 1, 1, 1})).pointwise_gemm());  // padded
    CHECK_FALSE(lay(16, 16, 16, conv(8, 3, 3, 1, 1, {1, 1, 1, 1})).pointwise_gemm());  // 3x3
}

// The lowered statement of a pipeline's generated code (its passes run).
std::string lowered(const cg::forward_pipeline& pipe, Halide::Pipeline p, const Halide::Target& t) {
    std::ostringstream text;
    text << p.compile_to_module(pipe.arguments(), "lowered", t);
    return text.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

// A 1x1 conv whose tiles read the input planes directly fetches the next
// chunk's input in its reduction loop (a pass after Halide's lowering; the
// results with it are checked in the test above, which runs every pipeline
// with its passes). The benchmark's 256 -> 64 @56: one prefetch statement
// in the reduction, of the input, also on the AVX2 and SSE4.1 targets (a
// multi-target library's variants, with their own tiles; AVX2's last block
// of channels, shifted inwards, is a second copy of the reduction, which
// fetches nothing); none without the pass, none for a strided 1x1 (its
// chunks are copied); in a chain of two, each its own input's.
TEST_CASE("a direct pointwise GEMM prefetches the next chunk's input", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    const auto net = make_net(make_shape(256, 56, 56), {conv(64, 1, 1)});
    const cg::forward_pipeline pipe = cg::lower_forward(net, om);
    REQUIRE(pipe.prefetches.size() == 1);
    CHECK(pipe.prefetches[0].in_channels == 256);
    const std::string with = lowered(pipe, pipe.pipeline(), om.target);
    CHECK(occurrences(with, "prefetch(") == 1);
    CHECK(occurrences(with, "prefetch(input,") == 1);
    CHECK(occurrences(lowered(pipe, Halide::Pipeline(pipe.output), om.target), "prefetch(") == 0);
    for (const char* t : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "x86-64-linux-sse41"}) {
        INFO("target " << t);
        cg::lower_options narrow = om;
        narrow.target = Halide::Target(t);
        const cg::forward_pipeline p = cg::lower_forward(net, narrow);
        REQUIRE(p.prefetches.size() == 1);
        CHECK(occurrences(lowered(p, p.pipeline(), narrow.target), "prefetch(input,") == 1);
    }
    // A bottleneck's expansion and reduction, each reading its input
    // directly: the second fetches lines of the first's result (a buffer
    // inside the pipeline, per image), the results checked against the
    // naive loops (seed 1399; twice the tolerance: the second sum's 256
    // terms each carry the first's rounding, 1.3x the tolerance in the
    // worst element).
    const auto chain = make_net(make_shape(64, 56, 56), {conv(256, 1, 1), plain(op::relu), conv(64, 1, 1)});
    const cg::forward_pipeline inner = cg::lower_forward(chain, om);
    // (The reduction reads its input directly on AVX2 and AVX-512, as the
    // benchmark's 256 -> 64 above; the expansion's plan depends on the target.)
    REQUIRE(std::any_of(inner.prefetches.begin(), inner.prefetches.end(),
                        [](const cg::gemm_prefetch& g) { return g.in_channels == 256; }));
    const std::string both = lowered(inner, inner.pipeline(), om.target);
    CHECK(occurrences(both, "prefetch(") == inner.prefetches.size());
    CHECK(occurrences(both, "prefetch(input,") == inner.prefetches.size() - 1);
    check_network(chain, 2, 1399, om, 2.0);
    const auto strided = make_net(make_shape(256, 56, 56), {conv(512, 1, 1, 2, 2, {0, 0, 0, 0})});
    REQUIRE(strided[1].pointwise_gemm());
    CHECK(cg::lower_forward(strided, om).prefetches.empty());
}

// A trailing run of dense layers is computed in blocks of samples once the
// batch fills a block (6 on AVX2): batches below, at and around the block
// size, not multiples of it (the last block is shifted inwards and
// recomputes samples), against the naive loops. Seeds 1100 + r.
TEST_CASE("batched dense runs match below, at and above the block size", "[codegen][dense][schedule]") {
    const std::vector<std::vector<layer_desc>> nets{
        {conv(4, 3, 3), plain(op::sigmoid), pool(op::avg_pool, 2, 2, 2, 2), plain(op::flatten), dense(20),
         plain(op::relu), dense(9), plain(op::tanh), dense(3)},
        {dense(17), plain(op::sigmoid), dense(4)},  // flat input: the whole network is the run
        {plain(op::flatten), dense(33)},            // one dense layer after a passive flatten
    };
    const std::vector<tensor_shape> inputs{make_shape(2, 8, 9), make_shape(12), make_shape(3, 4, 5)};
    std::uint32_t seed = 1100;
    cg::lower_options output_major;
    output_major.weights_output_major = true;
    for (std::size_t r = 0; r < nets.size(); ++r)
        for (int batch : {1, 5, 6, 7, 13, 24}) {
            INFO("net " << r << ", batch " << batch);
            check_network(make_net(inputs[r], nets[r]), batch, seed++);
            check_network(make_net(inputs[r], nets[r]), batch, seed++, output_major);
        }
}

// With weights output-major (as constnet::model passes them), convs whose
// channels fill vectors and whose data fit L1 or whose rows are short are
// computed channel-major, and
// their activations and pools stored channel-major when a dense layer or such
// a pool consumes them. Reference: the same naive loops. Seeds 1000 + r.
TEST_CASE("channel-major convs and their consumers match with output-major weights", "[codegen][conv2d][schedule]") {
    cg::lower_options om;
    om.weights_output_major = true;
    const std::vector<std::vector<layer_desc>> nets{
        {conv(16, 5, 5), plain(op::sigmoid), pool(op::avg_pool, 2, 2, 2, 2), plain(op::flatten), dense(12),
         plain(op::sigmoid), dense(5)},                                                  // LeNet's second half
        {conv(8, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu), pool(op::max_pool, 3, 3, 2, 2, {1, 1, 1, 1}),
         plain(op::flatten), dense(7)},                                                  // max pool, padding
        {conv(24, 3, 3, 2, 2, {1, 0, 2, 1}, true, true)},                                // the output itself, stride, flip
        {conv(16, 1, 1, 1, 1, {0, 0, 0, 0}, false), plain(op::tanh), conv(16, 3, 2, 1, 2)},  // GEMM -> conv
        {conv(32, 5, 3, 1, 1, {2, 2, 1, 1}), plain(op::relu), pool(op::avg_pool, 2, 2, 2, 2, {1, 1, 1, 1}, false),
         plain(op::relu), plain(op::flatten), dense(3)},                                 // activation after the pool
        {conv(32, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu)},  // over 32 KiB, rows of at most 64: channel-major too
    };
    // (at least 64 multiply-adds per output: fewer are computed row-major)
    const std::vector<tensor_shape> inputs{make_shape(6, 14, 14), make_shape(8, 9, 13), make_shape(8, 11, 6),
                                           make_shape(5, 7, 19), make_shape(5, 10, 9), make_shape(40, 9, 11)};
    for (std::size_t r = 0; r < nets.size(); ++r) {
        INFO("net " << r);
        const auto nodes = make_net(inputs[r], nets[r]);
        bool channel_major = false;
        for (const auto& d : nodes) channel_major |= d.kind == op::conv2d && d.output_major_weight();
        CHECK(channel_major);  // the case exercises the path it is about
        check_network(nodes, 3, 1000 + static_cast<std::uint32_t>(r), om);
    }
    // the rule's floor: 64 multiply-adds per output
    const auto lay = [](int c, int h, int w, layer_desc d) { return make_net(make_shape(c, h, w), {d})[1]; };
    CHECK_FALSE(lay(3, 32, 32, conv(32, 3, 3, 1, 1, {1, 1, 1, 1})).output_major_weight());  // 27
    CHECK(lay(8, 32, 32, conv(32, 3, 3, 1, 1, {1, 1, 1, 1})).output_major_weight());        // 72
}

// lower_options{.schedule = false} leaves every Func unscheduled; both must
// give the reference's values and agree with each other (seed 1000).
TEST_CASE("scheduled and unscheduled pipelines agree", "[codegen][schedule]") {
    const auto nodes = make_net(make_shape(3, 10, 13), {conv(5, 3, 3, 1, 2, {1, 0, 1, 1}), plain(op::relu),
                                                        pool(op::max_pool, 2, 2, 2, 2, {0, 1, 0, 1}),
                                                        plain(op::flatten), dense(9), plain(op::softmax)});
    check_network(nodes, 2, 1000, cg::lower_options{});
    cg::lower_options unscheduled;
    unscheduled.schedule = false;
    check_network(nodes, 2, 1000, unscheduled);
    random_values rnd(1000);
    const ref::tensor x = random_input(nodes[0].out, 2, rnd);
    const net_params p = random_params(nodes, rnd);
    const ref::tensor a = run_halide(nodes, x, p), b = run_halide(nodes, x, p, unscheduled);
    const comparison c = compare(a, b);
    INFO("scheduled vs unscheduled: " << report(c, a, b));
    CHECK(c.ok());
}

// Halide's autoschedulers, for comparison (constnet-codegen --autoscheduler,
// AUTOSCHEDULER in constnet_add_network): each schedules the same algorithm,
// which must still match the naive loops. They plan for a batch of 256
// (autoschedule_forward's estimates), the batch here, on a small network.
// Adams2019 searches with a beam of 1 here (HL_BEAM_SIZE, unless set): its
// default beam of 32 took 52 s and 2.9 GB on this network (on a large conv
// minutes and more gigabytes, which is why nothing builds with it by
// default); a beam of 1, under a second.
TEST_CASE("autoscheduled forward passes match", "[codegen][autoscheduler]") {
    ::setenv("HL_BEAM_SIZE", "1", 0);
    const auto nodes = make_net(make_shape(2, 8, 8), {conv(4, 3, 3, 1, 1, {1, 1, 1, 1}), plain(op::relu),
                                                      pool(op::max_pool, 2, 2, 2, 2), plain(op::flatten), dense(5)});
    CHECK(cg::autoschedulers() == std::vector<std::string>{"Mullapudi2016", "Li2018", "Adams2019"});
    for (const std::string& name : cg::autoschedulers()) {
        DYNAMIC_SECTION(name) {
            cg::lower_options opt;
            opt.autoscheduler = name;
            check_network(nodes, 256, 1010, opt);
        }
    }
    cg::lower_options unknown;
    unknown.autoscheduler = "Adams2020";
    CHECK_THROWS_WITH(cg::lower_forward(nodes, unknown),
                      Contains("Adams2020") && Contains("Mullapudi2016, Li2018, Adams2019"));
}

// ========================================================================= validate

// The message of the std::invalid_argument validate throws (another exception
// type escapes and fails the test; no exception gives a marker text).
std::string rejection(const std::vector<layer_desc>& nodes) {
    try {
        cg::validate(nodes);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<validate accepted the description>";
}

// Descriptions built by hand at run time, as a caller could get them wrong.
TEST_CASE("validate rejects bad run-time descriptions, naming the node and the numbers", "[codegen][validate]") {
    SECTION("kernel larger than the padded input") {
        const auto nodes = make_net(make_shape(1, 4, 4), {conv(2, 5, 5)});
        CHECK_THAT(rejection(nodes),
                             Contains("node 1") && Contains("conv2d") && Contains("kernel 5x5") && Contains("4x4"));
        // lower_forward validates too
        CHECK_THROWS_AS(cg::lower_forward(nodes), std::invalid_argument);
    }
    SECTION("pooling window larger than the padded input") {
        const auto nodes = make_net(make_shape(2, 6, 3), {conv(2, 1, 1), pool(op::max_pool, 2, 4, 2, 2)});
        CHECK_THAT(rejection(nodes),
                             Contains("node 2") && Contains("max_pool") && Contains("2x4") && Contains("6x3"));
    }
    SECTION("dense on a spatial input") {
        const auto nodes = make_net(make_shape(3, 4, 4), {plain(op::relu), dense(10)});
        CHECK_THAT(rejection(nodes),
                             Contains("node 2") && Contains("dense") && Contains("flat"));
    }
    SECTION("softmax on a spatial input") {
        const auto nodes = make_net(make_shape(3, 4, 4), {plain(op::softmax)});
        CHECK_THAT(rejection(nodes),
                             Contains("node 1") && Contains("softmax") && Contains("flat"));
    }
    SECTION("zero stride (built without infer_shapes, which would divide by it)") {
        auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3)});
        nodes[1].sw = 0;
        CHECK_THAT(rejection(nodes),
                             Contains("node 1") && Contains("stride 1x0"));
    }
    SECTION("negative padding") {
        auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3)});
        nodes[1].pad_left = -1;
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("padding"));
    }
    SECTION("an output shape that does not follow the shape rule") {
        auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3)});
        nodes[1].out = make_shape(2, 8, 8);  // 'same' output without the padding
        CHECK_THAT(rejection(nodes),
                             Contains("node 1") && Contains("shape rule"));
    }
    SECTION("an input shape that differs from the producer's") {
        auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3), plain(op::relu)});
        nodes[2].in = make_shape(2, 8, 8);
        CHECK_THAT(rejection(nodes), Contains("node 2") && Contains("relu"));
    }
    SECTION("an edge that is not an earlier node") {
        auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3)});
        nodes[1].inputs = {1, -1};
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("input edge 1"));
    }
    SECTION("no input node first") {
        const auto nodes = make_net(make_shape(1, 8, 8), {conv(2, 3, 3)});
        const std::vector<layer_desc> headless(nodes.begin() + 1, nodes.end());
        CHECK_THROWS_AS(cg::validate(headless), std::invalid_argument);
        CHECK_THROWS_AS(cg::validate(std::vector<layer_desc>{}), std::invalid_argument);
    }
    SECTION("a good description passes") {
        CHECK_NOTHROW(cg::validate(make_net(make_shape(1, 28, 28), {conv(6, 5, 5, 1, 1, {2, 2, 2, 2}), plain(op::sigmoid),
                                                                    pool(op::avg_pool, 2, 2, 2, 2), plain(op::flatten),
                                                                    dense(10)})));
    }
}

// lower.hpp: validate "checks what the DSL checks at compile time". These are
// the DSL's rules (dsl/include/constnet/dsl/rules.hpp, network.hpp) that a
// description built at run time can break without breaking the shape rule.
TEST_CASE("validate rejects what the DSL rejects at compile time", "[codegen][validate]") {
    SECTION("pooling padding larger than half the window (PyTorch's rule)") {
        // k 3, pad 2: the DSL stops at rules::pool_padding_at_most_half_window.
        const auto nodes = make_net(make_shape(1, 6, 6), {pool(op::max_pool, 3, 3, 1, 1, {2, 2, 2, 2})});
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("max_pool") && Contains("padding"));
    }
    SECTION("'same' padding with an even kernel") {
        layer_desc d = conv(2, 4, 4);
        d.same = true;
        const auto nodes = make_net(make_shape(1, 8, 8), {d});
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("conv2d") && Contains("same"));
    }
    SECTION("'same' padding with stride 2") {
        layer_desc d = conv(2, 3, 3, 2, 2);
        d.same = true;
        const auto nodes = make_net(make_shape(1, 8, 8), {d});
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("conv2d") && Contains("same"));
    }
    SECTION("an input with a zero extent") {
        const auto nodes = make_net(make_shape(0, 4, 4), {plain(op::relu)});
        CHECK_THAT(rejection(nodes), Contains("input"));
    }
    SECTION("stated in-channels that differ from the input's") {
        layer_desc d = conv(2, 3, 3);
        d.expect_in = 2;
        const auto nodes = make_net(make_shape(3, 8, 8), {d});
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("conv2d") && Contains("3"));
    }
    SECTION("paddings that disagree with the node's own 'same' flag") {
        layer_desc d = conv(2, 3, 3);
        d.same = true;
        auto nodes = make_net(make_shape(1, 8, 8), {d});  // infer_shapes: pads 1, output 8x8
        nodes[1].pad_top = nodes[1].pad_bottom = nodes[1].pad_left = nodes[1].pad_right = 0;
        // lower_forward would compute an 8x8 output with no padding, reading
        // past the input; the description is inconsistent and must be refused.
        CHECK_THAT(rejection(nodes), Contains("node 1") && Contains("conv2d"));
    }
}

}  // namespace
