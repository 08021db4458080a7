// Twin of pool_window_larger_than_input.cpp: a 2x2 window fits 2 x 2.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<3, 6, 6>
                          | cn::max_pool<3>
                          | cn::max_pool<2>;
static_assert(net.output_shape() == cn::shape<3, 1, 1>);
