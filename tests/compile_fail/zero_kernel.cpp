// Mistake: a 0 x 0 convolution kernel (conv2d<Out, K>: K second).
// Fix: the kernel must be at least 1 x 1 (a 1x1 convolution mixes channels
// only). Twin: zero_kernel_ok.cpp.
// expect-error: constnet shape rule \[kernel\]: the kernel \(window\) size must be at least 1
// expect-check: kernel_is_positive<layer=0, kind=constnet::op::conv2d, axis='h', k=0>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<3, 28, 28> | cn::conv2d<6, 0>;
