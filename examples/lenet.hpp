// LeNet-5 as in d2l 6.6: sigmoid activations and average pooling.
#pragma once

#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto lenet =
      cn::input<1, 28, 28>                    // C, H, W; the batch is a run-time extent
    | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid
    | cn::avg_pool<2>(cn::stride<2>)
    | cn::conv2d<16, 5>                | cn::sigmoid
    | cn::avg_pool<2>(cn::stride<2>)
    | cn::flatten
    | cn::dense<120> | cn::sigmoid
    | cn::dense<84>  | cn::sigmoid
    | cn::dense<10>;

static_assert(lenet.output_shape() == cn::shape<10>);
static_assert(lenet.parameter_count() == 61'706);

// The modern variant (d2l 6.6 exercises): ReLU and max pooling, for Adam.
inline constexpr auto lenet_modern =
      cn::input<1, 28, 28>
    | cn::conv2d<6, 5>(cn::padding<2>) | cn::relu
    | cn::max_pool<2>(cn::stride<2>)
    | cn::conv2d<16, 5>                | cn::relu
    | cn::max_pool<2>(cn::stride<2>)
    | cn::flatten
    | cn::dense<120> | cn::relu
    | cn::dense<84>  | cn::relu
    | cn::dense<10>;
