// The plain description of a network: what the DSL produces at compile time
// and the only thing codegen consumes. Literal types, no templates, no Halide,
// so the same description can also be built at run time (tests JIT hundreds of
// random layers from it without compiling a C++ type for each).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace constnet {

enum class op : std::uint8_t {
    input,
    conv2d,
    max_pool,
    avg_pool,
    relu,
    sigmoid,
    tanh,
    flatten,
    dense,
    softmax,
};

constexpr std::string_view op_name(op k) {
    switch (k) {
    case op::input: return "input";
    case op::conv2d: return "conv2d";
    case op::max_pool: return "max_pool";
    case op::avg_pool: return "avg_pool";
    case op::relu: return "relu";
    case op::sigmoid: return "sigmoid";
    case op::tanh: return "tanh";
    case op::flatten: return "flatten";
    case op::dense: return "dense";
    case op::softmax: return "softmax";
    }
    return "?";
}

constexpr bool is_activation(op k) { return k == op::relu || k == op::sigmoid || k == op::tanh; }
constexpr bool is_pool(op k) { return k == op::max_pool || k == op::avg_pool; }

// Shape of one sample (the batch is a run-time extent): rank 3 is C x H x W,
// rank 1 is a flat feature vector.
struct tensor_shape {
    int rank = 0;
    std::array<int, 3> dims{};

    constexpr int c() const { return dims[0]; }
    constexpr int h() const { return dims[1]; }
    constexpr int w() const { return dims[2]; }
    constexpr int features() const { return dims[0]; }
    constexpr long size() const {
        long n = 1;
        for (int i = 0; i < rank; ++i) n *= dims[i];
        return rank ? n : 0;
    }
    constexpr bool operator==(const tensor_shape&) const = default;
};

constexpr tensor_shape make_shape(int c, int h, int w) { return {3, {c, h, w}}; }
constexpr tensor_shape make_shape(int n) { return {1, {n, 0, 0}}; }

// One node of the graph. Fields that a kind does not use keep their defaults.
struct layer_desc {
    op kind = op::input;
    std::array<int, 2> inputs{-1, -1};  // producing nodes (graph edges); -1: none
    tensor_shape in{}, out{};
    int kh = 0, kw = 0;                  // kernel or pooling window
    int sh = 1, sw = 1;                  // stride
    int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
    bool bias = true;                    // conv2d, dense
    bool flip = false;                   // conv2d: true (flipped-kernel) convolution
    bool count_include_pad = true;       // avg_pool, as PyTorch's default
    bool same = false;                   // conv2d: padding chosen to keep H x W
    int units = 0;                       // conv2d: out channels; dense: out features
    int expect_in = 0;                   // user's stated in-channels/in-features (0: unstated)
    bool poisoned = false;               // a shape rule failed here or earlier

    constexpr bool operator==(const layer_desc&) const = default;

    constexpr bool has_params() const { return kind == op::conv2d || kind == op::dense; }
    constexpr bool has_padding() const { return pad_top || pad_bottom || pad_left || pad_right; }
    constexpr int param_tensors() const { return has_params() ? (bias ? 2 : 1) : 0; }

