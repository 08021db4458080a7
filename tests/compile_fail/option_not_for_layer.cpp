// Mistake: an option on a layer kind it does not apply to: max pooling has no
// bias, so no_bias means nothing there.
// Fix: drop the option (see layers.hpp for which options each layer takes).
// Twin: option_not_for_layer_ok.cpp.
// This check runs before the layer is attached, so there is no layer index;
// the compiler names the layer's description (g++ spells the kind,
// clang prints it as the enum's value, max_pool = 2) and the option's type.
// expect-error: constnet option rule: this option does not apply to this kind of layer
// expect-error: option_applies_to_layer(\(\) \[with constnet::op kind = constnet::op::max_pool; Option = constnet::dsl::no_bias_t\]|<constnet::op::max_pool, constnet::dsl::no_bias_t>)
// expect-errors: 1
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;

inline constexpr auto net = cn::input<1, 28, 28> | cn::max_pool<2>(cn::no_bias);
