// Lowering a network description to a Halide pipeline (build time only).
//
// Halide dimension order is innermost first, so an NCHW tensor is the Func
// (x, y, c, n) and a flat batch is (i, n). Parameters use PyTorch layouts:
// conv weight [out, in, kh, kw] is (kx, ky, c, k), dense weight [out, in] is
// (j, u). C, H, W are constant bounds on every buffer so Halide specializes;
// the batch extent stays a run-time value.
#pragma once

#include <Halide.h>
#include <constnet/graph.hpp>
#include <span>
#include <string>
#include <vector>

namespace constnet::codegen {

// Software prefetches for a pointwise GEMM (schedule_pointwise_gemm) that
// reads its input directly: a pass after Halide's lowering adds them to the
// reduction loop (forward_pipeline::pipeline), fetching the next chunk's
// input spread over the current chunk's work. Loop and buffer names are
// the lowered statement's.
struct gemm_prefetch {
    std::string reduction;  // the loop over input channels (around a register tile)
    std::string tile;       // the loop over a chunk's tiles
    std::string block;      // the loop over blocks of output channels (each a pass over the chunk)
    std::string chunk;      // the loop over an image's chunks of rows
    std::string image;      // the loop over images
    std::string acc;        // the register tile (its loads are not the input's)
    int in_channels = 0;    // the reduction's extent
    int tiles = 0;          // per chunk
    int blocks = 0;         // of output channels
    int chunks = 0;         // per image
    int lines = 0;          // cache lines of one input plane's chunk
};

struct forward_pipeline {
    Halide::ImageParam input;
    std::vector<Halide::ImageParam> params;  // per layer in node order: weight, then bias
    std::vector<std::vector<int>> param_extents;  // Halide order (innermost first)
    std::vector<Halide::Func> nodes;         // each node's value
    Halide::Func output;
    std::vector<int> output_extents;         // per sample, Halide order
    // Per node, the Funcs inside it that a train step schedules (undefined
    // where the node has none): a conv's or dense layer's reduction (acc),
    // a conv's or pool's padded input, the weight and bias as the layer
    // reads them, and a dense layer's input as it reads it (a flattened
    // input's C x H x W source) and its weights transposed (wt).
    struct node_parts {
        Halide::Func acc, padded, weight, bias, input, wt;
    };
    std::vector<node_parts> parts;

    std::vector<gemm_prefetch> prefetches;

