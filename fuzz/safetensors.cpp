// Fuzz target: the safetensors reader (weights files).
#include "fuzz_target.hpp"

#include <constnet/safetensors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return constnet::fuzz::run("safetensors", data, size, [](const auto& path) { constnet::safetensors::read(path); });
}
