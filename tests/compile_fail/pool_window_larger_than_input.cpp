// Mistake: a pooling window larger than its (padded) input. The first 3x3
// pooling (stride 3, the window) turns 6 x 6 into 2 x 2; a second 3x3 window
// does not fit into 2 x 2.
// Fix: use a smaller window (max_pool<2>), pad the input, or drop the layer.
// Twin: pool_window_larger_than_input_ok.cpp.
// expect-error: constnet shape rule \[output size = floor\(\(n \+ p_total - k\) / s\) \+ 1\]: the pooling window k is larger than the padded input n \+ p_total
// expect-check: window_fits_padded_input<layer=1, kind=constnet::op::max_pool, axis='h', n=2, k=3, p_total=0, s=3>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<3, 6, 6>
                          | cn::max_pool<3>
                          | cn::max_pool<3>;
