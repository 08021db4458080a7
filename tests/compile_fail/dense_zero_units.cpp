// Mistake: a dense layer with 0 output features.
// Fix: dense<N> needs N >= 1. Twin: dense_zero_units_ok.cpp.
// expect-error: constnet shape rule \[output size\]: the number of output channels/features must be at least 1
// expect-check: output_size_is_positive<layer=1, kind=constnet::op::dense, units=0>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::flatten | cn::dense<0>;