    // Parameter shapes, PyTorch layout: conv weight [out, in, kh, kw], dense
    // weight [out, in], bias [out].
    constexpr std::array<int, 4> weight_shape() const {
        if (kind == op::conv2d) return {units, in.c(), kh, kw};
        return {units, static_cast<int>(in.size()), 0, 0};
    }
    constexpr int weight_rank() const { return kind == op::conv2d ? 4 : 2; }
    constexpr long weight_size() const {
        auto s = weight_shape();
        return kind == op::conv2d ? long(s[0]) * s[1] * s[2] * s[3] : long(s[0]) * s[1];
    }
    constexpr long parameter_count() const {
        return has_params() ? weight_size() + (bias ? units : 0) : 0;
    }
    // Whether the generated forward pass computes this conv as a matrix
    // product over the image's pixels in NCHW order: a 1x1 conv without
    // padding with at least 64 output pixels. Its weight, [C_out,
    // C_in], arrives in PyTorch's layout (each multiply-add broadcasts one
    // weight); see codegen/src/lower.cpp.
    constexpr bool pointwise_gemm() const {
        return kind == op::conv2d && kh == 1 && kw == 1 && !has_padding() && long(out.h()) * out.w() >= 64;
    }
    // Whether the generated forward pass reads this node's weight
    // output-major: PyTorch's layout with the output dimension moved
    // innermost (dense [in, out]; conv2d [C_in, kh, kw, C_out]), so output
    // features or channels fill vectors. Always for dense; for conv2d when it
    // is computed channel-major: channels that fill 8-float vectors, at
    // least 64 multiply-adds per output (fewer are computed row-major: the
    // transposition back to NCHW would cost as much as they do), and
    // either an image's padded input plus the weights within 32 KiB (an L1
    // cache) or output rows of at most 64 pixels; see
    // codegen/src/lower.cpp. The runtime (constnet::model) rearranges these
    // weights when they change; the rule depends on the shape only, so every
    // target of a multi-target library agrees on it.
    constexpr bool output_major_weight() const {
        if (kind == op::dense) return true;
        if (kind != op::conv2d || pointwise_gemm()) return false;
        if (long(in.c()) * kh * kw < 64) return false;
        const long bytes = 4L * (long(in.c()) * (in.h() + pad_top + pad_bottom) * (in.w() + pad_left + pad_right) +
                                 long(units) * in.c() * kh * kw);
        return units % 8 == 0 && (bytes <= 32 * 1024 || out.w() <= 64);
    }
    // Whether the generated forward pass computes this conv as Winograd
    // F(m, 3) along its rows (m = winograd_outputs()) and reads its weight
    // transformed so: an output-major 3-wide conv of stride 1 along the rows
    // whose input channels come in blocks of 16 (at least two). The weight
    // then arrives as [C_in, kh, m + 2, C_out + 16] (weight_row_pad): for
    // each input channel, kernel row and output channel, the taps g0, g1, g2
    // of the row become its m + 2 points, G g (Lavin & Gray's G matrix):
    // F(2, 3): g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2; F(4, 3)
    // (points 0, 1, -1, 2, -2, infinity): g0 / 4, -(g0 + g1 + g2) / 6,
    // -(g0 - g1 + g2) / 6, (g0 + 2 g1 + 4 g2) / 24, (g0 - 2 g1 + 4 g2) / 24,
    // g2. The runtime (constnet::model) transforms it when the weights
    // change; see codegen/src/lower.cpp.
    constexpr bool winograd_rows_weight() const {
        return output_major_weight() && kw == 3 && sw == 1 && in.c() >= 32 && in.c() % 16 == 0;
    }
    // Whether that transformed weight arrives in blocks, in the order the
    // generated forward pass reads it: small images (fewer than 64 pairs of
    // output pixels), whose products for all output channels are computed
    // at once, each block of the weights reused by every row of the image
    // and read from memory once per image. Output channels in blocks of 64:
    // the weight arrives as [C_in / 16, C_out / 64, 4, 16, kh, 64], i.e.
    // for each block of 16 input channels, block of 64 output channels and
    // point e, the input channels' kernel rows, each row's 64 output
    // channels innermost (Halide's extents 64, 16 kh, 4 C_out / 64,
    // C_in / 16): one sequential run per block. The runtime
    // (constnet::model) arranges it when the weights change; see
    // codegen/src/lower.cpp.
    static constexpr int winograd_in_block = 16, winograd_out_block = 64;
    constexpr bool winograd_blocked_weight() const {
        return winograd_rows_weight() && units % winograd_out_block == 0 && long((out.w() + 1) / 2) * out.h() < 64;
    }
    // Output pixels per Winograd tile along the rows: F(4, 3) (6
    // multiplies for 4 outputs, against F(2, 3)'s 4 for 2: a quarter fewer)
    // where the weight arrives transformed and unblocked; F(2, 3) for small
    // images (winograd_blocked_weight: their weights, read once per image,
    // would grow by half) and for true convolutions (their reversed taps map
    // F(2, 3)'s points onto each other, not F(4, 3)'s), and for the convs
    // transformed in the pipeline. AVX2 (Zen 3), one thread, against F(2, 3)
    // (bench/constnet_bench, alternating runs, N=1 / N=32): conv3x3 256->256
    // @14 2.33 -> 1.79 ms / 74 -> 60 ms, 64 @56 2.46 -> 2.12 ms / 84 -> 72
    // ms (see codegen/src/lower.cpp, schedule_winograd_rows); oneDNN's
    // blocked layout then 1.17-1.34x slower than constnet for 64..256
    // channels. Its float32 sums err about 4x F(2, 3)'s (up to 1e-4 over
    // 1152 terms of inputs and weights in [-1, 1]: outputs of standard
    // deviation 11).
    constexpr int winograd_outputs() const {
        return winograd_rows_weight() && !winograd_blocked_weight() && !flip ? 4 : 2;
    }
    // The unread floats after each row of output channels in the weight the
    // generated forward pass reads output-major (forward_weight_extents): a
    // cache line (the rows stay aligned for 64-byte vectors) where the rows
    // would otherwise lie a multiple of 256 bytes apart, so that a register
    // tile's successive reduction steps (an input channel's kernel row, or
    // tap, each) fall on successive sets of L1, not on the same few. With
    // 256 output channels, Winograd's rows (4 points each) were 4 KiB apart:
    // the 48 steps of a block of 16 input channels conflicted in L1's 8
    // ways, and the tiles read their weights from L2. AVX2 (Zen 3), one
    // thread, vs oneDNN's blocked layout (bench/constnet_bench): conv3x3
    // 256->256 @14 0.69x -> 1.03x (N=1), 0.68x -> 1.04x (N=32); 128 @28
    // 0.73x -> 1.10x (N=32); 64 @56 0.85x -> 0.91x (N=32); the direct conv3x3
    // s2 64->128 @56 (128 channels, 512 bytes) 0.77x -> 0.81x.
    constexpr int weight_row_pad() const {
        if (kind != op::conv2d || !output_major_weight() || winograd_blocked_weight()) return 0;
        return winograd_rows_weight() || units % 64 == 0 ? 16 : 0;
    }
    // The extents of the weight the generated forward pass reads, innermost
    // first (Halide's order; PyTorch's shape reversed), given whether it
    // reads weights output-major and Winograd-transformed where the rules
    // above say so.
    constexpr std::array<int, 4> forward_weight_extents(bool output_major) const {
        const auto s = weight_shape();
        if (kind == op::dense) return output_major ? std::array{s[0], s[1], 0, 0} : std::array{s[1], s[0], 0, 0};
        if (!output_major || !output_major_weight()) return {s[3], s[2], s[1], s[0]};
        if (winograd_blocked_weight())
            return {winograd_out_block, winograd_in_block * s[2], 4 * (s[0] / winograd_out_block),
                    s[1] / winograd_in_block};
        if (winograd_rows_weight()) return {s[0] + weight_row_pad(), winograd_outputs() + 2, s[2], s[1]};
        return {s[0] + weight_row_pad(), s[3], s[2], s[1]};
    }
    // Floating-point operations per sample: 2 per multiply-add for conv2d and
    // dense (the usual 2*K*C*R*S*P*Q), one per window element for pooling and
    // one per element for activations and softmax.
    constexpr long flops() const {
        switch (kind) {
        case op::conv2d: return 2 * out.size() * in.c() * kh * kw;
        case op::dense: return 2 * in.size() * units;
        case op::max_pool:
        case op::avg_pool: return out.size() * kh * kw;
        case op::relu:
        case op::sigmoid:
        case op::tanh:
        case op::softmax: return out.size();
        default: return 0;
        }
    }
};

