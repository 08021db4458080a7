// Twin of conv_zero_output_channels.cpp: one output channel.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<1, 5>;
static_assert(net.output_shape() == cn::shape<1, 24, 24>);
