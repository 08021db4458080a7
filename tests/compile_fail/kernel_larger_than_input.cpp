// Mistake: a convolution kernel larger than its (padded) input. Layer 2 sees
// 4 x 4 feature maps (12 -> 8 after the first 5x5 conv, -> 4 after pooling),
// and a 5x5 kernel with no padding does not fit, so the output would be empty.
// Fix: pad the input (padding<1> or more), use a smaller kernel, or move the
// layer before the pooling. Twin: kernel_larger_than_input_ok.cpp.
// expect-error: constnet shape rule \[output size = floor\(\(n \+ p_total - k\) / s\) \+ 1\]: the kernel k is larger than the padded input n \+ p_total
// expect-check: kernel_fits_padded_input<layer=2, kind=constnet::op::conv2d, axis='h', n=4, k=5, p_total=0, s=1>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 12, 12>
                          | cn::conv2d<4, 5>
                          | cn::max_pool<2>
                          | cn::conv2d<8, 5>;
