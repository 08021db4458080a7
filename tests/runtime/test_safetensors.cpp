// safetensors reader and writer: round trips, the exact byte layout of a small
// file (computed here by hand from the format description), every kind of
// corrupt file, and atomic replacement.
#include <constnet/error.hpp>
#include <constnet/safetensors.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace st = constnet::safetensors;
using Catch::Contains;

// One directory per test, with this file's prefix.
struct temp_dir : constnet::test::temp_dir {
    temp_dir() : constnet::test::temp_dir("st") {}
};

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string le64(std::uint64_t v) {
    std::string s;
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return s;
}

// Little-endian bytes of F32 values given as IEEE-754 bit patterns.
std::string f32_le(std::initializer_list<std::uint32_t> bits) {
    std::string s;
    for (const auto b : bits)
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((b >> (8 * i)) & 0xFF));
    return s;
}

// A file made by hand: length prefix, header text as given, data bytes.
std::string raw_file(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

std::uint32_t bits_of(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& v) {
    std::vector<std::uint32_t> out;
    for (const float f : v) out.push_back(bits_of(f));
    return out;
}

float from_bits(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

std::vector<fs::path> listing(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
    return out;
}

}  // namespace

TEST_CASE("safetensors round trip is bit-exact", "[runtime][safetensors]") {
    temp_dir dir;
    st::file f;
    using lim = std::numeric_limits<float>;
    const float nan_with_payload = from_bits(0x7FC00001);
    f.tensors["0.weight"] = {{2, 3}, {1.5f, -0.0f, lim::infinity(), nan_with_payload, lim::denorm_min(), lim::max()}};
    f.tensors["0.bias"] = {{3}, {0.25f, -1.0f, 3e-7f}};
    f.tensors["scalar"] = {{}, {42.0f}};
    f.tensors["empty"] = {{0, 5}, {}};
    std::vector<float> big(4 * 5 * 6);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.1f - 3.0f;
    f.tensors["z.big"] = {{4, 5, 6}, big};
    f.metadata = {{"format", "pt"}, {"note", "quotes \" backslash \\ and \xC3\xBCnicode"}};

    const auto p = dir / "model.safetensors";
    st::write(p, f);
    const auto g = st::read(p);

    REQUIRE(g.metadata == f.metadata);
    REQUIRE(g.tensors.size() == f.tensors.size());
    for (const auto& [name, t] : f.tensors) {
        INFO("tensor " << name);
        REQUIRE(g.tensors.count(name) == 1);
        CHECK(g.tensors.at(name).shape == t.shape);
        CHECK(bits_of(g.tensors.at(name).data) == bits_of(t.data));
    }
    // Writing what was read reproduces the file byte for byte.
    const auto q = dir / "again.safetensors";
    st::write(q, g);
    CHECK(read_bytes(q) == read_bytes(p));
    CHECK(listing(dir.path).size() == 2);
}

TEST_CASE("safetensors writer produces the documented byte layout", "[runtime][safetensors]") {
    temp_dir dir;
    st::file f;
    f.tensors["b"] = {{1, 1}, {-0.5f}};
    f.tensors["a"] = {{2}, {1.0f, 2.0f}};
    f.metadata["format"] = "pt";
    const auto p = dir / "layout.safetensors";
    st::write(p, f);

    // From the format description: metadata first, tensors in name order with
    // packed offsets, compact JSON, spaces up to a multiple of 8, u64 LE length.
    std::string header =
        R"({"__metadata__":{"format":"pt"},)"
        R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})";
    REQUIRE(header.size() == 141);
    header += std::string(3, ' ');  // 141 -> 144
    const std::string data = f32_le({0x3F800000, 0x40000000, 0xBF000000});  // 1.0, 2.0, -0.5
    const std::string expected = le64(144) + header + data;

    const auto bytes = read_bytes(p);
    REQUIRE(bytes.size() == 8 + 144 + 12);
    CHECK(bytes.substr(0, 8) == le64(144));
    CHECK(bytes.substr(8, 144) == header);
    CHECK(bytes.substr(152) == data);
    CHECK(bytes == expected);
}

