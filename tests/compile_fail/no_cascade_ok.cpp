// Twin of no_cascade.cpp: LeNet's conv2d<16, 5>; every later layer then holds.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::conv2d<16, 5>                | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::flatten
                          | cn::dense<120>(cn::in_features<400>) | cn::sigmoid
                          | cn::dense<84>  | cn::sigmoid
                          | cn::dense<10>  | cn::softmax;
static_assert(net.valid && net.output_shape() == cn::shape<10>);
