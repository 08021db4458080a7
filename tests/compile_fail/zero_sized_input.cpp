// Mistake: an input with a zero extent (input<C, H, W>: here H = 0).
// Fix: every input extent must be at least 1. Twin: zero_sized_input_ok.cpp.
// expect-error: constnet shape rule \[input\]: every input extent \(c, h, w\) must be at least 1
// expect-check: input_is_positive<c=1, h=0, w=28>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 0, 28> | cn::conv2d<6, 5>;
