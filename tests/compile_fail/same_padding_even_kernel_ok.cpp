// Twin of same_padding_even_kernel.cpp: an odd (5x5) kernel, padded by 2.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 5>(cn::same);
static_assert(net.output_shape() == cn::shape<6, 28, 28>);
