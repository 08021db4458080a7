// Twin of in_features_mismatch.cpp: in_features<400> = 16 x 5 x 5.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<16, 5, 5> | cn::flatten | cn::dense<120>(cn::in_features<400>);
static_assert(net.output_shape() == cn::shape<120>);
