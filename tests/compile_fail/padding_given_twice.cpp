// Mistake: two padding options on one layer (here padding<1> and same); one
// would silently win. Fix: keep one of them. Twin: padding_given_twice_ok.cpp.
// expect-error: constnet option rule: a layer takes one option of each kind
// expect-error: option_given_once(\(\) \[with constnet::op kind = constnet::op::conv2d; Option = constnet::dsl::same_t\]|<constnet::op::conv2d, constnet::dsl::same_t>)
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 3>(cn::padding<1>, cn::same) | cn::relu;
