// Mistake: a stride of 0. The window would never move.
// Fix: the stride must be at least 1 (stride<1> is the default for conv2d).
// Twin: zero_stride_ok.cpp.
// expect-error: constnet shape rule \[stride\]: the stride must be at least 1
// expect-check: stride_is_positive<layer=0, kind=constnet::op::conv2d, axis='h', stride=0>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::stride<0>);
