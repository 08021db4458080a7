// IDX reader: the real Fashion-MNIST files (expected values computed
// independently in Python, see below) and hand-made broken files, plain and gzipped.
#include <constnet/error.hpp>
#include <constnet/idx.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;

// One directory per test, with this file's prefix.
struct temp_dir : constnet::test::temp_dir {
    temp_dir() : constnet::test::temp_dir("idx") {}
};

const fs::path fmnist = constnet::data::fashion_mnist_default_dir;

void write_plain(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

void write_gz(const fs::path& p, const std::string& bytes) {
    gzFile g = gzopen(p.c_str(), "wb");
    REQUIRE(g != nullptr);
    REQUIRE(gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(g) == Z_OK);
}

std::string read_plain(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string images_file(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const std::string& pixels) {
    return be32(0x00000803) + be32(count) + be32(rows) + be32(cols) + pixels;
}

std::string labels_file(const std::string& labels) {
    return be32(0x00000801) + be32(static_cast<std::uint32_t>(labels.size())) + labels;
}

std::string iota_bytes(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + 1);
    return s;
}

std::uint64_t sum(const std::vector<std::uint8_t>& v) { return std::accumulate(v.begin(), v.end(), std::uint64_t{0}); }

std::array<int, 10> histogram(const std::vector<std::uint8_t>& labels) {
    std::array<int, 10> h{};
    for (const auto l : labels) ++h.at(l);
    return h;
}

}  // namespace

