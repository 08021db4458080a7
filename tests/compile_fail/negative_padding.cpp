// Mistake: negative padding (here on the right edge: padding<top, bottom,
// left, right>, so the failing axis is the width, 'w').
// Fix: padding must be >= 0; to shrink the output, use a larger kernel or
// stride instead. Twin: negative_padding_ok.cpp.
// expect-error: constnet shape rule \[padding\]: padding must be >= 0
// expect-check: padding_is_non_negative<layer=0, kind=constnet::op::conv2d, axis='w', p_before=0, p_after=-1>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::padding<0, 0, 0, -1>);
