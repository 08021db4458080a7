// Twin of dense_without_flatten.cpp: flatten before dense.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5> | cn::relu
                          | cn::flatten
                          | cn::dense<10>;
static_assert(net.output_shape() == cn::shape<10>);
