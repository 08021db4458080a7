// Twin of option_not_for_layer.cpp: max_pool without no_bias.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::max_pool<2>;
static_assert(net.output_shape() == cn::shape<1, 14, 14>);
