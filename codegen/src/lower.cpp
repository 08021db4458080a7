// Network description -> Halide pipeline. Each node kind has its algorithm
// (define_*) and its schedule (schedule_*) as separate functions, as Halide's
// own apps keep them. Nodes are grouped for scheduling: a conv2d, dense or
// pooling node together with the activations that follow it is one group,
// computed in one loop nest (bias and activation fused into the conv's
// register tiles); each group's last Func is its root.
#include <constnet/codegen/lower.hpp>
#include <constnet/dsl/summary.hpp>

#include "winograd.hpp"

#include <fmt/format.h>

#include <algorithm>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <stdexcept>
#include <utility>

namespace constnet::codegen {

using namespace Halide;
using namespace winograd_detail;

namespace {

// One Var set for every Func, so schedules can name dimensions uniformly.
const Var x("x"), y("y"), c("c"), n("n"), i("i");
// The output's loop over blocks of samples (batched dense runs): the run's
// other layers are computed at it.
const Var no("no");

struct value {
    Func f;  // rank 3: (x, y, c, n); rank 1: (i, n)
    tensor_shape shape;
    // For a flatten: its C x H x W source, so a dense consumer reduces over
    // (x, y, c) directly instead of paying a div/mod per multiply-add.
    Func spatial;
    tensor_shape spatial_shape;
};

constexpr int line_floats = 16;  // floats per 64-byte cache line

// A 1x1 conv's matrix product (plan_pointwise, define_pointwise_gemm).
struct gemm_plan {
    int tp = 1, tk = 1;  // a register tile: tp vectors of pixels x tk output channels
    int rows = 1;        // rows per chunk
    int tiles = 1;       // tiles per chunk (its pixels rounded up to whole tiles)
    // Stride 1, whole chunks of whole tiles: the tiles read the input itself
    // (a chunk's pixels are one run of each input plane), no copy.
    bool direct = false;
};

struct node_funcs {
    value out;
    Func acc;     // conv2d, dense: the reduction (initialized with the bias)
    Func padded;  // conv2d, pools: the padded input, materialized per image
    Func wt;      // dense: weights transposed to (u, j) so outputs vectorize
    bool wt_given = false;  // dense: the weights arrived transposed (wt is an alias)
    Func mx, scan, sum; // softmax
    // conv2d computed channel-major (defined only then): acc is (c, x, y, n)
    // and cm its result per image (or per row), which out.f reads in NCHW order.
    Func cm;
    // A channel-major conv computed as Winograd F(wm, kw) along the rows
    // (define_winograd_rows; defined only then): acc is (c, e, xp, y, n),
    // the products of the transformed weights wu (c, e, ky, ci) and input
    // rows wv (xp, yy, ci, e, n) at the kw + wm - 1 points e of each tile xp
    // of wm output pixels.
    Func wu, wv;
    bool wu_computed = false;  // wu is transformed in the pipeline (not a parameter or its view)
    int wm = 2;                // output pixels per Winograd tile: F(wm, kw)
    // A 1x1 conv computed as a matrix product over pixels
    // (layer_desc::pointwise_gemm; defined only then): flat (p, chunk, c, n)
    // is the input's pixels of a chunk of rows in one run, chunk (p, chunk,
    // c, n) the product for them, as `gemm` plans, each register tile of it
    // reduced in acc (same dimensions).
    Func flat;
    Func chunk;
    gemm_plan gemm;
    // A row-major conv of stride sw > 1 along the rows (defined only then;
    // also a Winograd F(4, 3) conv, whose phases are a tile's wm = 4 pixels):
    // the padded input split into its sw phases of columns, phased(q, y, c,
    // s, n) = padded(q sw + s, y, c, n), so a tap's vector of outputs reads
    // one dense vector (phase kx % sw, from q = x + kx / sw) instead of
    // every sw-th element (two loads and a permute each). Zen 4, one
    // thread, the 7x7 stride-2 stem 3->64 @224 (bench/constnet_bench, N=1,
    // alternating runs): 2.56-3.19 -> 2.11-2.15 ms, 0.69-0.79x -> 0.94-0.97x
    // oneDNN's blocked layout (two threads 0.70-0.75x -> 0.88-0.91x).
    Func phased;
};

std::string node_name(int index, const layer_desc& d) { return fmt::format("n{}_{}", index, op_name(d.kind)); }

// ------------------------------------------------------------------ algorithms

}  // namespace

// max over i of z(i, n), as a scan that keeps every intermediate maximum:
// Halide 14 cannot differentiate maximum() over an RDom, nor an update that
// overwrites its own value, nor a scan whose pure definition reads another
// Func; it can differentiate this (scan(-1) is the constant -inf).
running_max_funcs running_max(Func z, int count, const std::string& name) {
    Func scan(name + "_scan");
    scan(i, n) = -std::numeric_limits<float>::infinity();
    RDom k(0, count, name + "_r");
    scan(k, n) = select(z(k, n) > scan(k - 1, n), z(k, n), scan(k - 1, n));
    Func mx(name);
    mx(n) = scan(count - 1, n);
    return {mx, scan};
}

namespace {

// The input as a consumer with padding sees it: the fill value outside. A
// layer without padding reads the input itself (no clamp, so loads stay dense).
Func pad_spatial(const value& in, Expr fill, const layer_desc& d, const std::string& name) {
    Func padded(name + "_padded");
    if (!d.has_padding()) {
        padded(x, y, c, n) = in.f(x, y, c, n);
        return padded;
    }
    const int W = in.shape.w(), H = in.shape.h();
    Expr inside = x >= 0 && x < W && y >= 0 && y < H;
    // likely: a loop over it is split where the inside begins and ends, and
    // the middle part reads the input without clamping the index vector (a
    // clamped vector index is a gather; see schedule_pool).
    padded(x, y, c, n) = select(likely(inside), in.f(clamp(x, 0, W - 1), clamp(y, 0, H - 1), c, n), fill);
    return padded;
}

// Winograd F(2, r) along the rows (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks"): a pair of outputs y0, y1 of a row from
// r + 1 inputs d and taps g with r + 1 multiplies instead of 2 r, y = AT [(G
// g) . (BT d)]. With 3 taps (Lavin & Gray's form, lavin_f23):
//   V = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)            (input transform)
//   U = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2) (weight transform)
//   M_e = sum over ky and input channels of U_e * V_e
//   y0 = M0 + M1 + M2, y1 = M1 - M2 - M3                (output transform)
// Two kinds of convs take it (define_conv2d):
// - transformed weights (layer_desc::winograd_rows_weight, many input
//   channels in blocks of 16, 3 taps): constnet::model transforms the
//   weights when they change; U arrives as u(c, e, ky, ci), Lavin & Gray's,
//   for F(4, 3) (four outputs from six points 0, 1, -1, 2, -2, infinity:
//   winograd_detail::winograd(4, 3)) where layer_desc::winograd_outputs()
//   says so, else F(2, 3).
// - in-pipeline weights (winograd_rows_inline: 3 to 5 taps, input channels
//   x kernel rows at least 16; LeNet conv2): the pipeline transforms the output-major
//   weight (its rotated view, w(kx, ky, ci, co)) on every call with the
//   matrices of winograd_detail::winograd (points 0, 1, -1, 2, -2 and
//   infinity): (kw + 1) kw multiply-adds per kernel row (LeNet conv2: U
//   is 2880 floats), each U then used by every pair of output pixels.
// The bias starts the point that every output adds with coefficient 1.
winograd_matrices lavin_f23() {
    return {2, 3, 4,
            {{1, 1, 1, 0}, {0, 1, -1, -1}},
            {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
            {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
}

void define_winograd_rows(node_funcs& r, const layer_desc& d, Func w, bool transformed, const Func* b,
                          const std::string& name) {
    const Var e("e");
    const int wm = r.wm = transformed ? d.winograd_outputs() : 2;
    const winograd_matrices t = !transformed ? winograd(2, d.kw) : wm == 2 ? lavin_f23() : winograd(wm, d.kw);
    if (transformed) {
        r.wu = w;
        if (d.flip) {  // a true convolution (F(2, 3)) reads the taps reversed: g0 <-> g2 is U0 <-> U3, and the rows reversed
            r.wu = Func(name + "_wu");
            r.wu(c, e, x, y) = w(c, select(e == 0 || e == 3, 3 - e, e), d.kh - 1 - x, y);
        }
    } else {
        // wu(c, e, ky, ci): row e of G times the kernel row's taps (turned
        // for a true convolution), output channels innermost
        r.wu = Func(name + "_wu");
        r.wu(c, e, x, y) = transform(e, t.g, [&](std::size_t kx) {
            const int tap = d.flip ? d.kw - 1 - int(kx) : int(kx);
            return w(tap, d.flip ? d.kh - 1 - x : Expr(x), y, c);
        });
        r.wu_computed = true;
    }
    if (wm > 2) {
        // The padded input in its wm phases of columns (phased(q, y, c, s, n)
        // = padded(q wm + s)), so each point's inputs are dense vectors, not
        // every wm-th element (loads and permutes for each of the kw + wm - 1
        // inputs of every output row's transform).
        const Var s("s");
        r.phased = Func(name + "_phased");
        r.phased(x, y, c, s, n) = r.padded(x * wm + s - d.pad_left, y, c, n);
    }
    r.wv = Func(name + "_wv");
    r.wv(x, y, c, e, n) = transform(e, t.bt, [&](std::size_t j) {
        const int at = int(j);  // input j of tile x: column wm x + j
        return r.phased.defined() ? r.phased(x + at / wm, y - d.pad_top, c, at % wm, n)
                                  : r.padded(wm * x + at - d.pad_left, y - d.pad_top, c, n);
    });
    int bias_point = -1;  // the point every output adds with coefficient 1
    for (int p = 0; p < t.n && bias_point < 0; ++p) {
        bool ones = true;
        for (int o = 0; o < wm; ++o) ones = ones && t.at[o][p] == 1.0;
        if (ones) bias_point = p;
    }
    if (b && bias_point < 0) throw std::logic_error("constnet: Winograd matrices without a point every output adds");
    RDom k(0, d.kh, 0, d.in.c(), name + "_r");
    r.acc = Func(name + "_acc");
    r.acc(c, e, x, y, n) = b ? select(e == bias_point, (*b)(c), 0.0f) : Expr(0.0f);
    r.acc(c, e, x, y, n) += r.wu(c, e, k.x, k.y) * r.wv(x, y * d.sh + k.x, k.y, e, n);
    auto m = [&](std::size_t point) { return r.acc(c, int(point), x / wm, y, n); };
    r.cm = Func(name + "_cm");
    std::vector<Expr> outputs;
    for (int o = 0; o < wm; ++o) outputs.push_back(linear_combination(t.at[o], m));
    r.cm(c, x, y, n) = row_of(x % wm, outputs);
}

// A 1x1 conv as a matrix product (layer_desc::pointwise_gemm): out(co, p)
// = sum over ci of w(co, ci) in(ci, p) over the output's pixels p = y W + x,
// in chunks of `rows` rows. Each chunk's input pixels (every sw-th of every
// sh-th row) are copied into one run (flat), so a register tile of tp
// vectors of consecutive pixels (across rows) x tk output channels reads
// them as whole vectors and broadcasts one weight per channel: NCHW in and
// out, nothing transposed, every lane useful whatever the width. The
// product (acc) goes back to the rows by dense copies. Zen 4, one thread,
// against oneDNN's blocked layout (bench/constnet_bench, N=1 / N=32; the
// channel-major tiles before): conv1x1 s2 256->512 @56 0.53x / 0.55x ->
// 0.94x / 0.91x (1.19x / 1.24x oneDNN's NCHW), 64->256 @56 0.62x / 0.71x ->
// 0.88x / 0.96x; 256->64 @56 0.87-0.92x either way (its kernel ran near
// the FMA peak already; the copies and the bias pass cost ~6%). With
// stride 1 and chunks that whole tiles cover exactly (rows dividing the
// height), the tiles read the input planes directly: Halide simplifies
// in(p % W, chunk R + p / W) over the dense planes to one run, no copy.
// conv1x1 256->64 @56 (8 rows of 7 tiles of 64 pixels), alternating runs:
// N=1 0.98-1.00 ms -> 0.91-0.92 ms (0.89-0.90x -> 0.96-0.97x oneDNN's
// blocked layout, 0.98-0.99x its NCHW), N=32 41-42 -> 39 ms. The planner
// counts a copy as 7% of a tile's rate.
gemm_plan plan_pointwise(const layer_desc& d, const machine& m) {
    const int W = d.out.w(), H = d.out.h(), C = d.out.c();
    gemm_plan best;
    double best_rate = -1;
    for (int tk = 1; tk <= std::min(C, m.accumulators); ++tk) {
        // A last block of channels past C_out is shifted inwards (recomputes
        // some channels, writes them twice): counted as its wasted share
        // and 3% (the second copy-out). AVX2's 12 accumulators as 6
        // channels x 2 vectors: conv1x1 256->64 @56 (Zen 3, one thread)
        // 1.3 ms against 1.7-2.4 ms for 2 channels x 4 vectors.
        const int blocks = (C + tk - 1) / tk;
        const double channels_useful = double(C) / (blocks * tk) * (C % tk ? 0.97 : 1.0);
        for (int tp = 1; tp <= 4 && tp * tk <= m.accumulators; ++tp) {
            const int T = tp * m.vec;
            for (int rows = 1; rows <= H; ++rows) {
                const int tiles = (rows * W + T - 1) / T;
                // A chunk's input and product in L2 (the input is read once
                // per block of tk channels).
                if (rows > 1 && 4L * (d.in.c() + C) * tiles * T > 3 * l2_budget) break;
                const int chunks = (H + rows - 1) / rows;
                const double useful = double(W) * H / (double(chunks) * tiles * T);
                const bool direct = d.sh == 1 && d.sw == 1 && H % rows == 0 && rows * W == tiles * T;
                // +1 cycle per reduction step: loop and address overhead
                // The tile's input vectors come from L2 (a chunk is larger
                // than L1), one per two cycles: on Zen 3 (AVX2) tiles of 4
                // vectors x 3 channels ran at 2.7 ms, of 2 x 6 at 1.3-1.8 ms.
                const int loads = std::max(tp + tk, 4 * tp);
                const double rate =
                    tile_rate(tp * tk * useful * channels_useful, tp * tk, loads, 1.0) * (direct ? 1.0 : 0.93);
                // Equal rates: the larger chunk whose input fits L2's budget
                // (fewer chunks, each prefetched over more work). Zen 3,
                // AVX2, one thread, alternating runs (a noisy machine):
                // conv1x1 256->64 @56 N=32, best of 3 rounds, chunks of 4
                // rows 59-71 ms, of 2 rows 69-82 ms, of 8 (input past L2)
                // 76-80 ms; 4 more rounds, medians 70 ms (4 rows) vs 75 ms
                // (2), and 64->256 81 ms (8 rows) vs 95 ms (2).
                const bool larger = rows > best.rows && 4L * d.in.c() * tiles * T <= l2_budget;
                if (rate > best_rate + 1e-9 || (rate > best_rate - 1e-9 && larger))
                    best_rate = std::max(rate, best_rate), best = {tp, tk, rows, tiles, direct};
            }
        }
    }
    return best;
}

void define_pointwise_gemm(node_funcs& r, const layer_desc& d, const value& in, Func w, const Func* b,
                           const gemm_plan& plan, const std::string& name) {
    const int W = d.out.w(), H = d.out.h(), R = plan.rows;
    const Var p("p"), chunk("chunk");
    r.gemm = plan;
    r.flat = Func(name + "_flat");
    // The input pixels the outputs read (every sw-th of every sh-th row);
    // rows past the image (the last chunk's, rounded up) read its last row.
    // Direct: inlined, the tiles' loads one run of the plane.
    if (plan.direct) r.flat(p, chunk, c, n) = in.f(p % W, chunk * R + p / W, c, n);
    else r.flat(p, chunk, c, n) = in.f((p % W) * d.sw, min(chunk * R + p / W, H - 1) * d.sh, c, n);
    RDom k(0, d.in.c(), name + "_r");
    r.acc = Func(name + "_acc");
    r.acc(p, chunk, c, n) = b ? (*b)(c) : Expr(0.0f);
    r.acc(p, chunk, c, n) += w(0, 0, k, c) * r.flat(p, chunk, k, n);
    r.chunk = Func(name + "_chunk");
    r.chunk(p, chunk, c, n) = r.acc(p, chunk, c, n);
    r.out.f = Func(name);
    r.out.f(x, y, c, n) = r.chunk(x + (y % R) * W, y / R, c, n);
}

node_funcs define_conv2d(const layer_desc& d, const value& in, Func w, const Func* b, bool channel_major,
                          bool phase_split, const gemm_plan* gemm, const std::string& name) {
    node_funcs r;
    if (gemm) {
        define_pointwise_gemm(r, d, in, w, b, *gemm, name);
        return r;
    }
    const bool winograd_rows = channel_major && (d.winograd_rows_weight() || winograd_rows_inline(d));
    const bool phases = phase_split && !channel_major && d.sw > 1;
    // Winograd rows: the tiles, rounded up to whole tiles of pairs, and the
    // rows' transforms, rounded up to whole vectors, read past the padded
    // row; phases: each phase's columns run to the longest one's end. The
    // input is then read bounded (zero beyond the row), which pad_spatial
    // does for a layer with padding.
    layer_desc bounded = d;
    if (winograd_rows || phases) bounded.pad_right = std::max(d.pad_right, 1);
    r.padded = pad_spatial(in, 0.0f, bounded, name);
    if (winograd_rows) {
        define_winograd_rows(r, d, w, d.winograd_rows_weight(), b, name);
        r.out.f = Func(name);
        r.out.f(x, y, c, n) = r.cm(c, x, y, n);
        return r;
    }
    RDom k(0, d.kw, 0, d.kh, 0, d.in.c(), name + "_r");
    Expr kx = d.flip ? d.kw - 1 - k.x : Expr(k.x);  // true convolution reads the kernel flipped
    Expr ky = d.flip ? d.kh - 1 - k.y : Expr(k.y);
    r.acc = Func(name + "_acc");
    if (channel_major) {
        // Output channels innermost: a register tile is a few pixels of a row
        // x a few channel vectors, whatever the image width.
        r.acc(c, x, y, n) = b ? (*b)(c) : Expr(0.0f);
        r.acc(c, x, y, n) += w(kx, ky, k.z, c) * r.padded(x * d.sw + k.x - d.pad_left, y * d.sh + k.y - d.pad_top, k.z, n);
        r.cm = Func(name + "_cm");
        r.cm(c, x, y, n) = r.acc(c, x, y, n);
        r.out.f = Func(name);
        r.out.f(x, y, c, n) = r.cm(c, x, y, n);
        return r;
    }
    r.acc(x, y, c, n) = b ? (*b)(c) : Expr(0.0f);
    if (phases) {
        const Var s("s");
        r.phased = Func(name + "_phased");
        r.phased(x, y, c, s, n) = r.padded(x * d.sw + s - d.pad_left, y, c, n);
        r.acc(x, y, c, n) += w(kx, ky, k.z, c) * r.phased(x + k.x / d.sw, y * d.sh + k.y - d.pad_top, k.z, k.x % d.sw, n);
    } else {
        r.acc(x, y, c, n) +=
            w(kx, ky, k.z, c) * r.padded(x * d.sw + k.x - d.pad_left, y * d.sh + k.y - d.pad_top, k.z, n);
    }
    r.out.f = Func(name);
    r.out.f(x, y, c, n) = r.acc(x, y, c, n);
    return r;
}

node_funcs define_pool(const layer_desc& d, const value& in, const std::string& name) {
    const bool is_max = d.kind == op::max_pool;
    node_funcs r;
    // PyTorch: max pooling pads with -inf, average pooling with 0.
    r.padded = pad_spatial(in, is_max ? Expr(-std::numeric_limits<float>::infinity()) : Expr(0.0f), d, name);
    // An explicit chain over the (small, constant) window rather than a
    // reduction: no loop, and differentiable (Halide 14 cannot differentiate
    // maximum() over an RDom). For max, select(e > v, e, v) keeps the first
    // maximum in row-major window order, so its gradient goes to that one
    // element, as PyTorch's does, also when values tie.
    Expr v;
    for (int ky = 0; ky < d.kh; ++ky)
        for (int kx = 0; kx < d.kw; ++kx) {
            Expr e = r.padded(x * d.sw + kx - d.pad_left, y * d.sh + ky - d.pad_top, c, n);
            v = !v.defined() ? e : is_max ? select(e > v, e, v) : v + e;
        }
    if (!is_max) {
        Expr count = float(d.kh * d.kw);  // windows never leave the padded input (no ceil mode)
        if (!d.count_include_pad) {
            Expr y0 = y * d.sh - d.pad_top, x0 = x * d.sw - d.pad_left;
            Expr rows = min(y0 + d.kh, d.in.h()) - max(y0, 0);
            Expr cols = min(x0 + d.kw, d.in.w()) - max(x0, 0);
            count = cast<float>(max(rows * cols, 1));
        }
        v = v / count;
    }
    r.out.f = Func(name);
    r.out.f(x, y, c, n) = v;
    return r;
}

Expr activate(op kind, Expr v) {
    switch (kind) {
    case op::relu: return max(v, 0.0f);
    case op::sigmoid: return 1.0f / (1.0f + exp(-v));
    case op::tanh: return tanh(v);
    default: throw std::logic_error("not an activation");
    }
}

node_funcs define_activation(const layer_desc& d, const value& in, const std::string& name) {
    node_funcs r;
    r.out.f = Func(name);
    if (in.shape.rank == 3) r.out.f(x, y, c, n) = activate(d.kind, in.f(x, y, c, n));
    else r.out.f(i, n) = activate(d.kind, in.f(i, n));
    return r;
}

node_funcs define_flatten(const layer_desc& d, const value& in, const std::string& name) {
    node_funcs r;
    if (in.shape.rank == 1) {  // already flat: identity
        r.out = in;
        return r;
    }
    const int W = d.in.w(), H = d.in.h();
    r.out.f = Func(name);
    r.out.f(i, n) = in.f(i % W, (i / W) % H, i / (W * H), n);  // NCHW order, as torch.flatten
    r.out.spatial = in.f;
    r.out.spatial_shape = in.shape;
    return r;
}

node_funcs define_dense(const layer_desc& d, const value& in, Func w, const Func* b, bool w_transposed,
                        const std::string& name) {
    node_funcs r;
    r.wt = Func(name + "_wt");
    r.wt(i, c) = w_transposed ? w(i, c) : w(c, i);  // (u, j): output features innermost
    r.wt_given = w_transposed;
    r.acc = Func(name + "_acc");
    r.acc(i, n) = b ? (*b)(i) : Expr(0.0f);
    if (in.spatial.defined()) {
        const auto& s = in.spatial_shape;
        RDom k(0, s.w(), 0, s.h(), 0, s.c(), name + "_r");
        r.acc(i, n) += r.wt(i, k.x + s.w() * (k.y + s.h() * k.z)) * in.spatial(k.x, k.y, k.z, n);
    } else {
        RDom k(0, static_cast<int>(d.in.size()), name + "_r");
        r.acc(i, n) += r.wt(i, k.x) * in.f(k.x, n);
    }
    r.out.f = Func(name);
    r.out.f(i, n) = r.acc(i, n);
    return r;
}

node_funcs define_softmax(const layer_desc& d, const value& in, const std::string& name) {
    node_funcs r;
    RDom k(0, d.in.features(), name + "_r");
    // The maximum is subtracted for stability (softmax is shift-invariant).
    auto m = running_max(in.f, d.in.features(), name + "_max");
    r.mx = m.max;
    r.scan = m.scan;
    r.sum = Func(name + "_sum");
    r.sum(n) = sum(exp(in.f(k, n) - r.mx(n)));
    r.out.f = Func(name);
    r.out.f(i, n) = exp(in.f(i, n) - r.mx(n)) / r.sum(n);
    return r;
}

// ------------------------------------------------------------------- schedules

// Parallel loops only for stages computed at root: a stage computed per
// image inside its consumer runs on the thread that computes that image.
void par(Func f, const VarOrRVar& v, const machine& m) {
    if (m.parallel) f.parallel(v);
}

// The padded input of one image, materialized per image inside the parallel
// loop over the batch: on the stack of the thread that computes the image
// when it fits Halide 14's stack limit (16 KiB per Func; beyond it Halide
// takes even a Stack allocation from halide_malloc).
void schedule_padded(Func root, Func padded, const layer_desc& d, const machine& m) {
    padded.compute_at(root, n).vectorize(x, m.vec, TailStrategy::GuardWithIf);
    constexpr long stack_limit = 16 * 1024;
    const long bytes = 4L * (d.in.w() + d.pad_left + d.pad_right + m.vec) * (d.in.h() + d.pad_top + d.pad_bottom) * d.in.c();
    if (bytes <= stack_limit) padded.store_in(MemoryType::Stack);
}

// The register tile (ty rows x tk output channels of one vector each) that
// does the most useful multiply-adds per cycle: a reduction step issues
// ty*tk FMAs and ty + tk loads (input vectors, broadcast weights), two of
// each per cycle; rows computed past the last one (the last tile is shifted
// inwards and recomputes rows) are wasted. conv3x3 512->512 @7 with the
// fixed 3x4 tile computed 9 rows for 7 and reached 0.53x oneDNN's (blocked)
// speed; the chosen 1x8 wastes none: 0.69x. (A 7x2 tile needs 14
// accumulators + 2 operands + addresses: it spilled, 0.42x.)
struct conv_tile {
    int ty, tk;
};

}  // namespace

double shifted_tiles_useful(int extent, int t) { return double(extent) / (double((extent + t - 1) / t) * t); }

// Useful FMAs per cycle of a register tile's reduction step: two FMA and
// (for the model) two load pipes, the loop's overhead, and the FMA latency:
// a step takes at least 6 cycles, 1.5x the 4-cycle latency, else the tile's
// few accumulators wait on their own FMAs. (Zen 3, AVX2, one thread,
// conv1x1 256->64 @56 N=1: tiles of 8 accumulators 1.7-2.4 ms, of 12
// accumulators 1.3-1.5 ms, bench/constnet_bench --filter 1x1.)
double tile_rate(double useful_fmas, int fmas, int loads, double overhead) {
    return useful_fmas / (std::max({fmas, loads, 12}) / 2.0 + overhead);
}

namespace {

conv_tile choose_conv_tile(int H, int C, const machine& m) {
    conv_tile best{1, 1};
    double best_rate = 0;
    for (int tk = 1; tk <= std::min(C, m.accumulators); ++tk) {
        if (C % tk) continue;  // channel tiles divide C_out: no recomputed channels
        for (int ty = 1; ty <= std::min(H, m.accumulators / tk); ++ty) {
            // +1 cycle: loop and address overhead
            const double rate = tile_rate(ty * tk * shifted_tiles_useful(H, ty), ty * tk, ty + tk, 1.0);
            if (rate > best_rate + 1e-9) best_rate = rate, best = {ty, tk};
        }
    }
    return best;
}

// The vector along a conv's output rows of width W: a full vector also for
// rows a little narrower than one (7 of 8 lanes beat 4 + 3): conv3x3
// 512->512 @7, N=1, one thread, went from 0.32x to 0.53x oneDNN's (blocked)
// speed, measured side by side (bench/run_suite.py).
int row_vector(int W, const machine& m) { return W >= m.vec * 3 / 4 ? m.vec : vector_width(W, m); }

// A convolution's register tiles: root (x, y, c, n), W x H x C per image,
// computes acc per tile of one vector along x x a few rows x a few
// channels; `reduction` is acc's update's reduction in loop order, innermost
// first, its first variable unrolled when `unroll_first`.
void conv_tiles(Func root, Func acc, const std::vector<RVar>& reduction, bool unroll_first, int W, int H, int C,
                const machine& m) {
    const int xv = row_vector(W, m);
    const auto [ty, tk] = choose_conv_tile(H, C, m);
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), ko("ko"), ki("ki");
    root.split(x, xo, xi, xv, W < xv ? TailStrategy::GuardWithIf : TailStrategy::Auto)
        .split(y, yo, yi, ty)
        .split(c, ko, ki, tk)
        .reorder(xi, yi, ki, xo, ko, yo, n)
        .vectorize(xi)
        .unroll(yi)
        .unroll(ki);
    par(root, yo, m);
    par(root, n, m);
    acc.compute_at(root, xo).vectorize(x).unroll(y).unroll(c);
    std::vector<VarOrRVar> order{x, y, c};
    order.insert(order.end(), reduction.begin(), reduction.end());
    order.emplace_back(n);
    acc.update().reorder(order).vectorize(x).unroll(y).unroll(c);
    // The taps along a kernel row (kx) unrolled (constant offsets, less
    // loop overhead): conv3x3 64->64 @56 0.90x -> 0.93x oneDNN, 512->512 @7
    // 0.70x -> 0.69x (noise), LeNet conv1 2.3x -> 1.8x-3.2x (noisy).
    // Unrolling ky too (all 9 taps) let LLVM keep loaded rows live across
    // taps and spill accumulators: all 3x3 convs fell below 0.6x.
    if (unroll_first) acc.update().unroll(reduction[0]);
}

// conv2d: output tiles of xv (one vector) x ty rows x tk channels held in
// registers while the reduction runs over (kx, ky, c_in); each input vector
// is reused for tk channels and each broadcast weight for ty rows. Bias and
// activation are applied to the tile in registers. The padded input is
// materialized once per image.
void schedule_conv2d(Func root, node_funcs f, const layer_desc& d, const machine& m) {
    conv_tiles(root, f.acc, f.acc.rvars(), d.kw <= 5, d.out.w(), d.out.h(), d.out.c(), m);
    const int xv = row_vector(d.out.w(), m);
    // Without padding the tiles read the input directly (no per-image copy),
    // unless a tile wider than the row would read past it. Measured neutral
    // (conv1x1 256->64 @56: 0.61x -> 0.64x oneDNN; LeNet conv2 0.84x -> 0.86x)
    // but it saves the copy's memory.
    if (f.phased.defined()) {
        f.padded.compute_inline();
        schedule_padded(root, f.phased, d, m);
    } else if (!d.has_padding() && d.out.w() >= xv) {
        f.padded.compute_inline();
    } else {
        schedule_padded(root, f.padded, d, m);
    }
}

// Channel-major convs with many input channels reduce over them in blocks of
// this many (layer_desc::winograd_rows_weight and its blocked layout too).
constexpr int channel_block = layer_desc::winograd_in_block;

// How schedule_winograd_rows computes a conv's products (plan_winograd_rows).
struct winograd_plan {
    int row = 1;                // Winograd tiles (of wm pixels) per row, in whole register tiles of tx
    bool whole_image = false;   // the image's products at once (else per row)
    bool all_channels = false;  // ... and for all output channels at once
    int block_vectors = 1;      // all_channels: channel vectors per tile
    int images = 1;             // all_channels: images computed together
    bool image_at_once = false; // in-pipeline weights: all_channels for the whole image, not per row
};

// Small images (fewer than 64 pairs) whose products for all output
// channels fit L2: the blocks of output channels inside each block of
// input channels, which then transforms its rows once, not once per
// block of output channels. Zen 4, one thread, vs oneDNN blocked:
// conv3x3 512->512 @7 0.67-0.80x -> 0.81x (N=1), 0.68-0.78x -> 0.86x
// (N=32); 256->256 @14 (98 pairs) fell from 1.1x to 0.93-1.0x so.
// Their tiles take as many channel vectors as divide the channels (an
// update cannot recompute a shifted last tile). Such a conv reads all its
// weights once per image with little arithmetic per weight (28 pairs of
// pixels use each at 7 x 7): images are computed together, up to 4 whose
// products fit 1 MiB, each block of weights read once for all of them.
// conv3x3 512->512 @7, N=32, alternating runs: 69-83 ms -> 59-61 ms with 4
// images (2: 70-73 ms; 8: 59-62 ms), 0.98-1.16x oneDNN's blocked layout.
//
// A conv whose weights are transformed in the pipeline (winograd_rows_inline)
// computes the image's products for all output channels at once whenever
// they fit L2, whatever the image's size: its input rows' transforms (as
// costly as the products when there are few channels) are then computed
// once, not once for each output row that reads them (kh times). Larger
// ones compute a row's products for all output channels at once when the
// rows are computed one by one (each row's input rows transformed once
// per row, not once per block of output channels: conv5x5 32->64 @28
// 0.52 -> 0.49 ms). Zen 4, one thread, alternating runs
// (bench/constnet_bench): LeNet's forward at batch 1 12.2-12.8 us with the
// direct channel-major tiles, 12.5-13.5 us with the products per output
// row, 11.5-12.3 us with the image at once. LeNet conv2 alone (6 -> 16 k5
// @14), direct -> Winograd: N=1 4.7-5.0 -> 3.8-3.9 us (1.13x -> 1.37x
// oneDNN's blocked layout), N=32 146 -> 114 us (1.10x -> 1.41x).
winograd_plan plan_winograd_rows(const layer_desc& d, const machine& m, int channels, int tx, bool blocks_inside_rows,
                                 bool in_pipeline, bool cm_storage, int wm) {
    winograd_plan p;
    const int cv = vector_width(channels, m);
    const int tiles = (d.out.w() + wm - 1) / wm;
    p.row = (tiles + tx - 1) / tx * tx;
    const long products = 4L * (d.kw + wm - 1) * p.row * d.out.h();  // bytes per output channel of an image
    p.whole_image = !blocks_inside_rows && products * channels <= l2_budget;
    for (int t = 2; t * tx <= m.accumulators && t <= 4; ++t)
        if (d.out.c() % (t * cv) == 0 && (!d.winograd_blocked_weight() || layer_desc::winograd_out_block % (t * cv) == 0)) p.block_vectors = t;
    if (in_pipeline) {
        p.image_at_once = products * d.out.c() <= l2_budget;
        p.all_channels = p.image_at_once || (blocks_inside_rows && !cm_storage);  // else per block of channels
        return p;
    }
    p.all_channels = p.whole_image && p.block_vectors > 1 && p.row * d.out.h() < 64 &&
                     products * d.out.c() <= 2 * l2_budget;
    if (p.all_channels) p.images = static_cast<int>(std::clamp(4 * l2_budget / (products * d.out.c()), 1L, 4L));
    return p;
}

// A channel-major conv as Winograd F(m, 3) along the rows (define_winograd_rows;
// its cm tiles split by schedule_conv2d_channel_major): the products acc are
// reduced over kh x the input channels in blocks of 16, in register tiles of
// tx tiles of m pixels (f.wm: pairs for F(2, 3), fours for F(4, 3)) x the
// block's `channels` (tc vectors) for one point e at a time,
// as the direct conv's tiles below but with a third (F(2, 3)) or half (F(4,
// 3)) fewer multiply-adds and no loop over the taps of a row. acc is computed per row when the blocks of
// output channels run inside the rows (the weights fit L2), else for the
// whole image when it fits L2 (for small images all output channels at
// once), else per row; each block of 16 input channels transforms its
// input rows (wv, kw + 1 floats per pair of pixels) into L1 first. The points e
// are the loop outside the rows: a tile reads one point's weights of the
// block (9 KiB for 3 vectors of 16 channels), which stay in L1 over the
// image's rows. The weights of 3-tap convs with blocks of input channels
// arrive transformed (wu is the parameter, or its flipped view; other
// convs transform theirs once per call, wu_computed): transformed per
// block in the pipeline, they took a third of
// conv3x3 512->512 @7's time (28 pairs of pixels in its image use each; the
// weights were read from memory with little arithmetic to hide it).
// Measured on an AMD Zen 4 (AVX-512), one thread, against oneDNN's blocked
// layout (bench/run_suite.py; the machine's noise is +-10%): conv3x3
// 64->64 @56 0.88x -> 1.07-1.20x, 128 @28 0.92x -> 1.15-1.28x, 256 @14
// 0.84-0.90x -> 1.03-1.17x (N=1 and 32); 512 @7 0.78-0.88x before and after
// (0.86-0.91x with all output channels at once, below). Small images read
// their weights in blocks (layer_desc::winograd_blocked_weight), each
// block of a tile's reduction one sequential run instead of 48 pieces 8 KiB
// apart: conv3x3 512->512 @7 2.31-2.49 ms -> 1.96-2.19 ms (N=1), 82-92 ms
// -> 69-83 ms (N=32) in alternating runs, 0.90-0.99x oneDNN's blocked
// layout. With the weights made to fit L2 (wrong results, timing only) it
// took 1.73 ms: what is left is reading the 12.6 MB of transformed weights
// on every call. Halide 14's prefetch directive made it slower (it
// prefetched one line in four, over four times the region).
// F(4, 3) where the weights arrive unblocked (layer_desc::winograd_outputs:
// a quarter fewer products), its rows' transforms reading the input split
// into 4 phases of columns (define_winograd_rows): AVX2 (Zen 3), one thread,
// alternating runs of the same build with F(2, 3) (bench/constnet_bench,
// min of 3, N=1 / N=32): conv3x3 256->256 @14 2.33 -> 1.79 ms / 74 -> 60
// ms, 96->96 @27 1.19 -> 1.00 ms / 39 -> 33 ms, 128 @28 2.15 -> 2.09 ms / 72
// -> 69 ms; 64 @56 2.46 -> 2.49 ms / 84 -> 84 ms, whose rows' transforms
// (stride-4 reads: loads, permutes and blends) took 40% of its time, then
// with the phases 2.59 -> 2.12 ms / 89 -> 72 ms (96 @27 a further 10%).
// The phases did not help F(2, 3) (conv3x3 512->512 @7, conv5x5 32->64).
void schedule_winograd_rows(node_funcs f, const layer_desc& d, const machine& m, int channels, int tx,
                            bool blocks_inside_rows, bool per_row, const winograd_plan& plan) {
    const int cv = vector_width(channels, m);
    const int tiles = (d.out.w() + f.wm - 1) / f.wm, row = plan.row;
    const bool whole_image = plan.whole_image, all_channels = plan.all_channels;
    const int block_vectors = plan.block_vectors;
    const Var co("co"), e("e");
    Var axo("axo"), axi("axi");
    RVar rco("rco"), rci("rci");
    const auto r = f.acc.rvars();  // ky, input channel
    // all_channels: for the images plan.images computes together (cm's
    // whole region), else per image, per block of channels or per row.
    if (all_channels) f.acc.compute_at(f.cm, Var::outermost());
    else f.acc.compute_at(f.cm, whole_image || blocks_inside_rows ? co : y);
    f.acc.bound_extent(x, row).vectorize(c, cv);
    Stage update = f.acc.update();
    // Input channels in blocks of 16; when they do not come in 16s, all at
    // once if few (up to 32), else in the largest blocks of 4 to 16 that
    // divide them (the block's transformed rows stay in cache), else all.
    const int divisor = divisor_at_most(d.in.c(), channel_block);
    const int block =
        divisor == channel_block || (d.in.c() > 2 * channel_block && divisor >= 4) ? divisor : d.in.c();
    update.split(x, axo, axi, tx).split(r[1], rco, rci, block).unroll(axi);
    if (all_channels) {
        Var cb("cb"), cc("cc");
        update.split(c, cb, cc, block_vectors * cv);
        // Weights in blocks of 64 output channels wider than a tile (AVX2:
        // tiles of 16): the block's tiles inside the rows, so that each
        // block of weights (one sequential run) is read whole while its
        // lines are in cache, not a 64-byte line of every 256-byte row by
        // each tile in turn (whose loads stalled the tile's FMAs). Zen 3,
        // one thread, conv3x3 512->512 @7, alternating runs (min of 4):
        // N=1 2.68 -> 2.22 ms, N=32 84 -> 69 ms, 0.81-0.94x -> 1.14x
        // (N=1) and 1.03x -> 1.23x (N=32) oneDNN's blocked layout.
        const int per_block = layer_desc::winograd_out_block / (block_vectors * cv);
        if (d.winograd_blocked_weight() && per_block > 1) {
            Var cbo("cbo"), cbi("cbi");
            update.split(cb, cbo, cbi, per_block).reorder(cc, axi, r[0], rci, axo, cbi, y, n, e, cbo, rco);
            cb = cbo;
        } else {
            update.reorder(cc, axi, r[0], rci, axo, y, n, e, cb, rco);
        }
        update.vectorize(cc, cv).unroll(cc);
        // The image's products are computed outside the parallel loop over
        // blocks of output channels: parallel over those blocks here (not
        // for a row's products, inside the parallel loop over rows).
        if (m.parallel && !per_row) update.parallel(cb);
    } else {
        update.reorder(c, axi, r[0], rci, axo, y, e, rco, n).vectorize(c, cv).unroll(c);
    }
    f.wv.compute_at(f.acc, rco).reorder(e, x, y, c, n).vectorize(x, vector_width(tiles, m), TailStrategy::RoundUp)
        .unroll(e);
    // Weights transformed in the pipeline: once per call, output channels in the vectors
    if (f.wu_computed) f.wu.compute_root().vectorize(c, vector_width(d.out.c(), m)).unroll(e);
}

// A conv computes channel-major (vectors of output channels, tiles of a few
// pixels of a row) when its weights arrive output-major
// (layer_desc::output_major_weight), row-major (vectors along x) otherwise.
// Measured, one thread (bench/run_suite.py): LeNet conv2 (6->16 k5 @14,
// 10x10 out) 0.96x -> 1.40x oneDNN's blocked layout. The 3x3 convs of
// 64..512 channels (rows of 56..7): on a Sapphire Rapids Xeon they fell to
// 0.45-0.85x (from 0.59-0.90x row-major); on an AMD EPYC (Zen 4, where
// a 16-float FMA takes both 256-bit pipes) they rose from 0.73-0.86x
// (512@7, rows of 7 in 16 lanes: 0.38x) to 0.84-0.93x (N=1; N=32
// 0.91-0.99x), hence the rule's rows of at most 64; the 1x1 conv 256->64 @56
// stayed at 0.84x (0.67x at N=32). Row-major tiles need the weights in
// PyTorch's layout: with tk adjacent channels LLVM merges the broadcasts
// into a vector load and shuffles (3x3 convs 0.27-0.45x).
// The channel-major conv: tiles of tx pixels x tc channel vectors in
// registers while the reduction runs over (kx, ky, c_in); each reduction step
// loads tc weight vectors (contiguous: the weights arrive output-major) and
// broadcasts tx inputs. The result, channel-major, is read back in NCHW
// order by the group's root (bias and activation applied there), per row
// when the rows are computed one by one, else per image.
//
// cm_storage: the group's root is stored channel-major too (its consumer
// reads it so, see lower_forward): bias and activation are applied in a
// separate pass over dense vectors and nothing is transposed. Applying them
// in the register tile instead made LeNet's conv2 3x slower: LLVM hoisted
// exp's constants out of the loop nest and spilled accumulators.
void schedule_conv2d_channel_major(Func root, node_funcs f, const layer_desc& d, const machine& m, bool cm_storage) {
    const int W = d.out.w(), C = d.out.c();
    const bool winograd = f.wv.defined();
    const int tile_w = winograd ? (W + f.wm - 1) / f.wm : W;  // a Winograd tile's columns are tiles of wm pixels
    const int cv = vector_width(C, m);  // 8 channels on AVX-512 when C_out is not a multiple of 16
    const bool channel_blocks = !winograd && d.in.c() >= 2 * channel_block && d.in.c() % channel_block == 0;
    int tc = 1, tx = 1;
    double best = 0;
    for (int c_vectors = 1; c_vectors <= 3 && c_vectors * cv <= C; ++c_vectors)
        for (int t = 1; t * c_vectors <= m.accumulators && t <= tile_w; ++t) {
            // The channel blocks' rows are computed in whole tiles; without
            // padding they read the input itself, which ends with the row.
            if (channel_blocks && !d.has_padding() && W % t != 0) continue;
            // Weights in blocks of 64 output channels: tiles within a block.
            if (d.winograd_blocked_weight() && layer_desc::winograd_out_block % (c_vectors * cv) != 0) continue;
            const double useful = t * c_vectors * shifted_tiles_useful(tile_w, t) * shifted_tiles_useful(C, c_vectors * cv);
            const double rate = tile_rate(useful, t * c_vectors, t + c_vectors, 0.5);
            if (rate > best + 1e-9) best = rate, tx = t, tc = c_vectors;
        }
    Var xo("xo"), xi("xi"), co("co"), ci("ci");
    const bool blocks_inside_rows = 4L * d.in.c() * d.kh * d.kw * C <= l2_budget;
    // Read back in NCHW order per row when the rows are computed one by one
    // (the blocks of channels inside them): the transposing reads then hit
    // L1, not the image's result in L2 or memory. Zen 4, one thread, vs
    // oneDNN's blocked layout: conv1x1 256->64 @56 0.86x -> 0.92x (N=1),
    // 0.90x -> 0.96x (N=32); conv3x3 64->64 @56 (Winograd) 1.14x -> 1.20x.
    const winograd_plan plan =
        winograd ? plan_winograd_rows(d, m, tc * cv, tx, blocks_inside_rows, f.wu_computed, cm_storage, f.wm) : winograd_plan{};
    const bool per_row = !cm_storage && blocks_inside_rows && !plan.image_at_once;
    if (cm_storage) {
        root.reorder_storage(c, x, y, n).reorder(c, x, y, n).vectorize(c, cv);
    } else {
        root.vectorize(x, vector_width(d.out.w(), m), TailStrategy::GuardWithIf);
        if (per_row) root.reorder(x, c, y, n);
        par(root, per_row ? y : c, m);
    }
    Var images("images"), image("image");  // plan.images at a time, computed together
    if (plan.images > 1) {
        root.split(n, images, image, plan.images, TailStrategy::GuardWithIf);  // the last images fewer
        par(root, images, m);
        f.cm.compute_at(root, images);
    } else {
        par(root, n, m);
        f.cm.compute_at(root, per_row ? y : n);
    }
    // The channel blocks inside the rows when the weights fit L2 (each
    // input row is then read once, not once per block), outside them
    // otherwise (a block's weights stay in cache over the rows). conv1x1
    // 256->64 @56 at N=32 reread each image's 3.2 MB for its two blocks:
    // 0.65x -> 0.92x oneDNN's blocked speed (N=1 0.87x, unchanged); conv3x3
    // 512->512 @7 (9.4 MB of weights) needs them outside. The outer of the
    // two loops is the parallel one (for N=1; a parallel loop over the
    // channel blocks of each row made conv3x3 64->64 @56 at N=32 no faster
    // on two threads than on one).
    f.cm.split(c, co, ci, tc * cv);
    // Winograd: whole tiles of wm pixels (a start at a multiple of wm: x % wm
    // is known in the unrolled tile, and the output transform needs no select).
    if (winograd) f.cm.split(x, xo, xi, f.wm * tx, TailStrategy::RoundUp);
    else f.cm.split(x, xo, xi, tx);
    if (blocks_inside_rows) f.cm.reorder(ci, xi, xo, co, y);
    else f.cm.reorder(ci, xi, xo, y, co);
    f.cm.vectorize(ci, cv).unroll(ci).unroll(xi);
    if (!per_row) par(f.cm, blocks_inside_rows ? VarOrRVar(y) : VarOrRVar(co), m);
    const auto r = f.acc.rvars();
    if (winograd) {
        schedule_winograd_rows(f, d, m, tc * cv, tx, blocks_inside_rows, per_row, plan);
        if (f.phased.defined()) {
            f.padded.compute_inline();
            schedule_padded(root, f.phased, d, m);
            const Var s("s");  // the phase (define_winograd_rows), innermost but for the columns
            f.phased.reorder(x, s, y, c, n).unroll(s);
            if (plan.images > 1) f.phased.compute_at(root, images);
        } else if (d.has_padding()) {
            schedule_padded(root, f.padded, d, m);
            if (plan.images > 1) f.padded.compute_at(root, images);
        } else {
            f.padded.compute_inline();
        }
        return;
    }
    // Many input channels: the reduction over them in blocks of 16, each
    // block's weights (16 x kh x kw x the tile's channels: 9 KiB for 3x3 on
    // AVX2) reused from L1 by every tile of the channel block's image, which
    // accumulates in memory (acc for the whole block, read into and out of
    // the registers once per block of 16). Each tile reducing over all the
    // input channels at once streamed the block's weights from L2 for every
    // tile; with tiles 4 pixels wide, a weight vector loaded served 4 FMAs.
    // Rows that the tile width does not divide are computed a little wider
    // (bound_extent: the padded input's copy grows to match). AVX2 (Zen 3,
    // 512 KiB L2), one thread, N=1 (bench/run_suite.py), against oneDNN's
    // blocked layout: conv3x3 64->64 @56 0.84x -> 0.85x, 128 @28 0.47x ->
    // 0.62x, 256 @14 0.42x -> 0.66x, 512 @7 0.39x -> 0.62x (N=32 alike);
    // blocks of 32 channels were no faster. The tiles of all rows share a
    // block's weights when the image's block of outputs fits L2 (256 KiB),
    // else each row's tiles (128 @28 0.59x).
    if (channel_blocks) {
        Var axo("axo"), axi("axi");
        RVar rco("rco"), rci("rci");
        const int row = (W + tx - 1) / tx * tx;  // whole tiles
        const bool image_block_fits = 4L * row * d.out.h() * tc * cv <= l2_budget;
        f.acc.compute_at(f.cm, blocks_inside_rows || image_block_fits ? co : y).vectorize(c, cv);
        if (row != W) f.acc.bound_extent(x, row);
        f.acc.update()
            .split(x, axo, axi, tx)
            .split(r[2], rco, rci, channel_block)
            .reorder(c, axi, r[0], r[1], rci, axo, y, rco, n)
            .vectorize(c, cv)
            .unroll(c)
            .unroll(axi);
    } else {
        f.acc.compute_at(f.cm, xo).vectorize(c, cv).unroll(c).unroll(x);
        f.acc.update().reorder(c, x, r[0], r[1], r[2], y, n).vectorize(c, cv).unroll(c).unroll(x);
    }
    // Not unrolled over kx: the tile's broadcasts overlap across taps
    // (pixel x + kx), LLVM keeps them live and spills accumulators.
    if (d.has_padding()) schedule_padded(root, f.padded, d, m);
    else f.padded.compute_inline();
}

// A pointwise GEMM (plan_pointwise): per chunk of rows, the input rows
// copied into one run (flat), then per block of tk output channels the
// product in register tiles of tp vectors of pixels x tk channels reducing
// over all input channels (a block's weights stay in L1 while the chunk's
// input streams from L2), each block's rows then copied out.
//
// At N=32 (conv1x1 256->64 @56) the chunks' input (3.2 MB an image) comes
// from memory, not L3, and each chunk's first block read it at memory's
// pace: 38-42 ms against oneDNN's NCHW sgemm at 30 ms, with the kernel at
// the FMA peak at N=1. Where the tiles read the input directly, software
// prefetches (gemm_prefetch, a pass after lowering) fetch the next chunk's
// input spread over the current chunk's work. One thread, Zen 4, three
// alternating runs against the same build without them (bench, filter
// "1x1"), ratio to oneDNN's faster layout: 256->64 N=32 0.74 -> 0.93 (42 ->
// 32-35 ms), 64->256 N=32 0.73 -> 0.88; N=1 unchanged (0.90-1.0 ms). The
// register tile is its own Func (acc, per tile) so that LLVM keeps it in
// registers around the prefetch calls (which may write memory, for all it
// knows: with the tile in the chunk's buffer it stored the accumulators
// every step, 2.2x slower).
// Measured and not kept (one thread, Zen 4): Halide 14's prefetch
// directive (inside the reduction 117-124 ms, per tile 64 ms, per chunk
// unchanged: its split prefetch steps 64 elements, not 64 bytes, so one
// line in four); prefetching only the next tile (unchanged: a block's reads
// still come at once); prefetching the output lines each block writes
// (Halide emits prefetchnta: 32 ms in some runs, 45-62 ms in others; on Zen
// 3 as shares of the next block's lines before each tile, 64->256 N=32
// 48-53 -> 43-47 ms in two sets of alternating rounds, unchanged in two
// later ones, where N=1 went 1.22 -> 1.38-1.43 ms; with prefetcht0 through
// llvm.prefetch alike); unrolling the reduction by the input prefetches'
// period to drop their per-step test (Zen 3, 256->64 @56: 1.15 -> 1.24 ms
// at N=1, 40-41 -> 43-44 ms at N=32, alternating runs); chunks
// of 4 rows (tiles of 2 vectors x 8 channels) with the prefetches (as
// variable); tiles of two whole rows (7 vectors x 2 channels) each copied
// out as soon as it is done, so that the output is written a little at a
// time (38-48 ms, and 1.04-1.17 ms at N=1); the reduction split into blocks
// of 8-32 input channels outside the tiles; a copy of each chunk (chunks of
// 8 / 4 / 2 rows: 40-41 / 44-46 / 51 ms); transparent huge pages.
// Zen 3, one thread, 256->64 @56, alternating runs against this schedule
// (N=1 1.13-1.18 ms, N=32 39-41 ms): tiles of 4 channels x 3 vectors
// (copied chunks) 1.19 ms / 45 ms, 8 x 1 1.41 / 48, 4 x 2 1.27 / 46, 5 x 2
// 1.26 / 46; the reduction unrolled by 2 or 4 (prefetches per plane) and a
// prefetch of the tile's own input 3 or 8 planes ahead: within the noise;
// the blocks of channels inside the tiles (a tile's input read once from
// memory): 1.15 / 38.5 ms, but 64->256 and s2 256->512 2-4% slower; the
// chunk packed into tiles (the reduction one sequential run, L1-resident
// across the blocks), with the prefetches fetching the copy's source:
// 1.17-1.26 / 43-46 ms, the copy ~23% of the time (256 planes 12.5 KB
// apart, waiting on memory).
std::optional<gemm_prefetch> schedule_pointwise_gemm(Func root, node_funcs f, const layer_desc& d,
                                                     const machine& m) {
    const gemm_plan& plan = f.gemm;
    const int W = d.out.w(), T = plan.tp * m.vec;
    const Var p("p"), chunk("chunk");
    Var yo("yo"), yi("yi"), co("co"), ci("ci"), po("po"), pi("pi"), py("py"), px("px");
    root.split(y, yo, yi, plan.rows, TailStrategy::GuardWithIf)
        .split(c, co, ci, plan.tk, TailStrategy::ShiftInwards)
        .reorder(x, yi, ci, co, yo, n)
        .vectorize(x, vector_width(W, m), TailStrategy::GuardWithIf);
    par(root, yo, m);
    par(root, n, m);
    f.chunk.compute_at(root, co)
        .bound_extent(p, plan.tiles * T)
        .split(p, po, pi, T)
        .reorder(pi, c, po, chunk, n)
        .vectorize(pi, m.vec)
        .unroll(pi)
        .unroll(c);
    f.acc.compute_at(f.chunk, po).vectorize(p, m.vec).unroll(p).unroll(c);
    const RVar k = f.acc.rvars()[0];
    f.acc.update().reorder(p, c, k, chunk, n).vectorize(p, m.vec).unroll(p).unroll(c);
    if (!plan.direct) {
        // The copy row by row: x and the row come from the loops, no division.
        f.flat.compute_at(root, yo)
            .split(p, py, px, W, TailStrategy::GuardWithIf)
            .reorder(px, py, c, chunk, n)
            .vectorize(px, vector_width(W, m));
        return std::nullopt;
    }
    // Direct: the tiles read the input planes, a chunk one run of each.
    const std::string r = root.name() + ".s0.";
    return gemm_prefetch{.reduction = f.acc.name() + ".s1." + k.name(),
                         .tile = f.chunk.name() + ".s0.p.po",
                         .block = r + "c.co",
                         .chunk = r + "y.yo",
                         .image = r + "n",
                         .acc = f.acc.name(),
                         .in_channels = d.in.c(),
                         .tiles = plan.tiles,
                         .blocks = d.out.c() / plan.tk,  // a shifted last block is peeled off
                         .chunks = d.out.h() / plan.rows,
                         .lines = (plan.rows * W + line_floats - 1) / line_floats};
}

void schedule_pool(Func root, node_funcs f, const layer_desc& d, const machine& m, bool cm_storage) {
    // The windows read the input itself (with the padding's fill where they
    // leave it): no per-image copy.
    f.padded.compute_inline();
    if (cm_storage) {  // input and output channel-major: vectors of channels
        root.reorder_storage(c, x, y, n).reorder(c, x, y, n).vectorize(c, vector_width(d.out.c(), m));
        par(root, n, m);
        return;
    }
    // One vector along a row with horizontal padding: the row's loop then
    // has a first vector (the one whose windows leave the row) and a middle
    // of dense strided loads (pad_spatial's likely); with two vectors (the
    // last shifted inwards) every vector clamped its index into a gather,
    // slow where the CPU mitigates Gather Data Sampling (this Sapphire
    // Rapids): maxpool 3x3 s2 p1 64@112, one thread, 0.59 -> 0.23 ms at N=1
    // (0.42x -> 1.08x oneDNN blocked, 2.3x its NCHW), 0.59x -> 0.93x at N=32.
    const int xv = (d.pad_left || d.pad_right) ? vector_width(d.out.w(), m)
                   : d.out.w() >= 2 * m.vec ? 2 * m.vec : vector_width(d.out.w(), m);
    // Parallel over channels (outside the rows): a parallel loop over rows
    // inside the loop over channels launched 64 small task sets per image.
    // Measured, one thread, N=1 (bench/run_suite.py): avgpool 2x2 s2 64@112
    // 0.124 -> 0.065 ms (0.47x -> 0.91x oneDNN blocked), maxpool 3x3 s2 p1
    // 0.275 -> 0.200 ms, also reading the padding inline instead of copying it.
    root.vectorize(x, xv);
    par(root, c, m);
    par(root, n, m);
}

// dense: per sample, tiles of two vectors of outputs accumulate in registers
// over the whole input, reading the weights transposed (output features
// contiguous): given so by the caller, or transposed once per call. LeNet at
// batch 1 spent a third of its time in that per-call transpose (Halide's
// profiler); constnet::model now prepares it when the weights change.
//
// Batched (a trailing run of dense layers, when the batch has at least
// `images` samples): the output's loop over the batch runs in blocks of
// `images` samples (the last block shifted inwards), the run's layers are
// computed per block, and each tile is outputs x all samples of the block:
// each weight vector loaded is used for every sample (a blocked
// matrix-multiply), where per sample it is used once. Smaller batches take
// the per-sample path (`when` false).
struct dense_batching {
    Expr when;            // undefined: per sample only
    int images = 1;       // samples per block
    bool output = false;  // this layer is the pipeline's output (it owns the blocks)
};

int dense_block_images(const machine& m) { return std::max(1, m.accumulators / 2); }

void schedule_dense(Func root, node_funcs f, const layer_desc& d, const machine& m, const dense_batching& b = {}) {
    const int uv = vector_width(d.units, m);
    const int tile = dense_tile(d.units, m);
    Var io("io"), ii("ii"), ni("ni");
    const auto rvars = f.acc.rvars();
    if (b.when.defined()) {
        // The block loop (no) exists in both branches.
        Stage batched = root.specialize(b.when);
        batched.split(n, no, ni, b.images).split(i, io, ii, tile).reorder(ii, ni, io, no).vectorize(ii, uv).unroll(ni);
        if (tile > uv) batched.unroll(ii);
        if (b.output) {
            if (m.parallel) batched.parallel(no);
            root.split(n, no, ni, 1).split(i, io, ii, tile).reorder(ii, io, ni, no).vectorize(ii, uv);
            par(root, no, m);
        } else {
            root.split(i, io, ii, tile).reorder(ii, io, n).vectorize(ii, uv);
        }
        std::vector<VarOrRVar> order{i, n};
        for (const RVar& r : rvars) order.emplace_back(r);
        f.acc.compute_at(root, io);
        Stage pure = f.acc.specialize(b.when);
        pure.vectorize(i, uv).unroll(n);
        Stage update = f.acc.update().specialize(b.when);
        update.reorder(order).vectorize(i, uv).unroll(n);
        if (tile > uv) pure.unroll(i), update.unroll(i);
    } else {
        root.split(i, io, ii, tile).reorder(ii, io, n).vectorize(ii, uv);
        par(root, n, m);
        f.acc.compute_at(root, io);
    }
    f.acc.vectorize(i, uv);
    std::vector<VarOrRVar> order{i};
    for (const RVar& r : rvars) order.emplace_back(r);
    order.emplace_back(n);
    f.acc.update().reorder(order).vectorize(i, uv);
    if (tile > uv) {
        f.acc.unroll(i);
        f.acc.update().unroll(i);
    }
    if (f.wt_given) f.wt.compute_inline();  // the caller transposed the weights once
    else f.wt.compute_root().vectorize(i, uv, TailStrategy::GuardWithIf);
}

void schedule_softmax(Func root, node_funcs f, const layer_desc& d, const machine& m) {
    root.vectorize(i, vector_width(d.out.features(), m));
    par(root, n, m);
    f.mx.compute_at(root, n);
    f.scan.compute_at(root, n);
    f.sum.compute_at(root, n);
}

void schedule_elementwise(Func root, const tensor_shape& s, const machine& m) {
    if (s.rank == 3) {
        root.vectorize(x, vector_width(s.w(), m));
        par(root, c, m);
    } else {
        root.vectorize(i, vector_width(s.features(), m));
    }
    par(root, n, m);
}

std::string describe_for_error(int index, const layer_desc& d) {
    return fmt::format("node {} ({}, layer {})", index, op_name(d.kind), module_index(index));
}

}  // namespace

int divisor_at_most(int extent, int limit) {
    for (int t = std::min(extent, limit); t > 1; --t)
        if (extent % t == 0) return t;
    return 1;
}

int vector_width(int extent, const machine& m) {
    int v = 1;
    while (v * 2 <= std::min(extent, m.vec)) v *= 2;
    return v;
}

int dense_tile(int units, const machine& m) {
    const int uv = vector_width(units, m);
    return units >= 2 * uv ? 2 * uv : uv;
}

namespace {
bool cpu_has_avx_vnni() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
    return (eax >> 4) & 1;  // CPUID.(EAX=7,ECX=1):EAX[4] AVX-VNNI
#else
    return true;
#endif
}

// `t` (Halide's detection of this CPU) without what the CPU lacks.
Target supported_here(Target t) {
    if (t.has_feature(Target::AVX512_SapphireRapids) && !cpu_has_avx_vnni())
        t = t.without_feature(Target::AVX512_SapphireRapids).with_feature(Target::AVX512_Cannonlake);
    return t;
}
}  // namespace

Target host_target() { return supported_here(get_host_target()); }

Target parse_target(const std::string& text) {
    const bool host = text == "host" || text.rfind("host-", 0) == 0;
    return host ? supported_here(Target(text)) : Target(text);
}

machine machine_for(const Target& t) {
    machine m;
    m.vec = t.natural_vector_size<float>();
    // AVX-512 has 32 vector registers, AVX2/SSE 16: keep room for the
    // broadcast weights and input vectors next to the accumulators (14 of
    // 16 spilled: bench/run_suite.py, every 3x3 conv below 0.6x oneDNN).
    m.accumulators = t.has_feature(Target::AVX512) ? 24 : 12;
    return m;
}

void constrain(OutputImageParam b, const std::vector<int>& extents) {
    int stride = 1;
    for (std::size_t k = 0; k < extents.size(); ++k) {
        b.dim(k).set_bounds(0, extents[k]).set_stride(stride);
        stride *= extents[k];
    }
    if (static_cast<int>(extents.size()) < b.dimensions()) b.dim(extents.size()).set_min(0).set_stride(stride);
}

namespace {

using Internal::Stmt;

// An expression with the enclosing lets (outermost first) substituted in.
Expr inline_lets(Expr e, const std::vector<std::pair<std::string, Expr>>& lets) {
    for (auto it = lets.rbegin(); it != lets.rend(); ++it) e = Internal::substitute(it->first, it->second, e);
    return e;
}

// The first vector load in a statement from a buffer other than `skip`:
// its buffer, element type and base index (the lets around it inlined).
struct first_vector_load : Internal::IRVisitor {
    using IRVisitor::visit;
    std::string skip;
    std::vector<std::pair<std::string, Expr>> lets;
    std::string buffer;
    Type type;
    Expr base;
    void visit(const Internal::LetStmt* op) override {
        op->value.accept(this);
        lets.emplace_back(op->name, op->value);
        op->body.accept(this);
        lets.pop_back();
    }
    void visit(const Internal::Load* op) override {
        const auto* r = op->index.as<Internal::Ramp>();
        if (!base.defined() && r && op->name != skip)
            buffer = op->name, type = op->type.element_of(), base = inline_lets(r->base, lets);
        IRVisitor::visit(op);
    }
};

// Adds gemm_prefetch's prefetches to the lowered statement: in steps of the
// reduction (one input plane of one register tile), lines of the next
// chunk's input (after an image's last chunk, the next image's first),
// spread evenly over the chunk's steps (blocks x tiles x input channels;
// see prefetching), so that its reads come at the pace of the work
// instead of all in the first block's pass. The last image's prefetches
// point past the input: a prefetch never faults.
class add_gemm_prefetches : public Internal::IRMutator {
public:
    explicit add_gemm_prefetches(std::vector<gemm_prefetch> plans) : plans_(std::move(plans)) {}

private:
    using IRMutator::visit;
    std::vector<gemm_prefetch> plans_;
    std::vector<std::pair<std::string, Expr>> lets_;
    std::vector<std::string> loops_;

