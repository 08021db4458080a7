// Twin of dense_zero_units.cpp: one output feature.
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::flatten | cn::dense<1>;
static_assert(net.output_shape() == cn::shape<1>);
