// Twin of network_without_input.cpp: the network starts with input<1, 28, 28>.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 5> | cn::relu;
static_assert(net.output_shape() == cn::shape<6, 24, 24>);
