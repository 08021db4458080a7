// Mistake: a convolution with 0 output channels (conv2d<Out, K>: Out first).
// Fix: Out must be at least 1. Twin: conv_zero_output_channels_ok.cpp.
// expect-error: constnet shape rule \[output size\]: the number of output channels/features must be at least 1
// expect-check: output_size_is_positive<layer=0, kind=constnet::op::conv2d, units=0>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<0, 5>;
