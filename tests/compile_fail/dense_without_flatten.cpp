// Mistake: dense straight after a convolution, on a 6 x 24 x 24 input.
// Fix: insert flatten before the first dense layer. Twin: dense_without_flatten_ok.cpp.
// expect-error: constnet shape rule \[dense input\]: dense needs a flat input, but gets a C x H x W tensor \(the c, h, w above\); insert flatten before dense
// expect-check: dense_needs_flat_input<layer=2, kind=constnet::op::dense, c=6, h=24, w=24>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5> | cn::relu
                          | cn::dense<10>;
