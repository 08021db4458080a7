// Mistake: 'same' padding with an even kernel. Keeping H x W needs k - 1
// padding split evenly over both sides, which an even k cannot do.
// Fix: use an odd kernel (3, 5, 7), or give explicit asymmetric padding, e.g.
// padding<1, 2, 1, 2> for a 4x4 kernel. Twin: same_padding_even_kernel_ok.cpp.
// expect-error: constnet shape rule \[same padding\]: 'same' padding needs an odd kernel k
// expect-check: same_padding_needs_odd_kernel<layer=0, kind=constnet::op::conv2d, axis='h', k=4>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 4>(cn::same);
