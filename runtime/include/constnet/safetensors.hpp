#pragma once

// Weights files in the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON describing each
// tensor (dtype, shape, byte range in the data region), then the data region.
// Only F32 is supported: every parameter of a constnet network is float.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace constnet::safetensors {

struct tensor {
    std::vector<std::int64_t> shape;  // row-major; {} is a scalar
    std::vector<float> data;          // product(shape) values
};

struct file {
    std::map<std::string, tensor> tensors;
    std::map<std::string, std::string> metadata;  // the "__metadata__" entry
};

// Reads and validates a whole file; throws constnet::error naming the file,
// the tensor, what was expected and what was found. The data region must be
// covered exactly by the tensors (no holes, no overlap), as the format requires.
file read(const std::filesystem::path& path);

// Writes atomically: a temporary file in the same directory, fsync'ed, then
// renamed over `path`, so a failure leaves any previous file intact. Tensors
// are laid out in name order, packed; the header is padded to 8 bytes.
void write(const std::filesystem::path& path, const file& f);

}  // namespace constnet::safetensors