// Expected values below were computed with /usr/bin/python3 (gzip + struct,
// nothing from this project):
//   d = gzip.open('t10k-images-idx3-ubyte.gz').read(); px = d[16:]
//   sum(px) == 573469082, px[14*28+14] == 110, px[20*28+10] == 126,
//   sum(px[9999*784:]) == 24390; labels[:10] == [9,2,1,1,6,1,4,6,5,7], 1000 per class.
//   train: sum(px) == 3431114169, px[14*28+14] == 217,
//   labels[:10] == [9,0,0,3,0,2,7,2,5,5], 6000 per class.
TEST_CASE("Fashion-MNIST t10k reads as 10000 labelled 28x28 images", "[runtime][idx]") {
    const auto images = constnet::idx::read_images(fmnist / "t10k-images-idx3-ubyte.gz");
    REQUIRE(images.count == 10000);
    REQUIRE(images.rows == 28);
    REQUIRE(images.cols == 28);
    REQUIRE(images.pixels.size() == 10000u * 28 * 28);
    CHECK(sum(images.pixels) == 573469082u);
    CHECK(images.pixels[14 * 28 + 14] == 110);
    CHECK(images.pixels[20 * 28 + 10] == 126);
    const std::vector<std::uint8_t> last(images.pixels.end() - 784, images.pixels.end());
    CHECK(sum(last) == 24390u);

    const auto labels = constnet::idx::read_labels(fmnist / "t10k-labels-idx1-ubyte.gz");
    REQUIRE(labels.size() == 10000);
    CHECK(std::vector<std::uint8_t>(labels.begin(), labels.begin() + 10) ==
          std::vector<std::uint8_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    CHECK(histogram(labels) == std::array<int, 10>{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000});
    CHECK(constnet::data::fashion_mnist_text_labels()[labels[0]] == "ankle boot");
}

TEST_CASE("Fashion-MNIST train split has 60000 labelled images", "[runtime][idx]") {
    const auto d = constnet::data::load_fashion_mnist(fmnist, "train");
    REQUIRE(d.images.count == 60000);
    REQUIRE(d.images.rows == 28);
    REQUIRE(d.images.cols == 28);
    REQUIRE(d.labels.size() == 60000);
    CHECK(d.labels[0] == 9);
    CHECK(std::vector<std::uint8_t>(d.labels.begin(), d.labels.begin() + 10) ==
          std::vector<std::uint8_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    CHECK(histogram(d.labels) == std::array<int, 10>{6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000});
    CHECK(sum(d.images.pixels) == 3431114169u);
    CHECK(d.images.pixels[14 * 28 + 14] == 217);
}

TEST_CASE("Fashion-MNIST text labels follow d2l", "[runtime][idx]") {
    const auto& t = constnet::data::fashion_mnist_text_labels();
    CHECK(t[0] == "t-shirt");
    CHECK(t[1] == "trouser");
    CHECK(t[6] == "shirt");
    CHECK(t[9] == "ankle boot");
}

TEST_CASE("IDX reads plain and gzipped files alike, row-major", "[runtime][idx]") {
    temp_dir dir;
    const auto pixels = iota_bytes(2 * 3 * 4);
    write_plain(dir / "plain", images_file(2, 3, 4, pixels));
    write_gz(dir / "packed.gz", images_file(2, 3, 4, pixels));
    for (const auto* name : {"plain", "packed.gz"}) {
        INFO(name);
        const auto im = constnet::idx::read_images(dir / name);
        CHECK(im.count == 2);
        CHECK(im.rows == 3);
        CHECK(im.cols == 4);
        CHECK(std::string(im.pixels.begin(), im.pixels.end()) == pixels);
    }
    write_gz(dir / "labels.gz", labels_file("\x03\x01\x04"));
    CHECK(constnet::idx::read_labels(dir / "labels.gz") == std::vector<std::uint8_t>{3, 1, 4});
}

TEST_CASE("IDX reader rejects broken headers and sizes", "[runtime][idx]") {
    temp_dir dir;
    const auto check = [&](const std::string& name, const std::string& bytes, const std::string& message,
                           bool labels = false) {
        INFO(name);
        const auto p = dir / name;
        write_plain(p, bytes);
        // Catch2 v2 combined matchers refer to their parts, so they are spelled inline, never stored.
        const auto where = "IDX file '" + p.string() + "'";
        if (labels) REQUIRE_THROWS_WITH(constnet::idx::read_labels(p), Contains(where) && Contains(message));
        else REQUIRE_THROWS_WITH(constnet::idx::read_images(p), Contains(where) && Contains(message));
    };
    check("labels_as_images", labels_file("\x01\x02"),
          "has 1 dimensions (magic 0x00000801), expected 3 (magic 0x00000803, an images file)");
    check("images_as_labels", images_file(1, 1, 1, "x"),
          "has 3 dimensions (magic 0x00000803), expected 1 (magic 0x00000801, a labels file)", true);
    check("int32_type", be32(0x00000C03) + be32(1) + be32(1) + be32(1) + "x",
          "has magic 0x00000C03, expected 0x00000803");
    check("zip_archive", std::string("PK\x03\x04garbage", 11), "has magic 0x504B0304, expected 0x00000803");
    check("short_magic", std::string("\0\0\x08", 3), "is too short: expected 4 bytes of header, found 3");
    check("short_header", be32(0x00000803) + be32(1) + std::string("\0\0", 2),
          "is too short: expected 16 bytes of header, found 10");
    check("zero_images", images_file(0, 28, 28, ""), "has 0 images, expected 1 to 100000000");
    check("too_many_images", images_file(200'000'000, 28, 28, ""), "has 200000000 images, expected 1 to 100000000");
    check("zero_rows", images_file(1, 0, 28, ""), "has images of 0x28 pixels, expected sides of 1 to 4096");
    check("huge_cols", images_file(1, 28, 5000, ""), "has images of 28x5000 pixels, expected sides of 1 to 4096");
    check("zero_labels", labels_file(""), "has 0 labels, expected 1 to 100000000", true);
    // Largest header the bounds allow; the reader must not allocate 1.6 PB up front.
    check("lying_header", images_file(100'000'000, 4096, 4096, "0123456789"),
          "is too short: expected 1677721600000000 bytes of pixels, found 10");
    check("short_pixels", images_file(2, 2, 2, "12345"), "is too short: expected 8 bytes of pixels, found 5");
    check("trailing_pixels", images_file(2, 2, 2, "12345678abc"),
          "has 3 bytes of trailing data after the expected 8 bytes of pixels");
    check("short_labels", be32(0x00000801) + be32(5) + "\x01\x02", "expected 5 bytes of labels, found 2", true);
    check("trailing_labels", labels_file("\x01\x02") + "\x03", "has 1 bytes of trailing data", true);

    const auto missing = dir / "missing.gz";
    REQUIRE_THROWS_WITH(constnet::idx::read_images(missing), Contains(missing.string()) && Contains("does not exist"));
}

TEST_CASE("IDX reader reports broken gzip streams", "[runtime][idx]") {
    temp_dir dir;
    const auto where = [](const fs::path& p) { return "IDX file '" + p.string() + "'"; };

    SECTION("complete gzip stream, too little data inside") {
        const auto p = dir / "short.gz";
        write_gz(p, images_file(2, 2, 2, "12345"));
        REQUIRE_THROWS_WITH(constnet::idx::read_images(p),
                            Contains(where(p)) && Contains("is too short: expected 8 bytes of pixels, found 5"));
    }
    SECTION("the real labels file cut in half") {
        const auto whole = read_plain(fmnist / "t10k-labels-idx1-ubyte.gz");
        const auto p = dir / "half-labels.gz";
        write_plain(p, whole.substr(0, whole.size() / 2));
        REQUIRE_THROWS_WITH(constnet::idx::read_labels(p),
                            Contains(where(p)) && Contains("gzip stream is truncated (unexpected end of file) after") &&
                                Contains("of 10000 expected bytes of labels"));
    }
    SECTION("a synthetic images file cut in half") {
        const auto whole_path = dir / "whole.gz";
        // Random pixels so the compressed stream is long and cutting it loses data.
        std::mt19937 rng(1);
        std::string pixels(100 * 28 * 28, '\0');
        for (auto& c : pixels) c = static_cast<char>(rng());
        write_gz(whole_path, images_file(100, 28, 28, pixels));
        REQUIRE(constnet::idx::read_images(whole_path).pixels.size() == pixels.size());
        const auto whole = read_plain(whole_path);
        const auto p = dir / "half-images.gz";
        write_plain(p, whole.substr(0, whole.size() / 2));
        REQUIRE_THROWS_WITH(constnet::idx::read_images(p), Contains(where(p)) && Contains("gzip stream is truncated"));
    }
    SECTION("trailer cut: every data byte is there, the stream still is truncated") {
        const auto whole_path = dir / "whole-labels.gz";
        write_gz(whole_path, labels_file("\x01\x02\x03\x04"));
        const auto whole = read_plain(whole_path);
        const auto p = dir / "no-trailer.gz";
        write_plain(p, whole.substr(0, whole.size() - 4));  // drop ISIZE, keep CRC32
        REQUIRE_THROWS_WITH(constnet::idx::read_labels(p), Contains(where(p)) && Contains("gzip stream is truncated"));
    }
    SECTION("corrupt CRC") {
        const auto whole_path = dir / "crc-labels.gz";
        write_gz(whole_path, labels_file("\x01\x02\x03\x04"));
        auto bytes = read_plain(whole_path);
        bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0x55);  // first CRC32 byte
        const auto p = dir / "bad-crc.gz";
        write_plain(p, bytes);
        REQUIRE_THROWS_WITH(constnet::idx::read_labels(p),
                            Contains(where(p)) && Contains("gzip stream is corrupt (incorrect data check)"));
    }
}

TEST_CASE("Fashion-MNIST loader checks counts, labels and split", "[runtime][idx]") {
    temp_dir dir;
    const auto images = dir / "t10k-images-idx3-ubyte.gz";
    const auto labels = dir / "t10k-labels-idx1-ubyte.gz";
    write_gz(images, images_file(3, 2, 2, iota_bytes(12)));

    SECTION("count mismatch") {
        write_gz(labels, labels_file("\x01\x02"));
        REQUIRE_THROWS_WITH(constnet::data::load_fashion_mnist(dir.path, "t10k"),
                            Contains(images.string()) && Contains(labels.string()) &&
                                Contains("disagree: 3 images but 2 labels"));
    }
    SECTION("label out of range") {
        write_gz(labels, labels_file(std::string("\x01\x0A\x02", 3)));
        REQUIRE_THROWS_WITH(constnet::data::load_fashion_mnist(dir.path, "t10k"),
                            Contains(labels.string()) &&
                                Contains("label 10 at index 1 is not a Fashion-MNIST class, expected 0 to 9"));
    }
    SECTION("valid small split") {
        write_gz(labels, labels_file(std::string("\x00\x09\x05", 3)));
        const auto d = constnet::data::load_fashion_mnist(dir.path, "t10k");
        CHECK(d.images.count == 3);
        CHECK(d.labels == std::vector<std::uint8_t>{0, 9, 5});
    }
    SECTION("unknown split and missing files") {
        REQUIRE_THROWS_WITH(constnet::data::load_fashion_mnist(dir.path, "test"),
                            Contains("unknown Fashion-MNIST split 'test'") && Contains("'train' or 't10k'"));
        const auto train_images = dir / "train-images-idx3-ubyte.gz";
        REQUIRE_THROWS_WITH(constnet::data::load_fashion_mnist(dir.path, "train"),
                            Contains(train_images.string()) && Contains("file does not exist"));
    }
}
