// Mistake: pooling padding larger than half the window (PyTorch: "pad should
// be at most half of kernel size"). A 2x2 window padded by 2 would have
// windows that see only padding.
// Fix: pad a pooling layer by at most window / 2 (here padding<1>).
// Twin: pool_padding_over_half_window_ok.cpp.
// expect-error: constnet shape rule \[pool padding <= window / 2\]: pooling padding p is larger than half the window k
// expect-check: pool_padding_at_most_half_window<layer=0, kind=constnet::op::avg_pool, axis='h', k=2, p=2>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<6, 28, 28> | cn::avg_pool<2>(cn::padding<2>);