    Stmt visit(const Internal::LetStmt* op) override {
        lets_.emplace_back(op->name, op->value);
        Stmt body = mutate(op->body);
        lets_.pop_back();
        return body.same_as(op->body) ? Stmt(op) : Internal::LetStmt::make(op->name, op->value, body);
    }
    Stmt visit(const Internal::For* op) override {
        // Not in a copy of the reduction outside the loop over several
        // blocks: that is the shifted last block of channels, which Halide
        // peels off and which runs after the lines were fetched
        // (gemm_prefetch::blocks counts the loop's blocks).
        for (const gemm_prefetch& g : plans_)
            if (op->name == g.reduction && (g.blocks == 1 || in_loop(g.block))) return prefetching(op, g);
        loops_.push_back(op->name);
        Stmt s = IRMutator::visit(op);
        loops_.pop_back();
        return s;
    }
    bool in_loop(const std::string& name) const {
        return std::find(loops_.begin(), loops_.end(), name) != loops_.end();
    }
    // A loop's variable (a loop of extent 1 is gone from the statement: 0).
    Expr loop(const std::string& name) const {
        return in_loop(name) ? Internal::Variable::make(Int(32), name) : Expr(0);
    }
    Stmt prefetching(const Internal::For* op, const gemm_prefetch& g) {
        first_vector_load in;  // the tile's first vector of input (its other loads are the weights')
        in.skip = g.acc;
        in.lets = lets_;
        op->body.accept(&in);
        if (!in.base.defined()) return IRMutator::visit(op);
        const Expr k = Internal::Variable::make(Int(32), op->name);
        const Expr following = loop(g.chunk) + 1;
        // The input of the next chunk's first tile at plane k.
        const Expr next = Internal::substitute(
            {{g.tile, Expr(0)}, {g.chunk, following % g.chunks}, {g.image, loop(g.image) + following / g.chunks}},
            in.base);
        // Tile q of the chunk's blocks x tiles (in loop order) fetches, at
        // step k, line q / R of plane k when k and q agree modulo R, a power
        // of two: each line of each plane once, one prefetch per R steps,
        // spread evenly over the chunk's work. The address is linear in k
        // (as the tile's own loads: no per-step index arithmetic) and the
        // condition a mask; with more lines than tiles, m lines per step.
        // (A step's line computed from its position in the whole chunk,
        // with divisions by the line count, cost ~20 integer instructions
        // per step: AVX2 tiles of 8-12 FMAs ran at a third of the peak.)
        const int pairs = g.blocks * g.tiles;
        int period = 1;
        while (2 * period * g.lines <= pairs) period *= 2;
        const int m = (g.lines + pairs - 1) / pairs;  // lines per fetching step (1 unless tiles are few)
        const Expr q = loop(g.block) * g.tiles + loop(g.tile);
        const Expr fetching = period == 1 ? Internal::const_true() : (k % period) == (q % period);
        std::vector<Stmt> body;
        for (int i = 0; i < m; ++i) {
            const Expr line = (q / period) * m + i;
            const Expr at = next + line * line_floats;
            Stmt fetch = Internal::Evaluate::make(Internal::Call::make(
                in.type, Internal::Call::prefetch,
                {Internal::Variable::make(Handle(), in.buffer), Internal::simplify(at), 1, line_floats},
                Internal::Call::Intrinsic));
            body.push_back(Internal::IfThenElse::make(Internal::simplify(fetching && line < g.lines), fetch));
        }
        body.push_back(mutate(op->body));
        return Internal::For::make(op->name, op->min, op->extent, op->for_type, op->device_api,
                                   Internal::Block::make(body));
    }
};

}  // namespace

Pipeline forward_pipeline::pipeline() const {
    Pipeline p(output);
    if (!prefetches.empty()) p.add_custom_lowering_pass(new add_gemm_prefetches(prefetches));
    return p;
}

std::vector<Argument> forward_pipeline::arguments() const {
    std::vector<Argument> args{input};
    for (const auto& p : params) args.emplace_back(p);
    return args;
}

void validate(std::span<const layer_desc> nodes) {
    auto fail = [](int idx, const layer_desc& d, const std::string& what) {
        throw std::invalid_argument(fmt::format("constnet: {}: {}", describe_for_error(idx, d), what));
    };
    if (nodes.empty() || nodes[0].kind != op::input) throw std::invalid_argument("constnet: a network starts with an input node");
    const tensor_shape in0 = nodes[0].out;
    for (int k = 0; k < in0.rank; ++k)
        if (in0.dims[k] < 1)
            throw std::invalid_argument(fmt::format("constnet: the input's extents must be at least 1, got {}", format_shape(in0)));
    // The same rules the DSL checks at compile time (dsl/rules.hpp).
    for (int idx = 1; idx < static_cast<int>(nodes.size()); ++idx) {
        const auto& d = nodes[idx];
        if (d.inputs[0] < 0 || d.inputs[0] >= idx) fail(idx, d, fmt::format("input edge {} is not an earlier node", d.inputs[0]));
        const tensor_shape in = nodes[d.inputs[0]].out;
        if (!(d.in == in)) fail(idx, d, "its input shape differs from its producer's output shape");
        if (d.kind == op::input) fail(idx, d, "input can only be the first node");
        if (d.kind == op::conv2d || is_pool(d.kind)) {
            if (in.rank != 3) fail(idx, d, fmt::format("needs a C x H x W input, got {}", format_shape(in)));
            if (d.kh < 1 || d.kw < 1) fail(idx, d, fmt::format("kernel {}x{} must be at least 1", d.kh, d.kw));
            if (d.sh < 1 || d.sw < 1) fail(idx, d, fmt::format("stride {}x{} must be at least 1", d.sh, d.sw));
            if (d.same && (d.kh % 2 == 0 || d.kw % 2 == 0))
                fail(idx, d, fmt::format("'same' padding needs an odd kernel, got {}x{}", d.kh, d.kw));
            if (d.same && (d.sh != 1 || d.sw != 1)) fail(idx, d, fmt::format("'same' padding needs stride 1, got {}x{}", d.sh, d.sw));
            if (std::min({d.pad_top, d.pad_bottom, d.pad_left, d.pad_right}) < 0) fail(idx, d, "padding must be >= 0");
            if (is_pool(d.kind) && (2 * std::max(d.pad_top, d.pad_bottom) > d.kh || 2 * std::max(d.pad_left, d.pad_right) > d.kw))
                fail(idx, d, fmt::format("pooling padding ({}, {}, {}, {}) is larger than half the window {}x{}", d.pad_top,
                                         d.pad_bottom, d.pad_left, d.pad_right, d.kh, d.kw));
            if (in.h() + d.pad_top + d.pad_bottom < d.kh || in.w() + d.pad_left + d.pad_right < d.kw)
                fail(idx, d, fmt::format("kernel {}x{} is larger than the padded input {}x{}", d.kh, d.kw,
                                         in.h() + d.pad_top + d.pad_bottom, in.w() + d.pad_left + d.pad_right));
        }
        if ((d.kind == op::dense || d.kind == op::softmax) && in.rank != 1)
            fail(idx, d, fmt::format("needs a flat input, got {}", format_shape(in)));
        if ((d.kind == op::dense || d.kind == op::conv2d) && d.units < 1) fail(idx, d, "needs at least one output");
        if (d.expect_in != 0 && d.expect_in != (d.kind == op::conv2d ? in.c() : static_cast<int>(in.size())))
            fail(idx, d, fmt::format("states {} input channels/features, but its input {} has {}", d.expect_in,
                                     format_shape(in), d.kind == op::conv2d ? in.c() : static_cast<int>(in.size())));
        // Everything derived (output shape, 'same' pads) must be what the rules derive.
        if (!(infer_shapes(d, in) == d))
            fail(idx, d, fmt::format("its derived fields (output {}, padding {},{},{},{}) disagree with the shape rules",
                                     format_shape(d.out), d.pad_top, d.pad_bottom, d.pad_left, d.pad_right));
    }
}

namespace {

// Halide's autoscheduler plugins, by name (one table: the names accepted and
// the plugins loaded).
constexpr std::pair<const char*, const char*> autoscheduler_plugins[] = {
    {"Mullapudi2016", CONSTNET_MULLAPUDI2016_PLUGIN},
    {"Li2018", CONSTNET_LI2018_PLUGIN},
    {"Adams2019", CONSTNET_ADAMS2019_PLUGIN},
};

}  // namespace

const std::vector<std::string>& autoschedulers() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& [name, plugin] : autoscheduler_plugins) v.emplace_back(name);
        return v;
    }();
    return names;
}

