// Shared by the fuzz targets: the loaders read files, so every input is
// written to a file (in /dev/shm when there is one) and given to the real
// reader, the path a user's file takes. A loader may reject an input only
// with constnet::error; any other exception, crash, leak or sanitizer
// report is a finding.
#pragma once

#include <constnet/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace constnet::fuzz {

inline const std::filesystem::path& input_path(const char* target) {
    static const std::filesystem::path path = [&] {
        std::error_code ec;
        const auto dir = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                        : std::filesystem::temp_directory_path();
        return dir / ("constnet_fuzz_" + std::string(target) + "_" + std::to_string(::getpid()));
    }();
    return path;
}

inline void write_input(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::abort();  // the harness itself failed, not the loader
    }
}

// Runs `load` on the input as a file; constnet::error is a correct rejection.
template <class Load>
int run(const char* target, const std::uint8_t* data, std::size_t size, Load&& load) {
    const auto& path = input_path(target);
    write_input(path, data, size);
    try {
        load(path);
    } catch (const constnet::error&) {
    }
    return 0;
}

}  // namespace constnet::fuzz
