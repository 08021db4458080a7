// Mistake: in_channels<3> on LeNet's second convolution, whose input has the
// 6 channels of the first convolution.
// Fix: state the channels the previous layer produces (in_channels<6>), or
// drop in_channels and let the DSL infer them. Twin: in_channels_mismatch_ok.cpp.
// expect-error: constnet shape rule \[channels\]: the layer states `expected` input channels/features \(in_channels<> or in_features<>\), but its input has `found`
// expect-check: input_channels_match<layer=3, kind=constnet::op::conv2d, expected=3, found=6>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::conv2d<16, 5>(cn::in_channels<3>);
