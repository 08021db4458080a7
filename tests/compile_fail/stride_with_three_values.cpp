// Mistake: stride<1, 2, 3>: a stride is <s> or <s_h, s_w>.
// Fix: stride<1, 2>. Twin: stride_with_three_values_ok.cpp.
// expect-error: constnet: stride takes <s> or <s_h, s_w>
// expect-error: stride_sel<1, 2, 3>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 8, 8> | cn::conv2d<1, 3>(cn::stride<1, 2, 3>) | cn::flatten;
