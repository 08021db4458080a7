// Twin of in_channels_mismatch.cpp: in_channels<6>, what the first conv makes.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::conv2d<16, 5>(cn::in_channels<6>);
static_assert(net.output_shape() == cn::shape<16, 10, 10>);
