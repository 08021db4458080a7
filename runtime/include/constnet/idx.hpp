#pragma once

// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a big-endian magic 0x0000TTDD (TT = 0x08, unsigned bytes; DD = number of
// dimensions), DD big-endian u32 sizes, then the data. Files may be gzipped.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace constnet::idx {

struct images {
    std::int32_t count = 0, rows = 0, cols = 0;
    std::vector<std::uint8_t> pixels;  // count*rows*cols, row-major
};

// Both read gzipped or plain files and throw constnet::error naming the file on
// any mismatch: magic, sizes, truncated or trailing data, corrupt gzip stream.
images read_images(const std::filesystem::path& path);               // magic 0x00000803
std::vector<std::uint8_t> read_labels(const std::filesystem::path& path);  // magic 0x00000801

}  // namespace constnet::idx

namespace constnet::data {

struct labelled_images {
    idx::images images;
    std::vector<std::uint8_t> labels;
};

// Reads <dir>/<split>-images-idx3-ubyte.gz and <dir>/<split>-labels-idx1-ubyte.gz,
// split being "train" (60000) or "t10k" (10000); throws if the counts differ or
// a label is not a class index (< 10).
labelled_images load_fashion_mnist(const std::filesystem::path& dir, std::string_view split);

inline constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

// The class names in label order, as d2l's get_fashion_mnist_labels spells them.
const std::array<std::string_view, 10>& fashion_mnist_text_labels();

}  // namespace constnet::data
