// 1x1 convs that the generated forward computes as matrix products over
// chunks of rows (layer_desc::pointwise_gemm), reading PyTorch's layout:
// strided with bias and an activation, and of stride 1 without bias, of
// widths that the vectors do not divide.
#pragma once

#include <constnet/dsl.hpp>

namespace pointwise {
namespace cn = constnet::dsl;

inline constexpr auto strided = cn::input<24, 24, 26> | cn::conv2d<40, 1>(cn::stride<2>) | cn::relu;
inline constexpr auto plain = cn::input<36, 9, 21> | cn::conv2d<12, 1>(cn::no_bias);
}  // namespace pointwise
