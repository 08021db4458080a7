// Mistake: softmax on a C x H x W input. A 28x28 kernel turns 1 x 28 x 28
// into 10 x 1 x 1, which looks like 10 class scores but is still an image.
// Fix: flatten first (and usually a dense layer). Twin: softmax_on_spatial_input_ok.cpp.
// expect-error: constnet shape rule \[softmax input\]: softmax works over a flat vector of class scores
// expect-check: softmax_needs_flat_input<layer=1, kind=constnet::op::softmax, c=10, h=1, w=1>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<10, 28> | cn::softmax;