TEST_CASE("safetensors reader accepts files from other writers", "[runtime][safetensors]") {
    temp_dir dir;
    // Entries out of offset order, extra whitespace and padding, no metadata,
    // an empty tensor at the end: all legal.
    const std::string header =
        R"({ "w2": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},)"
        R"( "w1": {"shape": [2], "dtype": "F32", "data_offsets": [0, 8]},)"
        R"( "e": {"dtype": "F32", "shape": [3, 0], "data_offsets": [12, 12]} }    )";
    const auto p = dir / "other.safetensors";
    write_bytes(p, raw_file(header, f32_le({0x3F800000, 0xC0000000, 0x40400000})));
    const auto f = st::read(p);
    REQUIRE(f.tensors.size() == 3);
    CHECK(f.metadata.empty());
    CHECK(f.tensors.at("w1").data == std::vector<float>{1.0f, -2.0f});
    CHECK(f.tensors.at("w2").data == std::vector<float>{3.0f});
    CHECK(f.tensors.at("e").shape == std::vector<std::int64_t>{3, 0});
    CHECK(f.tensors.at("e").data.empty());
}

TEST_CASE("safetensors reader rejects corrupt files with a precise message", "[runtime][safetensors]") {
    struct bad_case {
        std::string name, bytes, message;
    };
    const std::string w8 = f32_le({0, 0});  // 8 bytes of data
    const auto one = [](const std::string& entry) { return fmt::format(R"({{"w":{}}})", entry); };
    const std::vector<bad_case> cases = {
        {"too_short", "\x01\x02\x03\x04\x05", "is 5 bytes long, shorter than the 8-byte header length"},
        {"header_past_end", le64(1000) + "{}", "declares a 1000-byte header, but only 2 bytes follow"},
        {"header_length_2_pow_63", le64(std::uint64_t{1} << 63) + "{}",
         "declares a 9223372036854775808-byte header, but only 2 bytes follow"},
        {"not_json", raw_file(R"({"w": {"dtype")", w8), "header is not valid JSON"},
        {"not_object", raw_file("[1, 2]", ""), "header is an array, expected a JSON object"},
        {"entry_not_object", raw_file(one("3"), ""), "entry 'w' is a number (3), expected an object"},
        {"no_dtype", raw_file(one(R"({"shape":[2],"data_offsets":[0,8]})"), w8), "tensor 'w' has no \"dtype\" field"},
        {"no_shape", raw_file(one(R"({"dtype":"F32","data_offsets":[0,8]})"), w8), "tensor 'w' has no \"shape\" field"},
        {"no_offsets", raw_file(one(R"({"dtype":"F32","shape":[2]})"), w8),
         "tensor 'w' has no \"data_offsets\" field"},
        {"f16", raw_file(R"({"0.weight":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", f32_le({0})),
         "tensor '0.weight' has dtype F16, expected F32"},
        {"dtype_number", raw_file(one(R"({"dtype":32,"shape":[2],"data_offsets":[0,8]})"), w8),
         "tensor 'w' has dtype 32, expected the string \"F32\""},
        {"negative_dim", raw_file(one(R"({"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]})"), w8),
         "tensor 'w' has shape [2,-1] with dimension -1, expected non-negative integers"},
        {"fractional_dim", raw_file(one(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})"), w8),
         "tensor 'w' has shape [2.5] with dimension 2.5, expected non-negative integers"},
        {"shape_not_array", raw_file(one(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), w8),
         "tensor 'w' has shape 2, expected an array of non-negative integers"},
        {"shape_overflow",
         raw_file(one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"), w8),
         "whose size overflows 64 bits"},
        {"one_offset", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), w8),
         "tensor 'w' has data_offsets [0], expected two non-negative integers [begin, end]"},
        {"string_offsets", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":["0","8"]})"), w8),
         "tensor 'w' has data_offsets [\"0\",\"8\"], expected two non-negative integers"},
        {"negative_offset", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})"), w8),
         "expected two non-negative integers"},
        {"begin_after_end", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), w8),
         "tensor 'w' has data_offsets [8, 0], expected begin <= end"},
        {"end_past_data", raw_file(one(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), w8),
         "tensor 'w' has data_offsets [0, 16] ending beyond the data region of 8 bytes"},
        {"size_mismatch", raw_file(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), w8),
         "tensor 'w' has shape [3] (3 F32 values, 12 bytes) but data_offsets [0, 8] span 8 bytes"},
        {"overlap",
         raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  f32_le({0, 0, 0})),
         "tensors 'a' [0, 8] and 'b' [4, 12] overlap"},
        {"hole",
         raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  f32_le({0, 0, 0})),
         "has 4 unused bytes at offset 4 before tensor 'b'"},
        {"trailing_data", raw_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), w8),
         "has 4 bytes of data after the last tensor"},
        {"duplicate_tensor",
         raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  w8),
         "header has the key \"w\" twice in one object, expected unique names"},
        {"duplicate_field", raw_file(one(R"({"dtype":"F32","shape":[2],"shape":[1],"data_offsets":[0,8]})"), w8),
         "header has the key \"shape\" twice"},
        {"non_utf8_name", raw_file("{\"w\xFF\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", w8),
         "header is not valid JSON: syntax error while parsing object key - invalid string: ill-formed UTF-8 byte"},
        {"non_utf8_metadata", raw_file("{\"__metadata__\":{\"k\":\"\xC3\x28\"}}", ""),
         "ill-formed UTF-8 byte"},
        {"number_overflow", raw_file(one(R"({"dtype":"F32","shape":[1e400],"data_offsets":[0,8]})"), w8),
         "header is not valid JSON: number overflow parsing '1e400'"},
        {"metadata_number", raw_file(R"({"__metadata__":{"epochs":10}})", ""),
         "metadata value for 'epochs' is a number (10), expected a string"},
        {"metadata_not_object", raw_file(R"({"__metadata__":"pt"})", ""),
         "__metadata__ is a string, expected an object of strings"},
    };
    temp_dir dir;
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            const auto p = dir / (c.name + ".safetensors");
            write_bytes(p, c.bytes);
            REQUIRE_THROWS_AS(st::read(p), constnet::error);
            REQUIRE_THROWS_WITH(st::read(p), Contains("safetensors file '" + p.string() + "'") && Contains(c.message));
        }
    }
}