void load_autoscheduler(const std::string& name) {
    const auto* it = std::find_if(std::begin(autoscheduler_plugins), std::end(autoscheduler_plugins),
                                  [&](const auto& p) { return name == p.first; });
    if (it == std::end(autoscheduler_plugins))
        throw std::invalid_argument(fmt::format("constnet: no Halide autoscheduler named '{}' (expected one of {})",
                                                name, fmt::join(autoschedulers(), ", ")));
    static std::mutex m;
    static std::set<std::string> loaded;
    const std::lock_guard lock(m);
    if (loaded.insert(name).second) load_plugin(it->second);
}

namespace {

// For comparison with constnet's schedules: estimates (constant C/H/W, a
// batch of `batch_estimate`) and one of Halide's autoschedulers (see
// load_autoscheduler): Mullapudi2016 and Li2018 schedule a forward pass in
// seconds; Adams2019 only when asked for by name (it can take minutes and
// gigabytes per conv).
void autoschedule_forward(forward_pipeline& p, const tensor_shape& in_shape, const lower_options& opt) {
    load_autoscheduler(opt.autoscheduler);
    constexpr int batch_estimate = 256;
    const auto estimate = [](OutputImageParam b, std::vector<int> extents) {
        Region r;
        for (int e : extents) r.push_back({0, e});
        r.push_back({0, batch_estimate});
        b.set_estimates(r);
    };
    const auto spatial = [](const tensor_shape& s) {
        return s.rank == 3 ? std::vector<int>{s.w(), s.h(), s.c()} : std::vector<int>{s.features()};
    };
    estimate(p.input, spatial(in_shape));
    for (std::size_t k = 0; k < p.params.size(); ++k) {
        Region r;
        for (int e : p.param_extents[k]) r.push_back({0, e});
        p.params[k].set_estimates(r);
    }
    Region out;
    for (int e : p.output_extents) out.push_back({0, e});
    out.push_back({0, batch_estimate});
    p.output.set_estimates(out);
    const int cores = std::max(1u, std::thread::hardware_concurrency());
    Pipeline(p.output).auto_schedule(opt.autoscheduler, opt.target, MachineParams(cores, 16 * 1024 * 1024, 40));
}

}  // namespace

