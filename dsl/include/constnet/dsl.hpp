// constnet's network DSL: a network is one constexpr value whose type carries
// every shape; mistakes are compile errors naming the rule, layer and numbers.
//
//   namespace cn = constnet::dsl;
//   inline constexpr auto net = cn::input<1, 28, 28> | cn::conv2d<6, 5>(cn::padding<2>) | cn::sigmoid;
#pragma once

#include <constnet/dsl/layers.hpp>
#include <constnet/dsl/network.hpp>
#include <constnet/dsl/summary.hpp>
#include <constnet/graph.hpp>

namespace constnet::dsl {
template <class Net>
    requires is_network<Net>
std::string summary(const Net& net) {
    return constnet::summary(net.describe());
}
}  // namespace constnet::dsl
