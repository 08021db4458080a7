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

struct forward_pipeline {
    Halide::ImageParam input;
    std::vector<Halide::ImageParam> params;  // per layer in node order: weight, then bias
    Halide::Func output;

    // input, params...: the generated function's arguments before its output.
    std::vector<Halide::Argument> arguments() const;
};

struct lower_options {
    Halide::Target target = Halide::get_host_target();
    bool schedule = true;  // false: leave every Func unscheduled (inline / root), for debugging
};

// Defines one Func per node (algorithm) and applies each node kind's schedule.
forward_pipeline lower_forward(std::span<const layer_desc> nodes, const lower_options& opt = {});

// Checks what the DSL checks at compile time, for descriptions built at run
// time; throws std::invalid_argument naming the node and the numbers.
void validate(std::span<const layer_desc> nodes);

}  // namespace constnet::codegen
