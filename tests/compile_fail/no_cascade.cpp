// Mistake: one error early in LeNet (conv2d<16, 15> over 14 x 14 maps where
// LeNet has conv2d<16, 5>), with more layers after it. Those layers would fail
// their own rules if they were checked against the failed layer's output
// (pooling 2x2, in_features<400>), but a failed node poisons the rest of the
// network: the user sees exactly one error, the first.
// Fix: conv2d<16, 5>. Twin: no_cascade_ok.cpp.
// expect-error: (static assertion|static_assert) failed
// expect-error: constnet shape rule \[output size = floor\(\(n \+ p_total - k\) / s\) \+ 1\]: the kernel k is larger than the padded input
// expect-check: kernel_fits_padded_input<layer=3, kind=constnet::op::conv2d, axis='h', n=14, k=15, p_total=0, s=1>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28>
                          | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::conv2d<16, 15>               | cn::sigmoid
                          | cn::avg_pool<2>(cn::stride<2>)
                          | cn::flatten
                          | cn::dense<120>(cn::in_features<400>) | cn::sigmoid
                          | cn::dense<84>  | cn::sigmoid
                          | cn::dense<10>  | cn::softmax;
