// Twin of zero_stride.cpp: stride 1.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::stride<1>);
static_assert(net.output_shape() == cn::shape<6, 26, 26>);
