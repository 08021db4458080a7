// Mistake: a convolution after flatten. Flatten turns 6 x 24 x 24 into a
// vector of 3456 values; a conv2d needs C x H x W.
// Fix: put every conv2d and pooling layer before flatten.
// Twin: conv_after_flatten_ok.cpp.
// expect-error: constnet shape rule \[spatial input\]: this layer needs a C x H x W input but gets a flat vector
// expect-check: needs_spatial_input<layer=2, kind=constnet::op::conv2d, features=3456>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>
                          | cn::flatten
                          | cn::conv2d<16, 5>;
