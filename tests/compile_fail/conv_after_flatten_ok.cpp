// Twin of conv_after_flatten.cpp: both convolutions before flatten.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>
                          | cn::conv2d<16, 5>
                          | cn::flatten;
static_assert(net.output_shape() == cn::shape<16 * 20 * 20>);
