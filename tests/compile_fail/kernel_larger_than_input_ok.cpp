// Twin of kernel_larger_than_input.cpp: padding<1> makes the padded input
// 4 + 2 = 6 wide, so the 5x5 kernel fits: (4 + 2 - 5) / 1 + 1 = 2.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 12, 12>
                          | cn::conv2d<4, 5>
                          | cn::max_pool<2>
                          | cn::conv2d<8, 5>(cn::padding<1>);
static_assert(net.output_shape() == cn::shape<8, 2, 2>);