// The chapter's output-size rule: floor((n + p_total - k) / s) + 1.
constexpr int output_size(int n, int k, int p_total, int s) { return (n + p_total - k) / s + 1; }

// Fills in the shapes (and 'same' padding) of layer d fed by a node of shape
// `in`. Assumes the shape rules hold (the DSL checks them at compile time,
// codegen::validate at run time).
constexpr layer_desc infer_shapes(layer_desc d, tensor_shape in) {
    d.in = in;
    switch (d.kind) {
    case op::conv2d:
    case op::max_pool:
    case op::avg_pool: {
        if (d.same) {
            d.pad_top = d.pad_bottom = (d.kh - 1) / 2;
            d.pad_left = d.pad_right = (d.kw - 1) / 2;
        }
        int c = d.kind == op::conv2d ? d.units : in.c();
        d.out = make_shape(c, output_size(in.h(), d.kh, d.pad_top + d.pad_bottom, d.sh),
                           output_size(in.w(), d.kw, d.pad_left + d.pad_right, d.sw));
        break;
    }
    case op::flatten: d.out = make_shape(static_cast<int>(in.size())); break;
    case op::dense: d.out = make_shape(d.units); break;
    default: d.out = in; break;
    }
    return d;
}

// PyTorch's nn.Sequential names a layer by its position among the modules,
// the input not counted: node i is module i - 1 ("0.weight", "3.bias").
constexpr int module_index(int node) { return node - 1; }

}  // namespace constnet