    // input, params...: the generated function's arguments before its output.
    std::vector<Halide::Argument> arguments() const;
    // The pipeline to compile: output, with the passes that add `prefetches`.
    Halide::Pipeline pipeline() const;
};

// Halide's host target without the features this CPU lacks: Halide 14 calls
// every AVX-512 CPU with VNNI and BF16 "avx512_sapphirerapids", and LLVM then
// emits Sapphire Rapids' VEX-encoded AVX-VNNI (vpdpwssd), which AMD's Zen 4
// does not have (SIGILL in an average pool). Such a CPU gets
// avx512_cannonlake. `text` as Halide::Target's, "host" and "host-..." read so.
Halide::Target host_target();
Halide::Target parse_target(const std::string& text);

struct lower_options {
    Halide::Target target = host_target();
    bool schedule = true;  // false: leave every Func unscheduled (inline / root), for debugging
    // true: `output` is the pipeline's output (its buffer gets constant
    // bounds); false: another stage consumes it (it is computed at root).
    bool output_is_pipeline_output = true;
    // true: reads outside the input give 0 and reads outside a parameter its
    // edge value, instead of failing. Training schedules need it: they round
    // tiles up (and Li2018 tiles the batch assuming it is at least as large
    // as its estimate); the extra values computed are never used.
    bool bounded_reads = false;
    // true: weights for which layer_desc::output_major_weight() holds arrive
    // output-major: a dense weight as [in, out] (Halide (out, in)), a conv
    // weight as [C_in, kh, kw, C_out] (Halide (C_out, kw, kh, C_in)), i.e.
    // PyTorch's layout with the output dimension moved innermost, so output
    // features/channels fill vectors (conv rows followed by
    // layer_desc::weight_row_pad() unread floats); a conv weight for which
    // layer_desc::winograd_rows_weight() holds arrives as [C_in, kh, m + 2, C_out + 16]
    // (Winograd F(m, 3)'s transformed taps, m = layer_desc::winograd_outputs();
    // layer_desc::forward_weight_extents),
    // in blocks where layer_desc::winograd_blocked_weight() holds.
    // The caller rearranges them once when the weights change, not the
    // pipeline on every call; constnet::model does this for the ahead-of-time
    // forward pass (codegen/src/main.cpp).
    bool weights_output_major = false;
    // "" for constnet's schedules, or a Halide autoscheduler for comparison
    // (one of autoschedulers()): "Mullapudi2016", "Li2018" or "Adams2019"
    // for forward passes (Adams2019 can take minutes and gigabytes per
    // conv: never a default), "Li2018" for train steps.
    std::string autoscheduler;
};

// The Halide autoschedulers lower_options::autoscheduler accepts.
const std::vector<std::string>& autoschedulers();

// Loads the named autoscheduler's plugin (once); std::invalid_argument
// naming the choices for any other name.
void load_autoscheduler(const std::string& name);

// Constant bounds and dense strides for a buffer whose inner extents are
// known; an extra outer dimension (the batch) starts at 0 and stays dynamic.
void constrain(Halide::OutputImageParam b, const std::vector<int>& extents);

// Defines one Func per node (algorithm) and applies each node kind's schedule.
forward_pipeline lower_forward(std::span<const layer_desc> nodes, const lower_options& opt = {});

// Whether lower_forward's scheduled pipeline (output-major weights)
// computes this conv as Winograd F(2, kw) along its rows with the weights
// transformed in the pipeline on every call: output-major weights, 3 to 5
// taps, stride 1 along the rows, input channels x kernel rows at least 16
// (LeNet's conv2), not the 3-tap convs whose weights the model transforms
// (layer_desc::winograd_rows_weight). See lower.cpp.
bool winograd_rows_inline(const layer_desc& d);

// max over i in [0, count) of z(i, n), in a form Halide's autodiff accepts.
struct running_max_funcs {
    Halide::Func max, scan;
};
running_max_funcs running_max(Halide::Func z, int count, const std::string& name);

// Schedule building blocks, shared with the train step's schedules.
struct machine {
    int vec;               // floats per vector register
    int accumulators;      // vector registers a register tile may use
    bool parallel = true;  // false: the stage runs inside a consumer's (parallel) loop over images
};
machine machine_for(const Halide::Target& t);
// Bytes of a core's L2 a schedule plans to keep a working set in (half of
// Zen 3's 512 KiB; Zen 4 and Sapphire Rapids have more).
constexpr long l2_budget = 256 * 1024;
// The widest vector (a power of two, at most the machine's) that fits `extent`.
int vector_width(int extent, const machine& m);
// The largest divisor of `extent` that is at most `limit`.
int divisor_at_most(int extent, int limit);
// Outputs per register tile of a dense layer: two vectors when it has them.
int dense_tile(int units, const machine& m);

// The fraction of the work that is useful when a loop of `extent` runs in
// tiles of `t`, the last one shifted inwards (recomputing what overlaps).
double shifted_tiles_useful(int extent, int t);
// Multiply-adds per cycle of a register tile doing `fmas` FMAs and `loads`
// loads per reduction step (two of each per cycle), plus `overhead` cycles.
double tile_rate(double useful_fmas, int fmas, int loads, double overhead);

// Checks what the DSL checks at compile time, for descriptions built at run
// time; throws std::invalid_argument naming the node and the numbers.
void validate(std::span<const layer_desc> nodes);

}  // namespace constnet::codegen
