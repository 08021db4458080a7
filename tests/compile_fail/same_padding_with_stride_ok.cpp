// Twin of same_padding_with_stride.cpp: explicit padding<1> with stride 2.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::padding<1>, cn::stride<2>);
static_assert(net.output_shape() == cn::shape<6, 14, 14>);
