// Training pipelines (build time only): a whole train step — forward, loss,
// backward by Halide's autodiff (propagate_adjoints) and the optimizer update
// — as one Halide pipeline, and an eval pipeline (loss and correct count).
//
// Train step arguments, in order:
//   input, params[P]          as the forward pipeline
//   target                    cross_entropy: int32 labels (N); squared_error: like the output
//   m[P], v[P]                optimizer state, shaped like the parameters
//   hyper                     float[8]: optimizer (0 SGD, 1 SGD with momentum, 2 Adam), lr,
//                             momentum, weight decay, beta1, beta2, epsilon, step (1-based)
// outputs: params'[P], m'[P], v'[P], loss (0-d float), correct (0-d int32)
//
// Eval arguments: input, params[P], target; outputs: loss, correct.
// The loss is what training minimizes: the batch mean for cross-entropy, the
// sum for squared error (as the d2l chapter's kernel example).
#pragma once

#include <constnet/codegen/lower.hpp>

namespace constnet::codegen {

enum class loss_kind { cross_entropy, squared_error };

inline constexpr int hyper_size = 8;

struct train_pipeline {
    forward_pipeline forward;
    Halide::ImageParam target;
    std::vector<Halide::ImageParam> m, v;
    Halide::ImageParam hyper;
    std::vector<Halide::Func> outputs;

    std::vector<Halide::Argument> arguments() const;
};

struct eval_pipeline {
    forward_pipeline forward;
    Halide::ImageParam target;
    std::vector<Halide::Func> outputs;  // loss, correct

    std::vector<Halide::Argument> arguments() const;
};

// For tests: the loss's gradient with respect to every parameter (outputs
// grads[P] shaped like the parameters, then the loss); arguments as eval's.
struct gradient_pipeline {
    forward_pipeline forward;
    Halide::ImageParam target;
    std::vector<Halide::Func> outputs;

    std::vector<Halide::Argument> arguments() const;
};

gradient_pipeline lower_gradients(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt = {});
train_pipeline lower_train(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt = {});
eval_pipeline lower_eval(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt = {});

}  // namespace constnet::codegen
