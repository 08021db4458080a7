// The network whose checkpoints the checkpoint fuzz target loads: small (so
// the fuzzer's inputs are), with every parameter kind (conv and dense weight
// and bias).
#pragma once

#include <constnet/dsl.hpp>

namespace constnet::fuzz {
namespace cn = constnet::dsl;
inline constexpr auto checkpoint_net =
    cn::input<1, 4, 4> | cn::conv2d<2, 3> | cn::relu | cn::flatten | cn::dense<3>;
}  // namespace constnet::fuzz
