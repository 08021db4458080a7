// Twin of negative_padding.cpp: one column of padding on the right.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::padding<0, 0, 0, 1>);
static_assert(net.output_shape() == cn::shape<6, 26, 27>);
