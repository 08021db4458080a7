// Twin of softmax_on_spatial_input.cpp: flatten 10 x 1 x 1 to 10 scores.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<10, 28> | cn::flatten | cn::softmax;
static_assert(net.output_shape() == cn::shape<10>);