TEST_CASE("safetensors reader reports a missing file or a directory", "[runtime][safetensors]") {
    temp_dir dir;
    const auto missing = dir / "missing.safetensors";
    REQUIRE_THROWS_WITH(st::read(missing), Contains(missing.string()) && Contains("file does not exist"));
    const auto sub = dir / "sub.safetensors";
    fs::create_directory(sub);
    REQUIRE_THROWS_WITH(st::read(sub), Contains(sub.string()) && Contains("is not a regular file"));
}

TEST_CASE("safetensors write is atomic and validates first", "[runtime][safetensors]") {
    temp_dir dir;
    const auto p = dir / "w.safetensors";
    st::file good;
    good.tensors["w"] = {{2, 2}, {1, 2, 3, 4}};
    st::write(p, good);
    const auto before = read_bytes(p);

    SECTION("shape/data mismatch leaves the previous file intact") {
        st::file bad;
        bad.tensors["w"] = {{2, 2}, {1, 2, 3}};
        REQUIRE_THROWS_WITH(st::write(p, bad),
                            Contains("cannot write safetensors file '" + p.string() + "'") &&
                                Contains("tensor 'w' has shape [2, 2] (4 values) but 3 data values"));
        CHECK(read_bytes(p) == before);
        CHECK(st::read(p).tensors.at("w").data == std::vector<float>{1, 2, 3, 4});
        CHECK(listing(dir.path) == std::vector<fs::path>{"w.safetensors"});
    }
    SECTION("negative dimension, reserved name and invalid UTF-8 are refused") {
        st::file neg;
        neg.tensors["w"] = {{-1, 2}, {}};
        REQUIRE_THROWS_WITH(st::write(p, neg), Contains(p.string()) && Contains("tensor 'w' has shape [-1, 2]"));
        st::file reserved;
        reserved.tensors["__metadata__"] = {{1}, {0}};
        REQUIRE_THROWS_WITH(st::write(p, reserved), Contains(p.string()) && Contains("reserved for metadata"));
        st::file utf8;
        utf8.tensors["bad\xFFname"] = {{1}, {0}};
        REQUIRE_THROWS_WITH(st::write(p, utf8), Contains(p.string()) && Contains("not valid UTF-8"));
        CHECK(read_bytes(p) == before);
        CHECK(listing(dir.path).size() == 1);
    }
    SECTION("a failing rename removes the temporary file") {
        // A non-empty directory at the target cannot be replaced by rename(2).
        const auto target = dir / "taken.safetensors";
        fs::create_directory(target);
        write_bytes(target / "keep", "x");
        REQUIRE_THROWS_WITH(st::write(target, good),
                            Contains(target.string()) && Contains("renaming the temporary file over it failed"));
        CHECK(fs::is_directory(target));
        CHECK(listing(dir.path).size() == 2);  // w.safetensors and the directory, no leftover temporary
    }
    SECTION("a missing directory is reported with the errno text") {
        const auto nowhere = dir / "no" / "such" / "w.safetensors";
        REQUIRE_THROWS_WITH(st::write(nowhere, good),
                            Contains(nowhere.string()) && Contains("No such file or directory"));
    }
    SECTION("overwriting with valid content replaces the file") {
        st::file next;
        next.tensors["v"] = {{1}, {7}};
        st::write(p, next);
        const auto f = st::read(p);
        CHECK(f.tensors.count("w") == 0);
        CHECK(f.tensors.at("v").data == std::vector<float>{7});
        CHECK(listing(dir.path).size() == 1);
    }
}
