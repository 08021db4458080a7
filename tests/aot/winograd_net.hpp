// Convs that the generated forward computes as Winograd F(2, 3) along the
// rows, reading weights that constnet::model transforms
// (layer_desc::winograd_rows_weight): cross-correlation with bias, and a true
// (flipped-kernel) convolution without bias whose weights arrive in blocks
// (layer_desc::winograd_blocked_weight: 64 output channels, a small image),
// of odd widths.
#pragma once

#include <constnet/dsl.hpp>

namespace winograd {
namespace cn = constnet::dsl;

inline constexpr auto correlation = cn::input<32, 6, 9> | cn::conv2d<16, 3>(cn::padding<1>) | cn::relu;
inline constexpr auto convolution = cn::input<48, 5, 7> | cn::conv2d<64, 3>(cn::no_bias, cn::flip_kernel);
}  // namespace winograd