// Whether the forward computes an output-major conv as Winograd F(2, kw)
// along its rows with its weights transformed in the pipeline
// (define_winograd_rows): stride 1 along the rows, 3 to 5 taps (the points
// beyond +-2 make F(2, r) lose precision), not those of 3 taps whose model
// transforms their weights (layer_desc::winograd_rows_weight), and enough
// input channels x kernel rows that the products outweigh the input rows'
// transforms (as the train step's rule, train.cpp winograd_rows). Zen 4,
// one thread, against oneDNN's blocked layout (bench/constnet_bench, N=1 /
// N=32): conv5x5 32->64 p2 @28 0.85-0.90x / 0.85-0.89x with the direct
// tiles over blocks of 16 input channels -> 1.27-1.30x / 1.18-1.25x; two
// threads 0.80x / 0.84x -> 1.0x / 1.12x. LeNet conv2: see plan_winograd_rows.
bool winograd_rows_inline(const layer_desc& d) {
    return d.kind == op::conv2d && d.output_major_weight() && !d.winograd_rows_weight() && !d.pointwise_gemm() &&
           d.sw == 1 && d.kw >= 3 && d.kw <= 5 && d.in.c() * d.kh >= 16;
}

forward_pipeline lower_forward(std::span<const layer_desc> nodes, const lower_options& opt) {
    validate(nodes);
    forward_pipeline p;
    const tensor_shape in_shape = nodes[0].out;
    const bool spatial_input = in_shape.rank == 3;
    p.input = ImageParam(Float(32), spatial_input ? 4 : 2, "input");

    // Constant bounds and dense strides on every buffer: C, H, W are known,
    // only the batch is not.
    auto spatial_extents = [](const tensor_shape& s) {
        return s.rank == 3 ? std::vector<int>{s.w(), s.h(), s.c()} : std::vector<int>{s.features()};
    };
    constrain(p.input, spatial_extents(in_shape));

    std::vector<node_funcs> funcs(nodes.size());
    Func input = p.input;
    if (opt.bounded_reads) {
        Region all;
        for (int e : spatial_extents(in_shape)) all.push_back({0, e});
        all.push_back({0, p.input.dim(p.input.dimensions() - 1).extent()});
        input = BoundaryConditions::constant_exterior(p.input, 0.0f, all);
    }
    funcs[0].out = {input, in_shape, {}, {}};
    p.parts.resize(nodes.size());
    for (int idx = 1; idx < static_cast<int>(nodes.size()); ++idx) {
        const auto& d = nodes[idx];
        const value& in = funcs[d.inputs[0]].out;
        const std::string name = node_name(idx, d);
        const Func* bias = nullptr;
        const bool output_major = opt.weights_output_major && d.output_major_weight();
        const bool scheduled = opt.schedule && opt.autoscheduler.empty();  // by constnet's schedules
        const bool channel_major = output_major && scheduled;
        ImageParam w, b;
        Func wf, bf;
        if (d.has_params()) {
            const int mod = module_index(idx);
            w = ImageParam(Float(32), d.weight_rank(), fmt::format("p{}_weight", mod));
            const auto fe = d.forward_weight_extents(opt.weights_output_major);
            p.param_extents.emplace_back(fe.begin(), fe.begin() + d.weight_rank());
            constrain(w, p.param_extents.back());
            p.params.push_back(w);
            wf = opt.bounded_reads ? BoundaryConditions::repeat_edge(w) : Func(w);
            if (output_major && d.winograd_blocked_weight()) {
                // back to (C_out, 4, kh, C_in) indexing; a tile's channels
                // lie within a block, so its loads stay dense vectors
                Func unblocked(fmt::format("p{}_weight_unblocked", mod));
                const int bo = layer_desc::winograd_out_block, bi = layer_desc::winograd_in_block;
                unblocked(c, x, y, n) = wf(c % bo, y + d.kh * (n % bi), x + 4 * (c / bo), n / bi);
                wf = unblocked;
            }
            if (output_major && d.kind == op::conv2d && !(channel_major && d.winograd_rows_weight())) {
                // back to (kw, kh, C_in, C_out) indexing
                Func rotated(fmt::format("p{}_weight_om", mod));
                if (d.winograd_outputs() == 4)  // the taps from F(4, 3)'s U: g0 = 4 U0, g1 = 3 (U2 - U1), g2 = U5
                    rotated(x, y, c, n) = mux(x, {4.0f * wf(n, 0, y, c), 3.0f * (wf(n, 2, y, c) - wf(n, 1, y, c)), wf(n, 5, y, c)});
                else if (d.winograd_rows_weight())  // from F(2, 3)'s: g0 = U0, g1 = U1 - U2, g2 = U3
                    rotated(x, y, c, n) = mux(x, {wf(n, 0, y, c), wf(n, 1, y, c) - wf(n, 2, y, c), wf(n, 3, y, c)});
                else
                    rotated(x, y, c, n) = wf(n, x, y, c);
                wf = rotated;
            }
            if (d.bias) {
                b = ImageParam(Float(32), 1, fmt::format("p{}_bias", mod));
                p.param_extents.push_back({d.units});
                constrain(b, p.param_extents.back());
                p.params.push_back(b);
                bf = opt.bounded_reads ? BoundaryConditions::repeat_edge(b) : Func(b);
                bias = &bf;
            }
        }
        switch (d.kind) {
        case op::conv2d: {
            const bool gemm = d.pointwise_gemm() && scheduled;
            const gemm_plan plan = gemm ? plan_pointwise(d, machine_for(opt.target)) : gemm_plan{};
            funcs[idx] = define_conv2d(d, in, wf, bias, channel_major, scheduled && !channel_major,
                                       gemm ? &plan : nullptr, name);
            break;
        }
        case op::dense:
            funcs[idx] = define_dense(d, in, wf, bias, output_major, name);
            break;
        case op::max_pool:
        case op::avg_pool: funcs[idx] = define_pool(d, in, name); break;
        case op::relu:
        case op::sigmoid:
        case op::tanh: funcs[idx] = define_activation(d, in, name); break;
        case op::flatten: funcs[idx] = define_flatten(d, in, name); break;
        case op::softmax: funcs[idx] = define_softmax(d, in, name); break;
        case op::input: throw std::invalid_argument("constnet: input can only be the first node");
        }
        funcs[idx].out.shape = d.out;
        p.parts[idx] = {funcs[idx].acc, funcs[idx].padded, wf, bf, in.spatial.defined() ? in.spatial : in.f,
                        funcs[idx].wt};
    }

    const int last = static_cast<int>(nodes.size()) - 1;
    p.output = funcs[last].out.f;
    if (last == 0 || (nodes[last].kind == op::flatten && nodes[last].in.rank == 1)) {
        Func id("output");  // the output must be a Func of its own
        if (nodes[last].out.rank == 3) id(x, y, c, n) = p.output(x, y, c, n);
        else id(i, n) = p.output(i, n);
        p.output = id;
    }
    for (const auto& f : funcs) p.nodes.push_back(f.out.f);
    p.output_extents = spatial_extents(nodes[last].out);
    if (opt.output_is_pipeline_output) constrain(p.output.output_buffer(), p.output_extents);
    if (!opt.schedule) return p;
    if (!opt.autoscheduler.empty()) {
        autoschedule_forward(p, in_shape, opt);
        return p;
    }

    // Groups: a head node and the activations that follow it; the group's
    // root is its last node. A flatten without activation is no group of its
    // own (its consumer reads through it). In a chain, every root but the
    // output's is computed per image inside its consumer's loop over the
    // batch: the whole network runs image by image with its intermediates
    // in cache, parallel over images only at the output. Measured on one core
    // (HL_NUM_THREADS=1, taskset): LeNet batch 256 9.4 -> 6.6 ms; two threads
    // 6.0 -> 3.3 ms (the pools were separate, poorly parallel passes).
    struct group {
        int head, end;
        Func root;
    };
    std::vector<group> groups;
    for (int idx = 1; idx <= last;) {
        int end = idx;
        while (end + 1 <= last && is_activation(nodes[end + 1].kind)) ++end;
        const bool passive_flatten = nodes[idx].kind == op::flatten && end == idx && end != last;
        if (!passive_flatten) groups.push_back({idx, end, end == last ? p.output : funcs[end].out.f});
        idx = end + 1;
    }
    bool chain = true;
    for (int idx = 1; idx <= last; ++idx) chain &= nodes[idx].inputs[0] == idx - 1 && nodes[idx].inputs[1] < 0;
    // Channel-major storage between groups: a channel-major conv's group (and
    // a pool after it) keeps its result channel-major when its consumer reads
    // it so without transposing: a dense layer (scalar reads through a
    // flatten) or such a pool. LeNet conv2 -> sigmoid -> pool -> dense: the
    // transposing copy and gathers took 13% of batch-1 time (profiler).
    std::vector<bool> candidate(groups.size()), cm_storage(groups.size());
    for (std::size_t g = 0; g < groups.size() && chain; ++g) {
        const layer_desc& head = nodes[groups[g].head];
        candidate[g] = (head.kind == op::conv2d && funcs[groups[g].head].cm.defined()) ||
                       (is_pool(head.kind) && g > 0 && candidate[g - 1]);
    }
    for (std::size_t g = groups.size(); g-- > 0;) {
        if (!candidate[g] || g + 1 == groups.size()) continue;
        const op next = nodes[groups[g + 1].head].kind;
        cm_storage[g] = next == op::dense || (is_pool(next) && cm_storage[g + 1]);
    }
    const machine at_root = machine_for(opt.target);
    machine per_image = at_root;
    per_image.parallel = false;
    // A trailing run of dense layers is batched (schedule_dense); the group
    // before it is computed per block too, the groups before that per image.
    std::size_t first_dense = groups.size();
    dense_batching batching;
    // The output, when not the pipeline's (an eval pipeline's loss reads
    // it), is computed at root and owns the blocks just the same. LeNet's
    // eval, batches of 1000, one thread: 20.2 ms with the dense layers per
    // sample, 14.7 in blocks (the forward alone: 10.7).
    if (chain && !groups.empty() && nodes[groups.back().head].kind == op::dense) {
        first_dense = groups.size() - 1;
        while (first_dense > 0 && nodes[groups[first_dense - 1].head].kind == op::dense) --first_dense;
        batching.images = dense_block_images(at_root);
        const Expr batch = opt.output_is_pipeline_output
                               ? p.output.output_buffer().dim(p.output.dimensions() - 1).extent()
                               : p.input.dim(p.input.dimensions() - 1).extent();
        batching.when = batch >= batching.images;
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
        auto [idx, end, root] = groups[g];  // Func is a handle: the copy schedules the same Func
        const layer_desc& head = nodes[idx];
        const bool output = end == last && opt.output_is_pipeline_output;
        const bool inside_consumer = chain && g + 1 < groups.size();
        const bool per_block = first_dense < groups.size() && g + 1 >= first_dense && end != last;
        if (per_block) root.compute_at(p.output, no);
        else if (inside_consumer) root.compute_at(Func(groups[g + 1].root), n);
        else if (!output) root.compute_root();
        // An internal result is computed whole (every pixel and channel),
        // also where its consumer reads less of it (a stride skipping the
        // last column): otherwise a register tile shifted inwards to fit
        // the smaller region starts before it and reads the input before
        // its first column (a 1x1 conv of 19 columns, tiles of 19, read by
        // a stride-2 conv that needs 18: the input read at x = -1).
        if (!output && nodes[end].out.rank == 3) {
            const tensor_shape& s = nodes[end].out;
            root.bound(x, 0, s.w()).bound(y, 0, s.h()).bound(c, 0, s.c());
        }
        const machine& m = inside_consumer ? per_image : at_root;
        switch (head.kind) {
        case op::conv2d:
            if (funcs[idx].flat.defined()) {
                if (auto pf = schedule_pointwise_gemm(root, funcs[idx], head, m)) p.prefetches.push_back(*pf);
            } else if (funcs[idx].cm.defined()) {
                schedule_conv2d_channel_major(root, funcs[idx], head, m, cm_storage[g]);
            } else {
                schedule_conv2d(root, funcs[idx], head, m);
            }
            break;
        case op::max_pool:
        case op::avg_pool: schedule_pool(root, funcs[idx], head, m, cm_storage[g]); break;
        case op::dense:
            if (g >= first_dense) {
                dense_batching b = batching;
                b.output = end == last;
                schedule_dense(root, funcs[idx], head, m, b);
            } else {
                schedule_dense(root, funcs[idx], head, m);
            }
            break;
        case op::softmax: schedule_softmax(root, funcs[idx], head, m); break;
        default: schedule_elementwise(root, nodes[end].out, m); break;
        }
    }
    return p;
}

}  // namespace constnet::codegen
