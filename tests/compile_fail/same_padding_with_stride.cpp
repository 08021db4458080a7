// Mistake: 'same' padding with stride 2. With a stride the output cannot keep
// the input's H x W, so 'same' means nothing (PyTorch rejects it too).
// Fix: give the padding explicitly, e.g. padding<1> with a 3x3 kernel and
// stride<2> halves 28 x 28 to 14 x 14. Twin: same_padding_with_stride_ok.cpp.
// expect-error: constnet shape rule \[same padding\]: 'same' padding needs stride 1
// expect-check: same_padding_needs_stride_one<layer=0, kind=constnet::op::conv2d, axis='h', stride=2>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::same, cn::stride<2>);
