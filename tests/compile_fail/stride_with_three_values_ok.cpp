// Twin of stride_with_three_values.cpp: stride (1, 2) on 8x8 with a 3x3 kernel gives 6 x 3.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 8, 8> | cn::conv2d<1, 3>(cn::stride<1, 2>) | cn::flatten;
static_assert(net.output_shape() == cn::shape<18>);
