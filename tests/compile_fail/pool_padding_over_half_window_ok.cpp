// Twin of pool_padding_over_half_window.cpp: padding 1 = half the 2x2 window.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<6, 28, 28> | cn::avg_pool<2>(cn::padding<1>);
static_assert(net.output_shape() == cn::shape<6, 15, 15>);
