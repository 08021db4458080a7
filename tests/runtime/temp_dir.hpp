// A fresh directory per test, removed afterwards; pid and a random number keep
// parallel ctest processes apart.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <unistd.h>

namespace constnet::test {

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& prefix) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               fmt::format("constnet_test_{}_{}_{}_{:08x}", prefix, ::getpid(), counter++, std::random_device{}());
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace constnet::test
