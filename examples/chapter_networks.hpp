// The networks of the d2l CNN chapter (ch. 6), one constexpr value each.
// Each is compiled ahead of time by constnet_add_network in CMakeLists.txt.
#pragma once

#include <constnet/dsl.hpp>

namespace d2l {
namespace cn = constnet::dsl;

// 6.2.1 cross-correlation: a 2x2 kernel over a 3x3 input -> 2x2.
inline constexpr auto corr2d = cn::input<1, 3, 3> | cn::conv2d<1, 2>(cn::no_bias);
// 6.2.2 a convolutional layer (weight and bias) and 6.2.3 edge detection:
// the 1x2 kernel [1, -1] over a 6x8 image, and over its 8x6 transpose.
inline constexpr auto edge = cn::input<1, 6, 8> | cn::conv2d<1, 1, 2>;
inline constexpr auto edge_transposed = cn::input<1, 8, 6> | cn::conv2d<1, 1, 2>;
// 6.2.4 learning a kernel: a 1x2 conv without bias, trained (TRAINING, squared error).
inline constexpr auto learn_kernel = cn::input<1, 6, 8> | cn::conv2d<1, 1, 2>(cn::no_bias);
// 6.2.5 the same layer computing a true (flipped-kernel) convolution.
inline constexpr auto convolution = cn::input<1, 3, 3> | cn::conv2d<1, 2>(cn::no_bias, cn::flip_kernel);

// 6.3 padding and stride, on 8x8 inputs.
inline constexpr auto pad_k3_p1 = cn::input<1, 8, 8> | cn::conv2d<1, 3>(cn::padding<1>);
inline constexpr auto pad_k5x3_p2x1 = cn::input<1, 8, 8> | cn::conv2d<1, 5, 3>(cn::padding<2, 1>);
inline constexpr auto stride_k3_p1_s2 = cn::input<1, 8, 8> | cn::conv2d<1, 3>(cn::padding<1>, cn::stride<2>);
inline constexpr auto stride_k3x5_p0x1_s3x4 =
    cn::input<1, 8, 8> | cn::conv2d<1, 3, 5>(cn::padding<0, 1>, cn::stride<3, 4>);

// 6.4 multiple input and output channels, 1x1 convolution.
inline constexpr auto multi_in = cn::input<2, 3, 3> | cn::conv2d<1, 2>(cn::no_bias);
inline constexpr auto multi_in_out = cn::input<2, 3, 3> | cn::conv2d<3, 2>(cn::no_bias);
inline constexpr auto conv1x1 = cn::input<3, 3, 3> | cn::conv2d<2, 1>(cn::no_bias);

// 6.5 pooling.
inline constexpr auto max_pool_2 = cn::input<1, 3, 3> | cn::max_pool<2>(cn::stride<1>);
inline constexpr auto avg_pool_2 = cn::input<1, 3, 3> | cn::avg_pool<2>(cn::stride<1>);
inline constexpr auto max_pool_3 = cn::input<1, 4, 4> | cn::max_pool<3>;
inline constexpr auto max_pool_3_p1_s2 = cn::input<1, 4, 4> | cn::max_pool<3>(cn::padding<1>, cn::stride<2>);
inline constexpr auto max_pool_2x3 = cn::input<1, 4, 4> | cn::max_pool<2, 3>(cn::stride<2, 3>, cn::padding<0, 1>);
inline constexpr auto max_pool_two_channels =
    cn::input<2, 4, 4> | cn::max_pool<3>(cn::padding<1>, cn::stride<2>);

}  // namespace d2l
