// Mistake: in_features<256> (16 x 4 x 4) on a dense layer whose flattened
// input is 16 x 5 x 5 = 400 values (LeNet's first dense layer).
// Fix: state the flattened size (in_features<400>), or drop in_features.
// Twin: in_features_mismatch_ok.cpp.
// expect-error: constnet shape rule \[channels\]: the layer states `expected` input channels/features \(in_channels<> or in_features<>\), but its input has `found`
// expect-check: input_channels_match<layer=1, kind=constnet::op::dense, expected=256, found=400>
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<16, 5, 5> | cn::flatten | cn::dense<120>(cn::in_features<256>);
