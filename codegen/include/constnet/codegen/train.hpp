// Training pipelines (build time only): a whole train step — forward, loss,
// backward by Halide's autodiff (propagate_adjoints) and the optimizer update
// — as one Halide pipeline, and an eval pipeline (loss and correct count).
//
// Train step arguments, in order:
//   input, params[P]          as the forward pipeline
//   target                    cross_entropy: int32 labels (N); squared_error: like the output
//   m[P], v[P]                optimizer state, shaped like the parameters
//   grads[P]                  gradients accumulated by earlier calls of the same step
//   hyper                     float[11]: optimizer (0 SGD, 1 SGD with momentum, 2 Adam), lr,
//                             momentum, weight decay, beta1, beta2, epsilon, step (1-based),
//                             apply (1: update the parameters; 0: accumulate only),
//                             accumulate (1: add grads[P]; 0: ignore them), scale (of this
//                             call's gradient)
// outputs: params'[P], m'[P], v'[P], grads'[P], loss (0-d float), correct (0-d int32);
//   any of params', m', v' and grads' may be empty (extent 0 in its last
//   dimension), and is then skipped
//
// A batch may be split into parts, one call each (constnet::model does it,
// so a part's intermediates stay in cache): grads' = accumulate * grads +
// scale * (this part's gradient); the last part's call applies the update
// to grads' (params', m', v'), the others copy params, m and v (constnet::model
// passes them empty there, and the last part's grads', and SGD's moments).
//
// Eval arguments: input, params[P], target; outputs: loss, correct.
// The loss is what training minimizes: the batch mean for cross-entropy, the
// sum for squared error (as the d2l chapter's kernel example).
#pragma once

#include <constnet/codegen/lower.hpp>

namespace constnet::codegen {

enum class loss_kind { cross_entropy, squared_error };

inline constexpr int hyper_size = 11;

struct train_pipeline {
    forward_pipeline forward;
    Halide::ImageParam target;
    std::vector<Halide::ImageParam> m, v, grads;
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
// The forward pass with the train step's forward schedules: every tensor
// stored images innermost and computed in vectors of images (16 on
// AVX-512), each layer over the whole batch before the next. For batches of
// small images (constnet::model runs such batches in parts that stay in
// cache); weights in PyTorch's layouts (not output-major), arguments as the
// forward's.
forward_pipeline lower_forward_batched(std::span<const layer_desc> nodes, const lower_options& opt = {});

}  // namespace constnet::codegen
