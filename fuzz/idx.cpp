// Fuzz target: the IDX reader (Fashion-MNIST images and labels, plain or gzip).
#include "fuzz_target.hpp"

#include <constnet/idx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return constnet::fuzz::run("idx", data, size, [](const auto& path) {
        try {
            constnet::idx::read_images(path);
        } catch (const constnet::error&) {
        }
        constnet::idx::read_labels(path);
    });
}
