// Twin of zero_kernel.cpp: a 1x1 kernel.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<3, 28, 28> | cn::conv2d<6, 1>;
static_assert(net.output_shape() == cn::shape<6, 28, 28>);
