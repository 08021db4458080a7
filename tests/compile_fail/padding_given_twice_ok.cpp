// Twin of padding_given_twice.cpp: `same` alone pads a 3x3 kernel by 1.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::same) | cn::relu;
static_assert(net.output_shape() == cn::shape<6, 28, 28>);
