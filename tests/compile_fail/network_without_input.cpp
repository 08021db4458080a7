// Mistake: a network that does not start with input<C, H, W>. Layers alone
// have no shapes to check.
// Fix: start with the input's shape, e.g. input<1, 28, 28> | conv2d<6, 5>.
// Twin: network_without_input_ok.cpp.
// The compiler names the first layer's description (its kind: conv2d, which
// clang prints as the enum's value 1).
// One error: the result is a poisoned network, so later layers add none.
// expect-error: constnet: a network starts with input<C, H, W>
// expect-error: operator\|[^\n]*(A = constnet::layer_desc\{constnet::op::conv2d|<\{1, )
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::conv2d<6, 5> | cn::relu;
