// Networks compiled into the codegen executable. constnet_add_network()
// generates one small translation unit per network that includes the user's
// header and registers the network's description here; the executable then
// lowers whichever network the build asks for. No Halide in this header, so
// those units compile fast.
#pragma once

#include <constnet/graph.hpp>
#include <span>
#include <string>
#include <vector>

namespace constnet::codegen {

struct registered_network {
    std::string name;
    std::vector<layer_desc> nodes;
};

std::vector<registered_network>& registry();

struct registration {
    registration(std::string name, std::span<const layer_desc> nodes) {
        registry().push_back({std::move(name), {nodes.begin(), nodes.end()}});
    }
};

}  // namespace constnet::codegen
