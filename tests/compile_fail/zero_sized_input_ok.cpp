// Twin of zero_sized_input.cpp: H = 28.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 5>;
static_assert(net.output_shape() == cn::shape<6, 24, 24>);
