// LeNet once more under another name, compiled for two targets with run-time
// dispatch (tests/aot/CMakeLists.txt): the host's features and SSE4.1.
#pragma once

#include "../../examples/lenet.hpp"

inline constexpr auto lenet_dispatch = lenet;
